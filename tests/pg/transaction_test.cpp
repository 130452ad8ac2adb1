// corio::pg's transactions: COMMIT when the body succeeds, ROLLBACK when it
// throws or is cancelled, nested ones as SAVEPOINTs, isolation / read only /
// deferrable, a serialization failure between two sessions, misuse, and
// executemany's all-or-nothing batch.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <corio/corio.hpp>
#include <corio/pg.hpp>

#include "pg_server.hpp"

using namespace std::chrono_literals;
namespace pg = corio::pg;
namespace t = corio_pg_test;

namespace {

corio::task<std::int64_t> count(pg::connection& c, std::string tbl) {
    co_return co_await c.fetchval<std::int64_t>("SELECT count(*) FROM " + tbl);
}

TEST(pg_transaction, commits_on_success_and_rolls_back_on_exception_or_cancellation) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        const std::string tbl = t::table("tx");
        co_await c.execute("DROP TABLE IF EXISTS " + tbl);
        co_await c.execute("CREATE TABLE " + tbl + " (v int)");

        auto ok = [&](pg::transaction&) -> corio::task<> {
            EXPECT_TRUE(c.in_transaction());
            co_await c.execute("INSERT INTO " + tbl + " VALUES (1)");
        };
        co_await corio::with(c.transaction(), ok);
        EXPECT_FALSE(c.in_transaction());
        EXPECT_EQ(co_await count(c, tbl), 1);

        auto fails = [&](pg::transaction&) -> corio::task<> {
            co_await c.execute("INSERT INTO " + tbl + " VALUES (2)");
            throw std::runtime_error("body failed");
        };
        bool threw = false;
        try {
            co_await corio::with(c.transaction(), fails);
        } catch (const std::runtime_error& e) {
            threw = std::string(e.what()) == "body failed";
        }
        EXPECT_TRUE(threw);
        EXPECT_FALSE(c.in_transaction());
        EXPECT_EQ(co_await count(c, tbl), 1);

