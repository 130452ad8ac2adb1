// corio::mysql against aiomysql itself (Debian's python3-aiomysql, run by
// /usr/bin/python3 on the same server): examples/mysql_get_data.py, the
// Python original of examples/mysql_get_data.cpp, prints what the C++ port
// prints; and for rows of every type, mysql::repr of corio's rows (read as
// plain SQL and through a prepared statement) is exactly what Python prints
// for aiomysql's.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <corio/corio.hpp>
#include <corio/mysql.hpp>

#include "mariadb_server.hpp"

namespace mysql = corio::mysql;
using corio_mysql_test::server;

namespace {

const std::string python = "/usr/bin/python3";

std::string repo_path(const char* relative) {
    return (std::filesystem::path(__FILE__).parent_path() / ".." / ".." / relative).string();
}

// Runs `command` with the server's CORIO_MYSQL_* variables; its stdout.
std::string run_with_server_env(const std::string& command) {
    const auto& s = server();
    const std::string full = "CORIO_MYSQL_HOST=" + s.host + " CORIO_MYSQL_PORT=" + std::to_string(s.port) +
                             " CORIO_MYSQL_USER=" + s.user + " CORIO_MYSQL_PASSWORD=" + s.password +
                             " CORIO_MYSQL_DB=" + s.db + " " + command;
    FILE* p = ::popen(full.c_str(), "r");
    if (!p) return "popen failed";
    std::string out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    const int status = ::pclose(p);
    if (status != 0) out += "\n(exit status " + std::to_string(status) + ")";
    return out;
}

bool have_aiomysql() { return std::system((python + " -c 'import aiomysql' 2>/dev/null").c_str()) == 0; }

TEST(mysql_aiomysql, the_example_prints_what_aiomysql_prints) {
    if (!have_aiomysql()) GTEST_SKIP() << "python3-aiomysql is not installed";
    // The C++ port's get_data, as examples/mysql_get_data.cpp has it, on the same table.
    auto body = []() -> corio::task<std::string> {
        auto conn = co_await mysql::connect(server().options());
        auto setup = [](mysql::cursor& cursor) -> corio::task<> {
            co_await cursor.execute("DROP TABLE IF EXISTS some_table");
            co_await cursor.execute("CREATE TABLE some_table (id INT PRIMARY KEY, some_column VARCHAR(50))");
            co_await cursor.execute(
                "INSERT INTO some_table VALUES (1, 'alpha'), (2, 'O''Brien'), (3, NULL), (4, 'back\\\\slash'), (5, 'ünïcødé ✓')");
        };
        co_await corio::with(conn.cursor(), setup);
        co_await conn.commit();
        auto pool = co_await mysql::create_pool(server().pool_options());
        std::string printed;
        // The lambdas are named before their co_await (g++ 12, README).
        auto query = [&](mysql::cursor& cursor) -> corio::task<> {
            co_await cursor.execute("SELECT some_column FROM some_table;");
            printed += mysql::repr(co_await cursor.fetchall()) + "\n";
        };
        auto use = [&](mysql::connection& connection) -> corio::task<> { co_await corio::with(connection.cursor(), query); };
        auto get_data = [&]() -> corio::task<> { co_await corio::with(pool.acquire(), use); };
        std::vector<corio::task<>> tasks;
        for (int i = 0; i < 10; ++i) tasks.push_back(get_data());
        co_await corio::gather(std::move(tasks));
        pool.close();
        co_await pool.wait_closed();
        co_return printed;
    };
    const std::string ours = corio::run(body());
    const std::string theirs = run_with_server_env(python + " " + repo_path("examples/mysql_get_data.py"));
    EXPECT_EQ(ours, theirs);
    std::string line = "(('alpha',), (\"O'Brien\",), (None,), ('back\\\\slash',), ('ünïcødé ✓',))\n";
    std::string ten;
    for (int i = 0; i < 10; ++i) ten += line;
    EXPECT_EQ(ours, ten);
}

TEST(mysql_aiomysql, repr_of_every_type_matches_aiomysql_for_both_protocols) {
    if (!have_aiomysql()) GTEST_SKIP() << "python3-aiomysql is not installed";
    const std::string sql =
        "SELECT 1, -5, 18446744073709551615, 2.5e0, 0.1e0, CAST(1.1 AS FLOAT), 1e20, 1.50, -0.001, 'x''y', 'a\"b', "
        "'both '' and \"', '', NULL, X'00ff41', CAST('2024-01-02' AS DATE), CAST('2024-01-02 03:04:05' AS DATETIME), "
        "CAST('2024-01-02 03:04:05.000123' AS DATETIME(6)), CAST('2024-01-02 00:00:00' AS DATETIME), "
        "CAST('-01:02:03' AS TIME), CAST('25:00:00.5' AS TIME(1)), CAST(7 AS UNSIGNED), 'tab\\there\\nnl', "
        "JSON_OBJECT('k', JSON_ARRAY(1, 2)), B'101'";
    const std::string script =
        "import asyncio, os, sys, aiomysql\n"
        "async def main():\n"
        "    conn = await aiomysql.connect(host=os.environ['CORIO_MYSQL_HOST'], port=int(os.environ['CORIO_MYSQL_PORT']),"
        " user=os.environ['CORIO_MYSQL_USER'], password=os.environ['CORIO_MYSQL_PASSWORD'], db=os.environ['CORIO_MYSQL_DB'])\n"
        "    async with conn.cursor() as cur:\n"
        "        await cur.execute(sys.argv[1])\n"
        "        print(await cur.fetchall())\n"
        "    conn.close()\n"
        "asyncio.run(main())\n";
    const std::string path = std::filesystem::temp_directory_path() / ("corio_aiomysql_" + std::to_string(::getpid()) + ".py");
    {
        FILE* f = std::fopen(path.c_str(), "w");
        ASSERT_NE(f, nullptr);
        std::fputs(script.c_str(), f);
        std::fclose(f);
    }
    // The SQL goes to Python as one argument, single-quoted for the shell.
    std::string quoted = "'";
    for (char c : sql) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    quoted += "'";
    const std::string theirs = run_with_server_env(python + " " + path + " " + quoted);
    std::remove(path.c_str());
    auto body = [](std::string query) -> corio::task<std::vector<std::string>> {
        auto conn = co_await mysql::connect(server().options());
        std::vector<std::string> out;
        auto read = [&](mysql::cursor& cur) -> corio::task<> {
            co_await cur.execute(query);  // plain SQL: the text protocol
            out.push_back(mysql::repr(co_await cur.fetchall()) + "\n");
            co_await cur.execute(query + " FROM DUAL WHERE %s", 1);  // a prepared statement: the binary protocol
            out.push_back(mysql::repr(co_await cur.fetchall()) + "\n");
        };
        co_await corio::with(conn.cursor(), read);
        co_return out;
    };
    const auto ours = corio::run(body(sql));
    ASSERT_EQ(ours.size(), 2u);
    EXPECT_EQ(ours[0], theirs) << "plain SQL";
    EXPECT_EQ(ours[1], theirs) << "prepared";
}

}  // namespace
