// corio::pg's pipelining and cancellation on one connection: queries from
// many tasks queued in order and answered in order, one failure leaving the
// others alone, a query cancelled mid-flight (CancelRequest, drained, the
// connection reused), one cancelled while queued, command_timeout,
// statement_timeout, the statement cache past its size, and a backend
// terminated under the connection.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include <corio/corio.hpp>
#include <corio/pg.hpp>

#include "pg_server.hpp"

using namespace std::chrono_literals;
namespace pg = corio::pg;
namespace t = corio_pg_test;

namespace {

TEST(pg_pipeline, many_tasks_on_one_connection_get_their_own_results) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        // The lambda outlives the tasks (a coroutine lambda's captures live in the closure).
        auto one = [&c](int v) -> corio::task<int> { co_return co_await c.fetchval<int>("SELECT $1::int * 2", v); };
        std::vector<corio::task<int>> queries;
        for (int i = 0; i < 200; ++i) queries.push_back(one(i));
        std::vector<int> got = co_await corio::gather(std::move(queries));
        EXPECT_EQ(got.size(), 200u);
        for (int i = 0; i < static_cast<int>(got.size()); ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], 2 * i);
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_pipeline, requests_are_in_flight_together_and_run_in_call_order) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        const std::string tbl = t::table("order");
        co_await c.execute("DROP TABLE IF EXISTS " + tbl);
        co_await c.execute("CREATE TABLE " + tbl + " (seq serial, v int)");
        // A slow query first: its answer cannot come before every spawned
        // task has sent its own, so all 21 are in flight at once.
        auto slow = corio::spawn(c.execute("SELECT pg_sleep(0.3)"));
        std::vector<corio::join_handle<std::string>> hs;
        for (int i = 0; i < 20; ++i)
            hs.push_back(corio::spawn(c.execute("INSERT INTO " + tbl + " (v) VALUES ($1)", i)));
        co_await corio::sleep(0s);
        EXPECT_EQ(c.state_pending(), 21u);
        EXPECT_EQ(co_await slow, "SELECT 1");
        for (auto& h : hs) EXPECT_EQ(co_await h, "INSERT 0 1");
        auto rows = co_await c.fetch("SELECT v FROM " + tbl + " ORDER BY seq");
        EXPECT_EQ(rows.size(), 20u);
        for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].get<int>(0), static_cast<int>(i));
        co_await c.execute("DROP TABLE " + tbl);
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_pipeline, one_failure_leaves_the_others_alone) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        auto ok = [&c](int v) -> corio::task<int> { co_return co_await c.fetchval<int>("SELECT $1::int", v); };
        auto bad = [&c]() -> corio::task<int> { co_return co_await c.fetchval<int>("SELECT 1/0"); };
        auto results = co_await corio::gather_settled(ok(1), bad(), ok(3), bad(), ok(5));
        EXPECT_EQ(std::get<0>(std::get<0>(results)), 1);
        EXPECT_EQ(std::get<0>(std::get<2>(results)), 3);
        EXPECT_EQ(std::get<0>(std::get<4>(results)), 5);
        auto is_div0 = [](const auto& r) {
            if (r.index() != 1) return false;
            try {
                std::rethrow_exception(std::get<1>(r));
            } catch (const pg::postgres_error& e) {
                return e.sqlstate() == "22012";
            } catch (...) {
                return false;
            }
        };
        EXPECT_TRUE(is_div0(std::get<1>(results)));
        EXPECT_TRUE(is_div0(std::get<3>(results)));
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_pipeline, cancelled_mid_flight_then_reused) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        // Its own text: other tests on the shared server sleep too.
        const std::string sleep_sql = "SELECT pg_sleep(30) -- mid_flight " + t::table("q");
        const auto start = std::chrono::steady_clock::now();
        bool timed_out = false;
        try {
            co_await corio::wait_for(c.execute(sleep_sql), 200ms);
        } catch (const corio::timeout_error&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        // The CancelRequest stopped the server: not 30 s, and the connection works.
        EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
        EXPECT_FALSE(c.is_closed());
        EXPECT_EQ(co_await c.fetchval<int>("SELECT 42"), 42);
        // The server is idle again (not still sleeping for us).
        EXPECT_EQ(co_await c.fetchval<std::int64_t>(
                      "SELECT count(*) FROM pg_stat_activity WHERE query = $1 AND state = 'active'", sleep_sql),
                  0);
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_pipeline, a_query_cancelled_while_queued_is_discarded) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        auto first = corio::spawn(c.fetchval<int>("SELECT 1 FROM pg_sleep(0.2)"));
        auto second = corio::spawn(c.fetchval<int>("SELECT 2"));
        auto third = corio::spawn(c.fetchval<int>("SELECT 3"));
        co_await corio::sleep(50ms);
        second.cancel();
        bool cancelled = false;
        try {
            (void)co_await second;
        } catch (const corio::cancelled_error&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_EQ(co_await first, 1);
        EXPECT_EQ(co_await third, 3);
        EXPECT_EQ(co_await c.fetchval<int>("SELECT 4"), 4);
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_pipeline, command_timeout_cancels_on_the_server) {
    auto body = []() -> corio::task<> {
        pg::connect_options o;
        o.dsn = t::dsn();
        o.command_timeout = 200ms;
        pg::connection c = co_await pg::connect(o);
        std::string what;
        const auto start = std::chrono::steady_clock::now();
        try {
            co_await c.execute("SELECT pg_sleep(30)");
        } catch (const corio::timeout_error& e) {
            what = e.what();
        }
        EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
        EXPECT_NE(what.find("command_timeout"), std::string::npos) << what;
        EXPECT_NE(what.find("pg_sleep"), std::string::npos) << what;
        EXPECT_EQ(co_await c.fetchval<int>("SELECT 7"), 7);
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_pipeline, statement_timeout_is_a_postgres_error_and_the_connection_lives) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        co_await c.execute("SET statement_timeout = 100");
        std::string state;
        try {
            co_await c.execute("SELECT pg_sleep(10)");
        } catch (const pg::postgres_error& e) {
            state = e.sqlstate();
        }
        EXPECT_EQ(state, "57014");
        EXPECT_EQ(co_await c.fetchval<int>("SELECT 8"), 8);
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_pipeline, the_statement_cache_evicts_past_its_size) {
    auto body = []() -> corio::task<> {
        pg::connect_options o;
        o.dsn = t::dsn();
        o.statement_cache_size = 5;
        pg::connection c = co_await pg::connect(o);
        for (int round = 0; round < 2; ++round)
            for (int i = 0; i < 12; ++i)
                EXPECT_EQ(co_await c.fetchval<int>("SELECT " + std::to_string(i) + " + $1::int", 1), i + 1);
        // Never more than 5 kept on the server.
        EXPECT_EQ(co_await c.fetchval<std::int64_t>("SELECT count(*) FROM pg_prepared_statements"), 5);
        // A statement whose Parse failed is not cached: the next call reports the same error.
        for (int i = 0; i < 2; ++i) {
            bool threw = false;
            try {
                co_await c.execute("SELECT * FROM no_such_table_at_all");
            } catch (const pg::undefined_table_error&) {
                threw = true;
            }
            EXPECT_TRUE(threw);
        }
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_pipeline, a_terminated_backend_is_a_connection_error) {
    auto body = []() -> corio::task<> {
        pg::connection victim = co_await pg::connect(t::dsn());
        pg::connection killer = co_await pg::connect(t::dsn());
        const int pid = victim.backend_pid();
        EXPECT_TRUE(co_await killer.fetchval<bool>("SELECT pg_terminate_backend($1)", pid));
        std::string what;
        for (int i = 0; i < 2 && what.empty(); ++i) {
            try {
                co_await victim.fetchval<int>("SELECT 1");
            } catch (const pg::connection_error& e) {
                what = e.what();
            }
        }
        EXPECT_NE(what.find("127.0.0.1:" + std::to_string(t::port())), std::string::npos) << what;
        EXPECT_TRUE(victim.is_closed());
        // Every later call fails the same way, at once.
        bool again = false;
        try {
            co_await victim.execute("SELECT 1");
        } catch (const pg::connection_error&) {
            again = true;
        }
        EXPECT_TRUE(again);
        co_await victim.close();
        co_await killer.close();
    };
    corio::run(body());
}

}  // namespace

