// corio::mysql transactions against a real MariaDB server: commit, rollback,
// begin, autocommit, transaction() (COMMIT on success, ROLLBACK on an
// exception or a cancellation, SAVEPOINTs when nested), ping and close; what
// one connection did is checked from another.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include <corio/corio.hpp>
#include <corio/mysql.hpp>

#include "mariadb_server.hpp"

using namespace std::chrono_literals;
namespace mysql = corio::mysql;
using corio_mysql_test::server;

namespace {

std::string table_name(const char* what) { return std::string("tx_") + what + "_" + std::to_string(::getpid()); }

corio::task<> run_sql(mysql::connection& conn, std::string sql) {
    auto body = [&](mysql::cursor& cur) -> corio::task<> { co_await cur.execute(sql); };
    co_await corio::with(conn.cursor(), body);
}

corio::task<long long> count_rows(mysql::connection& conn, std::string table) {
    long long n = -1;
    auto body = [&](mysql::cursor& cur) -> corio::task<> {
        co_await cur.execute("SELECT COUNT(*) FROM " + table);
        n = (co_await cur.fetchone())->get<long long>(0);
    };
    co_await corio::with(conn.cursor(), body);
    co_return n;
}

// Two connections and a fresh table; `f(a, b, table)` runs, then the table is dropped.
template <class F>
void with_two(const char* what, F f) {
    auto body = [](F fn, std::string table) -> corio::task<> {
        auto a = co_await mysql::connect(server().options());
        auto b = co_await mysql::connect(server().options());
        co_await run_sql(a, "DROP TABLE IF EXISTS " + table);
        co_await run_sql(a, "CREATE TABLE " + table + " (id INT PRIMARY KEY) ENGINE=InnoDB");
        co_await fn(a, b, table);
        co_await a.rollback();
        co_await b.rollback();  // b's snapshot holds a metadata lock DROP would wait for
        co_await run_sql(a, "DROP TABLE " + table);
    };
    corio::run(body(std::move(f), table_name(what)));
}

TEST(mysql_transaction, commit_makes_changes_visible_and_rollback_undoes_them) {
    with_two("commit", [](mysql::connection& a, mysql::connection& b, std::string t) -> corio::task<> {
        co_await run_sql(a, "INSERT INTO " + t + " VALUES (1)");
        EXPECT_TRUE(a.in_transaction());
        EXPECT_EQ(co_await count_rows(b, t), 0);  // autocommit off: not committed yet
        co_await a.commit();
        EXPECT_FALSE(a.in_transaction());
        co_await b.rollback();  // b's snapshot ends
        EXPECT_EQ(co_await count_rows(b, t), 1);
        co_await run_sql(a, "INSERT INTO " + t + " VALUES (2)");
        co_await a.rollback();
        EXPECT_EQ(co_await count_rows(a, t), 1);
        co_await a.begin();
        co_await run_sql(a, "INSERT INTO " + t + " VALUES (3)");
        co_await a.rollback();
        EXPECT_EQ(co_await count_rows(a, t), 1);
    });
}

TEST(mysql_transaction, autocommit_on_commits_each_statement) {
    with_two("autocommit", [](mysql::connection& a, mysql::connection& b, std::string t) -> corio::task<> {
        co_await a.autocommit(true);
        co_await run_sql(a, "INSERT INTO " + t + " VALUES (1)");
        EXPECT_FALSE(a.in_transaction());
        co_await b.rollback();
        EXPECT_EQ(co_await count_rows(b, t), 1);
        co_await a.autocommit(false);
        co_await run_sql(a, "INSERT INTO " + t + " VALUES (2)");
        co_await b.rollback();
        EXPECT_EQ(co_await count_rows(b, t), 1);
        co_await a.rollback();
    });
}

TEST(mysql_transaction, transaction_commits_on_success_and_rolls_back_on_exception) {
    with_two("cm", [](mysql::connection& a, mysql::connection& b, std::string t) -> corio::task<> {
        auto ok = [&](mysql::transaction&) -> corio::task<> { co_await run_sql(a, "INSERT INTO " + t + " VALUES (1)"); };
        co_await corio::with(a.transaction(), ok);
        co_await b.rollback();
        EXPECT_EQ(co_await count_rows(b, t), 1);
        auto failing = [&](mysql::transaction&) -> corio::task<> {
            co_await run_sql(a, "INSERT INTO " + t + " VALUES (2)");
            throw std::runtime_error("body failed");
        };
        bool threw = false;
        try {
            co_await corio::with(a.transaction(), failing);
        } catch (const std::runtime_error& e) {
            threw = std::string(e.what()) == "body failed";
        }
        EXPECT_TRUE(threw);
        EXPECT_EQ(co_await count_rows(a, t), 1);
        // A failing statement inside: its error comes out, the rest is rolled back.
        auto dup = [&](mysql::transaction&) -> corio::task<> {
            co_await run_sql(a, "INSERT INTO " + t + " VALUES (3)");
            co_await run_sql(a, "INSERT INTO " + t + " VALUES (1)");
        };
        threw = false;
        try {
            co_await corio::with(a.transaction(), dup);
        } catch (const mysql::integrity_error& e) {
            threw = e.code() == 1062;
        }
        EXPECT_TRUE(threw);
        EXPECT_EQ(co_await count_rows(a, t), 1);
    });
}

TEST(mysql_transaction, a_cancelled_transaction_rolls_back) {
    with_two("cancel", [](mysql::connection& a, mysql::connection&, std::string t) -> corio::task<> {
        auto slow = [&](mysql::transaction&) -> corio::task<> {
            co_await run_sql(a, "INSERT INTO " + t + " VALUES (1)");
            co_await corio::sleep(5s);
        };
        auto scoped = [&](corio::timeout_scope&) -> corio::task<> { co_await corio::with(a.transaction(), slow); };
        bool timed_out = false;
        try {
            co_await corio::with(corio::timeout(100ms), scoped);
        } catch (const corio::timeout_error&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_FALSE(a.closed());
        EXPECT_FALSE(a.in_transaction());
        EXPECT_EQ(co_await count_rows(a, t), 0);
    });
}

TEST(mysql_transaction, nested_transactions_are_savepoints) {
    with_two("nested", [](mysql::connection& a, mysql::connection& b, std::string t) -> corio::task<> {
        auto inner_fails = [&](mysql::transaction&) -> corio::task<> {
            co_await run_sql(a, "INSERT INTO " + t + " VALUES (2)");
            throw std::runtime_error("inner");
        };
        auto inner_ok = [&](mysql::transaction&) -> corio::task<> { co_await run_sql(a, "INSERT INTO " + t + " VALUES (3)"); };
        auto outer = [&](mysql::transaction&) -> corio::task<> {
            co_await run_sql(a, "INSERT INTO " + t + " VALUES (1)");
            try {
                co_await corio::with(a.transaction(), inner_fails);
            } catch (const std::runtime_error&) {
            }
            co_await corio::with(a.transaction(), inner_ok);
        };
        co_await corio::with(a.transaction(), outer);
        co_await b.rollback();
        EXPECT_EQ(co_await count_rows(b, t), 2);  // 1 and 3; 2 rolled back to its savepoint
    });
}

TEST(mysql_transaction, ping_and_close) {
    auto body = []() -> corio::task<> {
        auto conn = co_await mysql::connect(server().options());
        co_await conn.ping();
        co_await conn.close();
        bool threw = false;
        try {
            co_await conn.commit();
        } catch (const mysql::operational_error& e) {
            threw = true;
            EXPECT_NE(std::string(e.what()).find("mysql::connection::commit: the connection to 127.0.0.1:"),
                      std::string::npos)
                << e.what();
        }
        EXPECT_TRUE(threw);
    };
    corio::run(body());
}

}  // namespace