        // Cancelled mid-body (a timeout around the with): rolled back.
        auto slow = [&](pg::transaction&) -> corio::task<> {
            co_await c.execute("INSERT INTO " + tbl + " VALUES (3)");
            co_await corio::sleep(10s);
        };
        bool timed_out = false;
        try {
            co_await corio::wait_for(corio::with(c.transaction(), slow), 100ms);
        } catch (const corio::timeout_error&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_FALSE(c.in_transaction());
        EXPECT_EQ(co_await count(c, tbl), 1);

        // A failed statement inside: the body's postgres_error comes out, rolled back.
        auto bad_sql = [&](pg::transaction&) -> corio::task<> {
            co_await c.execute("INSERT INTO " + tbl + " VALUES (4)");
            co_await c.execute("INSERT INTO " + tbl + " VALUES (1/0)");
        };
        std::string state;
        try {
            co_await corio::with(c.transaction(), bad_sql);
        } catch (const pg::postgres_error& e) {
            state = e.sqlstate();
        }
        EXPECT_EQ(state, "22012");
        EXPECT_EQ(co_await count(c, tbl), 1);
        co_await c.execute("DROP TABLE " + tbl);
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_transaction, nested_transactions_are_savepoints) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        const std::string tbl = t::table("nested");
        co_await c.execute("DROP TABLE IF EXISTS " + tbl);
        co_await c.execute("CREATE TABLE " + tbl + " (v int)");
        auto inner_fails = [&](pg::transaction& inner) -> corio::task<> {
            EXPECT_TRUE(inner.nested());
            co_await c.execute("INSERT INTO " + tbl + " VALUES (2)");
            co_await c.execute("SELECT 1/0");  // aborts only the savepoint
        };
        auto inner_ok = [&](pg::transaction&) -> corio::task<> { co_await c.execute("INSERT INTO " + tbl + " VALUES (3)"); };
        auto outer = [&](pg::transaction& tx) -> corio::task<> {
            EXPECT_FALSE(tx.nested());
            co_await c.execute("INSERT INTO " + tbl + " VALUES (1)");
            bool threw = false;
            try {
                co_await corio::with(c.transaction(), inner_fails);
            } catch (const pg::postgres_error&) {
                threw = true;
            }
            EXPECT_TRUE(threw);
            co_await corio::with(c.transaction(), inner_ok);
        };
        co_await corio::with(c.transaction(), outer);
        auto rows = co_await c.fetch("SELECT v FROM " + tbl + " ORDER BY v");
        EXPECT_EQ(rows.size(), 2u);
        if (rows.size() == 2) {
            EXPECT_EQ(rows[0].get<int>(0), 1);
            EXPECT_EQ(rows[1].get<int>(0), 3);
        }
        // A nested transaction takes no options.
        pg::transaction_options ro;
        ro.readonly = true;
        auto empty = [](pg::transaction&) -> corio::task<> { co_return; };
        auto misuse = [&](pg::transaction&) -> corio::task<> { co_await corio::with(c.transaction(ro), empty); };
        bool refused = false;
        try {
            co_await corio::with(c.transaction(), misuse);
        } catch (const pg::interface_error&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
        EXPECT_FALSE(c.in_transaction());
        co_await c.execute("DROP TABLE " + tbl);
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_transaction, options_reach_the_server) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        pg::transaction_options o;
        o.isolation = pg::isolation_level::serializable;
        o.readonly = true;
        o.deferrable = true;
        auto check = [&](pg::transaction&) -> corio::task<> {
            EXPECT_EQ(co_await c.fetchval<std::string>("SELECT current_setting('transaction_isolation')"), "serializable");
            EXPECT_EQ(co_await c.fetchval<std::string>("SELECT current_setting('transaction_read_only')"), "on");
            EXPECT_EQ(co_await c.fetchval<std::string>("SELECT current_setting('transaction_deferrable')"), "on");
            std::string state;
            try {
                co_await c.execute("CREATE TEMP TABLE nope (v int)");
            } catch (const pg::postgres_error& e) {
                state = e.sqlstate();
            }
            EXPECT_EQ(state, "25006");  // read_only_sql_transaction
        };
        bool threw = false;
        try {
            co_await corio::with(c.transaction(o), check);
        } catch (const pg::postgres_error&) {
            threw = true;  // COMMIT of an aborted transaction reports nothing; ROLLBACK happened
        }
        (void)threw;
        EXPECT_FALSE(c.in_transaction());
        pg::transaction_options rr;
        rr.isolation = pg::isolation_level::repeatable_read;
        auto check_rr = [&](pg::transaction&) -> corio::task<> {
            EXPECT_EQ(co_await c.fetchval<std::string>("SELECT current_setting('transaction_isolation')"), "repeatable read");
        };
        co_await corio::with(c.transaction(rr), check_rr);
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_transaction, serialization_failure_is_a_serialization_error) {
    auto body = []() -> corio::task<> {
        pg::connection a = co_await pg::connect(t::dsn());
        pg::connection b = co_await pg::connect(t::dsn());
        const std::string tbl = t::table("ser");
        co_await a.execute("DROP TABLE IF EXISTS " + tbl);
        co_await a.execute("CREATE TABLE " + tbl + " (class int, v int)");
        co_await a.execute("INSERT INTO " + tbl + " VALUES (1, 10), (2, 20)");
        pg::transaction_options ser;
        ser.isolation = pg::isolation_level::serializable;
        pg::transaction ta = a.transaction(ser);
        pg::transaction tb = b.transaction(ser);
        co_await ta.start();
        co_await tb.start();
        // Write skew: each reads the other's class and writes its own.
        const auto sa = co_await a.fetchval<std::int64_t>("SELECT sum(v) FROM " + tbl + " WHERE class = 1");
        const auto sb = co_await b.fetchval<std::int64_t>("SELECT sum(v) FROM " + tbl + " WHERE class = 2");
        co_await a.execute("INSERT INTO " + tbl + " VALUES (2, $1)", sa);
        co_await b.execute("INSERT INTO " + tbl + " VALUES (1, $1)", sb);
        co_await ta.commit();
        std::string state;
        try {
            co_await tb.commit();
        } catch (const pg::serialization_error& e) {
            state = e.sqlstate();
        }
        EXPECT_EQ(state, "40001");
        EXPECT_FALSE(b.in_transaction());
        EXPECT_EQ(co_await b.fetchval<std::int64_t>("SELECT count(*) FROM " + tbl), 3);
        // Misuse: committing twice.
        bool misuse = false;
        try {
            co_await ta.commit();
        } catch (const pg::interface_error&) {
            misuse = true;
        }
        EXPECT_TRUE(misuse);
        co_await a.execute("DROP TABLE " + tbl);
        co_await a.close();
        co_await b.close();
    };
    corio::run(body());
}

TEST(pg_transaction, executemany_is_all_or_nothing) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        const std::string tbl = t::table("many");
        co_await c.execute("DROP TABLE IF EXISTS " + tbl);
        co_await c.execute("CREATE TABLE " + tbl + " (id int PRIMARY KEY, name text)");
        std::vector<std::tuple<int, std::string>> rows;
        for (int i = 0; i < 100; ++i) rows.emplace_back(i, "n" + std::to_string(i));
        co_await c.executemany("INSERT INTO " + tbl + " VALUES ($1, $2)", rows);
        EXPECT_EQ(co_await count(c, tbl), 100);
        std::vector<std::tuple<int, std::string>> dup{{1000, "a"}, {1001, "b"}, {5, "dup"}, {1002, "c"}};
        bool threw = false;
        try {
            co_await c.executemany("INSERT INTO " + tbl + " VALUES ($1, $2)", dup);
        } catch (const pg::unique_violation_error&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
        EXPECT_EQ(co_await count(c, tbl), 100);
        EXPECT_FALSE(c.in_transaction());
        co_await c.execute("DROP TABLE " + tbl);
        co_await c.close();
    };
    corio::run(body());
}

}  // namespace
