// pg_transactions: asyncpg's connection and transaction patterns with
// corio::pg against the PostgreSQL server `make demo` starts
// (scripts/servers/postgres.sh; CORIO_PG_DSN says where).
//
// The Python original (asyncpg):
//
//     async def main():
//         conn = await asyncpg.connect(dsn)
//         try:
//             await conn.execute("CREATE TEMP TABLE accounts (id int PRIMARY KEY, owner text, balance int)")
//             await conn.executemany("INSERT INTO accounts VALUES ($1, $2, $3)",
//                                    [(1, "ada", 100), (2, "grace", 50)])
//             async with conn.transaction():             # COMMIT
//                 await transfer(conn, 30, 1, 2)
//             try:
//                 async with conn.transaction():         # ROLLBACK
//                     await transfer(conn, 500, 1, 2)    # raises "insufficient funds"
//             except RuntimeError as e:
//                 print(f"rolled back: {e}")
//             async with conn.transaction():             # an inner one is a SAVEPOINT
//                 await conn.execute("INSERT INTO accounts VALUES ($1, $2, $3)", 3, "linus", 10)
//                 try:
//                     async with conn.transaction():
//                         await conn.execute("INSERT INTO accounts VALUES ($1, $2, $3)", 1, "duplicate", 0)
//                 except asyncpg.UniqueViolationError as e:
//                     print(f"savepoint rolled back: {e.sqlstate} (constraint {e.constraint_name})")
//         finally:
//             await conn.close()
//         pool = await asyncpg.create_pool(dsn, min_size=2, max_size=2)
//         async with pool.acquire() as conn:
//             print(await conn.fetchval("SELECT 'hello from the pool'"))
//         squares = await asyncio.gather(*(pool.fetchval("SELECT $1::int * $1::int", i) for i in range(1, 6)))
//         await pool.close()
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <corio/corio.hpp>
#include <corio/pg.hpp>

namespace pg = corio::pg;

namespace {

corio::task<> print_balances(pg::connection& c) {
    for (const pg::record& r : co_await c.fetch("SELECT owner, balance FROM accounts ORDER BY id"))
        std::printf("  %s: %d\n", r.get<std::string>("owner").c_str(), r.get<int>("balance"));
}

corio::task<> transfer(pg::connection& c, int amount, int from, int to) {
    co_await c.execute("UPDATE accounts SET balance = balance - $1 WHERE id = $2", amount, from);
    co_await c.execute("UPDATE accounts SET balance = balance + $1 WHERE id = $2", amount, to);
    if (co_await c.fetchval<int>("SELECT balance FROM accounts WHERE id = $1", from) < 0)
        throw std::runtime_error("insufficient funds");
}

corio::task<> with_connection(pg::connection& c) {
    co_await c.execute("CREATE TEMP TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance int NOT NULL)");
    std::vector<std::tuple<int, std::string, int>> rows{{1, "ada", 100}, {2, "grace", 50}};
    co_await c.executemany("INSERT INTO accounts VALUES ($1, $2, $3)", rows);
    std::puts("start:");
    co_await print_balances(c);

    auto ok = [&c](pg::transaction&) -> corio::task<> { co_await transfer(c, 30, 1, 2); };
    co_await corio::with(c.transaction(), ok);
    std::puts("after a committed transfer of 30:");
    co_await print_balances(c);

    auto too_much = [&c](pg::transaction&) -> corio::task<> { co_await transfer(c, 500, 1, 2); };
    try {
        co_await corio::with(c.transaction(), too_much);
    } catch (const std::runtime_error& e) {
        std::printf("rolled back: %s\n", e.what());
    }
    co_await print_balances(c);

    // A nested transaction is a SAVEPOINT: the inner failure undoes only its part.
    auto inner = [&c](pg::transaction&) -> corio::task<> {
        co_await c.execute("INSERT INTO accounts VALUES ($1, $2, $3)", 1, "duplicate", 0);
    };
    auto outer = [&c, &inner](pg::transaction&) -> corio::task<> {
        co_await c.execute("INSERT INTO accounts VALUES ($1, $2, $3)", 3, "linus", 10);
        try {
            co_await corio::with(c.transaction(), inner);
        } catch (const pg::unique_violation_error& e) {
            std::printf("savepoint rolled back: %s (constraint %s)\n", e.sqlstate().c_str(),
                        e.constraint_name().c_str());
        }
    };
    co_await corio::with(c.transaction(), outer);
    std::puts("after the outer transaction committed:");
    co_await print_balances(c);
}

corio::task<int> amain() {
    const char* dsn = std::getenv("CORIO_PG_DSN");
    if (dsn == nullptr) {
        std::fputs("pg_transactions: set CORIO_PG_DSN (scripts/servers/postgres.sh start DIR prints it)\n", stderr);
        co_return 2;
    }
    co_await corio::with(pg::connect(dsn), with_connection);

    // A pool: the connections are reset when released, so the temp table of
    // one acquire is not seen by the next one, even on the same connection.
    pg::pool_options options;
    options.dsn = dsn;
    options.min_size = 2;
    options.max_size = 2;
    pg::pool pool = co_await pg::create_pool(options);
    std::printf("pool: size %zu, idle %zu\n", pool.size(), pool.idle());
    auto in_pool = [](pg::connection& c) -> corio::task<std::string> {
        co_return co_await c.fetchval<std::string>("SELECT 'hello from the pool'");
    };
    std::printf("%s\n", (co_await corio::with(pool.acquire(), in_pool)).c_str());
    std::vector<corio::task<int>> queries;
    auto square = [&pool](int i) -> corio::task<int> { co_return co_await pool.fetchval<int>("SELECT $1::int * $1::int", i); };
    for (int i = 1; i <= 5; ++i) queries.push_back(square(i));
    int sum = 0;
    for (int v : co_await corio::gather(std::move(queries))) sum += v;
    std::printf("sum of squares 1..5 through the pool: %d\n", sum);
    co_await pool.close();
    std::printf("pool closed: size %zu\n", pool.size());
    co_return 0;
}

}  // namespace

int main() { return corio::run(amain()); }
