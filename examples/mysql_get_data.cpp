// examples/mysql_get_data.cpp: the aiomysql program of the Python tutorials,
// ported line for line: a pool, ten tasks that each acquire a connection,
// open a cursor, run a query and print every row, then the pool closed.
//
//   async def get_data(pool):
//       async with pool.acquire() as connection:
//           async with connection.cursor() as cursor:
//               await cursor.execute('SELECT some_column FROM some_table;')
//               print(await cursor.fetchall())
//   pool = await aiomysql.create_pool(host='127.0.0.1', port=3306, user='root', password='pass', db='testdb')
//   await asyncio.gather(*[get_data(pool) for _ in range(10)])
//   pool.close(); await pool.wait_closed()
//
// mysql::repr prints the rows as Python prints aiomysql's tuple of tuples,
// so both programs print the same lines (examples/mysql_get_data.py is the
// Python original; tests/mysql/aiomysql_test.cpp runs both and compares).
// The server is the one examples/run_examples.sh starts
// (scripts/servers/mariadb.sh): its address is in CORIO_MYSQL_HOST,
// CORIO_MYSQL_PORT, CORIO_MYSQL_USER, CORIO_MYSQL_PASSWORD, CORIO_MYSQL_DB.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <corio/corio.hpp>
#include <corio/mysql.hpp>

namespace mysql = corio::mysql;

corio::task<> get_data(mysql::pool& pool) {
    co_await corio::with(pool.acquire(), [](mysql::connection& connection) -> corio::task<> {
        co_await corio::with(connection.cursor(), [](mysql::cursor& cursor) -> corio::task<> {
            co_await cursor.execute("SELECT some_column FROM some_table;");
            std::puts(mysql::repr(co_await cursor.fetchall()).c_str());
        });
    });
}

std::string env(const char* name) {
    const char* v = std::getenv(name);
    if (!v) {
        std::fprintf(stderr, "%s is not set: run this through examples/run_examples.sh (make demo)\n", name);
        std::exit(2);
    }
    return v;
}

// Not part of the Python program: some_table, with the rows both print.
corio::task<> create_some_table(const mysql::pool_options& options) {
    auto conn = co_await mysql::connect(options.connection());
    co_await corio::with(conn.cursor(), [](mysql::cursor& cursor) -> corio::task<> {
        co_await cursor.execute("DROP TABLE IF EXISTS some_table");
        co_await cursor.execute("CREATE TABLE some_table (id INT PRIMARY KEY, some_column VARCHAR(50))");
        co_await cursor.execute("INSERT INTO some_table VALUES (1, 'alpha'), (2, 'O''Brien'), (3, NULL), (4, 'back\\\\slash'), (5, 'ünïcødé ✓')");
    });
    co_await conn.commit();
    co_await conn.close();
}

corio::task<> amain() {
    mysql::pool_options options{.host = env("CORIO_MYSQL_HOST"),
                                .port = static_cast<std::uint16_t>(std::stoi(env("CORIO_MYSQL_PORT"))),
                                .user = env("CORIO_MYSQL_USER"),
                                .password = env("CORIO_MYSQL_PASSWORD"),
                                .db = env("CORIO_MYSQL_DB")};
    co_await create_some_table(options);

    auto pool = co_await mysql::create_pool(options);
    std::vector<corio::task<>> tasks;
    for (int i = 0; i < 10; ++i) tasks.push_back(get_data(pool));
    co_await corio::gather(std::move(tasks));
    pool.close();
    co_await pool.wait_closed();
}

int main() { corio::run(amain()); }