namespace {

TEST(pg_pipeline, a_cached_statement_is_prepared_again_after_alter_table) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        const std::string tbl = t::table("alter");
        co_await c.execute("DROP TABLE IF EXISTS " + tbl);
        co_await c.execute("CREATE TABLE " + tbl + " (a int)");
        co_await c.execute("INSERT INTO " + tbl + " VALUES (1)");
        const std::string sql = "SELECT * FROM " + tbl;
        EXPECT_EQ((co_await c.fetch(sql)).at(0).size(), 1u);
        co_await c.execute("ALTER TABLE " + tbl + " ADD COLUMN b text DEFAULT 'x'");
        // The server refuses the cached plan (0A000); it is prepared again.
        auto rows = co_await c.fetch(sql);
        EXPECT_EQ(rows.at(0).size(), 2u);
        EXPECT_EQ(rows.at(0).get<std::string>("b"), "x");
        // Inside a transaction the error comes out (the transaction is aborted).
        co_await c.execute("ALTER TABLE " + tbl + " ADD COLUMN c int");
        auto tx_body = [&](pg::transaction&) -> corio::task<> { (void)co_await c.fetch(sql); };
        std::string state;
        try {
            co_await corio::with(c.transaction(), tx_body);
        } catch (const pg::postgres_error& e) {
            state = e.sqlstate();
        }
        EXPECT_EQ(state, "0A000");
        EXPECT_EQ((co_await c.fetch(sql)).at(0).size(), 3u);
        co_await c.execute("DROP TABLE " + tbl);
        co_await c.close();
    };
    corio::run(body());
}

}  // namespace
