// corio::pg's pool against a real PostgreSQL 15: min_size opened up front,
// acquire as a context manager, FIFO order of waiters, exhaustion with an
// acquire timeout, a waiter cancelled while queued, the session reset on
// release, a connection killed by pg_terminate_backend (idle and in use),
// a server restart (a private server), close() waiting and terminate() not,
// max_queries, init/setup, a query cancelled mid-flight and the connection
// reused, and the pool's own execute/fetch/fetchrow/fetchval.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include <corio/corio.hpp>
#include <corio/pg.hpp>

#include "pg_server.hpp"

using namespace std::chrono_literals;
namespace pg = corio::pg;
namespace t = corio_pg_test;

namespace {

pg::pool_options options(std::size_t min_size, std::size_t max_size) {
    pg::pool_options o;
    o.dsn = t::dsn();
    o.min_size = min_size;
    o.max_size = max_size;
    return o;
}

corio::task<int> pid_of(pg::pool& p) {
    auto body = [](pg::connection& c) -> corio::task<int> { co_return c.backend_pid(); };
    auto lease = p.acquire();
    co_return co_await corio::with(lease, body);
}

TEST(pg_pool, opens_min_size_and_runs_queries) {
    auto body = []() -> corio::task<> {
        pg::pool p = co_await pg::create_pool(options(3, 5));
        EXPECT_EQ(p.size(), 3u);
        EXPECT_EQ(p.idle(), 3u);
        EXPECT_EQ(co_await p.fetchval<int>("SELECT $1::int + 1", 41), 42);
        EXPECT_EQ(co_await p.execute("SELECT 1"), "SELECT 1");
        auto rows = co_await p.fetch("SELECT generate_series(1, 4)");
        EXPECT_EQ(rows.size(), 4u);
        auto row = co_await p.fetchrow("SELECT 'a' AS x");
        EXPECT_TRUE(row.has_value());
        if (row) {
            EXPECT_EQ(row->get<std::string>("x"), "a");
        }
        auto inside = [&p](pg::connection& c) -> corio::task<> {
            EXPECT_EQ(p.idle(), 2u);
            EXPECT_EQ(co_await c.fetchval<int>("SELECT 5"), 5);
        };
        co_await corio::with(p.acquire(), inside);
        EXPECT_EQ(p.idle(), 3u);
        // 20 tasks through a pool of 5: never more than 5 connections.
        auto one = [&p](int i) -> corio::task<int> { co_return co_await p.fetchval<int>("SELECT $1::int FROM pg_sleep(0.01)", i); };
        std::vector<corio::task<int>> many;
        for (int i = 0; i < 20; ++i) many.push_back(one(i));
        auto got = co_await corio::gather(std::move(many));
        for (int i = 0; i < 20; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
        EXPECT_EQ(p.size(), 5u);
        co_await p.close();
        EXPECT_EQ(p.size(), 0u);
        bool refused = false;
        try {
            (void)co_await p.fetchval<int>("SELECT 1");
        } catch (const pg::interface_error&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
    };
    corio::run(body());
}

TEST(pg_pool, wrong_password_throws_from_create_pool) {
    auto body = []() -> corio::task<std::string> {
        pg::pool_options o = options(2, 2);
        o.dsn = "postgresql://" + t::user() + ":wrong-PW-123@127.0.0.1:" + std::to_string(t::port()) + "/" + t::database();
        try {
            pg::pool p = co_await pg::create_pool(o);
        } catch (const pg::connection_error& e) {
            co_return e.what();
        }
        co_return "";
    };
    const std::string what = corio::run(body());
    EXPECT_NE(what.find("password authentication failed"), std::string::npos) << what;
    EXPECT_EQ(what.find("wrong-PW-123"), std::string::npos) << what;
}

TEST(pg_pool, exhaustion_with_an_acquire_timeout) {
    auto body = []() -> corio::task<> {
        pg::pool p = co_await pg::create_pool(options(0, 2));
        auto hold = [&p](corio::event& release) -> corio::task<> {
            auto body = [&release](pg::connection&) -> corio::task<> { co_await release.wait(); };
            co_await corio::with(p.acquire(), body);
        };
        corio::event release;
        auto h1 = corio::spawn(hold(release));
        auto h2 = corio::spawn(hold(release));
        co_await corio::sleep(50ms);
        EXPECT_EQ(p.size(), 2u);
        std::string what;
        const auto start = std::chrono::steady_clock::now();
        try {
            auto body = [](pg::connection&) -> corio::task<> { co_return; };
            co_await corio::with(p.acquire(100ms), body);
        } catch (const corio::timeout_error& e) {
            what = e.what();
        }
        const auto waited = std::chrono::steady_clock::now() - start;
        EXPECT_GE(waited, 90ms);
        EXPECT_LT(waited, 2s);
        EXPECT_NE(what.find("pg::pool::acquire"), std::string::npos) << what;
        release.set();
        co_await h1;
        co_await h2;
        // The timed-out waiter took nothing: both connections are free again.
        EXPECT_EQ(p.idle(), 2u);
        EXPECT_EQ(co_await p.fetchval<int>("SELECT 1"), 1);
        co_await p.close();
    };
    corio::run(body());
}

TEST(pg_pool, waiters_are_served_in_order_and_a_cancelled_one_takes_nothing) {
    auto body = []() -> corio::task<> {
        pg::pool p = co_await pg::create_pool(options(1, 1));
        std::vector<int> order;
        corio::event release;
        auto holder = [&](pg::connection&) -> corio::task<> { co_await release.wait(); };
        auto hold = [&]() -> corio::task<> { co_await corio::with(p.acquire(), holder); };
        auto first = corio::spawn(hold());
        co_await corio::sleep(20ms);
        auto waiter = [&](int id) -> corio::task<> {
            auto body = [&order, id](pg::connection& c) -> corio::task<> {
                order.push_back(id);
                co_await c.execute("SELECT 1");
            };
            co_await corio::with(p.acquire(), body);
        };
        std::vector<corio::join_handle<void>> hs;
        for (int i = 0; i < 4; ++i) {
            hs.push_back(corio::spawn(waiter(i)));
            co_await corio::sleep(5ms);
        }
        hs[1].cancel();  // cancelled while queued
        co_await corio::sleep(5ms);
        release.set();
        co_await first;
        bool cancelled = false;
        try {
            co_await hs[1];
        } catch (const corio::cancelled_error&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        co_await hs[0];
        co_await hs[2];
        co_await hs[3];
        EXPECT_EQ(order, (std::vector<int>{0, 2, 3}));
        EXPECT_EQ(p.size(), 1u);
        EXPECT_EQ(p.idle(), 1u);
        co_await p.close();
    };
    corio::run(body());
}

TEST(pg_pool, release_resets_the_session) {
    auto body = []() -> corio::task<> {
        pg::pool p = co_await pg::create_pool(options(1, 1));
        int pid = 0;
        auto dirty = [&pid](pg::connection& c) -> corio::task<> {
            pid = c.backend_pid();
            co_await c.execute("SET application_name = 'dirty'");
            co_await c.execute("LISTEN corio_channel");
            co_await c.execute("SELECT pg_advisory_lock(4242)");
            co_await c.execute("BEGIN");
            co_await c.execute("DECLARE cur CURSOR WITH HOLD FOR SELECT 1");
            co_await c.execute("COMMIT");  // the held cursor outlives its transaction
            co_await c.execute("BEGIN");
            co_await c.execute("CREATE TEMP TABLE left_behind (v int)");
            // left inside an open transaction
        };
        co_await corio::with(p.acquire(), dirty);
        auto check = [pid](pg::connection& c) -> corio::task<> {
            EXPECT_EQ(c.backend_pid(), pid);  // the same session, reset
            EXPECT_FALSE(c.in_transaction());
            EXPECT_EQ(co_await c.fetchval<std::string>("SELECT current_setting('application_name')"), "");
            EXPECT_EQ(co_await c.fetchval<std::int64_t>("SELECT count(*) FROM pg_listening_channels()"), 0);
            EXPECT_EQ(co_await c.fetchval<std::int64_t>(
                          "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"),
                      0);
            EXPECT_EQ(co_await c.fetchval<std::int64_t>("SELECT count(*) FROM pg_cursors WHERE name = 'cur'"), 0);
            // The rolled-back transaction took its temp table with it.
            EXPECT_EQ(co_await c.fetchval<std::int64_t>("SELECT count(*) FROM pg_class WHERE relname = 'left_behind'"), 0);
        };
        co_await corio::with(p.acquire(), check);
        co_await p.close();
    };
    corio::run(body());
}

TEST(pg_pool, release_without_a_transaction_resets_before_the_next_user_runs) {
    auto body = []() -> corio::task<> {
        pg::pool p = co_await pg::create_pool(options(1, 1));
        int pid = 0;
        // No transaction left open: the reset is pipelined ahead of the next
        // user's first query rather than waited for at release.
        auto dirty = [&pid](pg::connection& c) -> corio::task<> {
            pid = c.backend_pid();
            co_await c.execute("SET application_name = 'dirty2'");
            co_await c.execute("SET statement_timeout = 1234");
            co_await c.execute("LISTEN corio_channel2");
            co_await c.execute("SELECT pg_advisory_lock(4343)");
        };
        co_await corio::with(p.acquire(), dirty);
        EXPECT_EQ(p.idle(), 1u);
        auto check = [pid](pg::connection& c) -> corio::task<> {
            EXPECT_EQ(c.backend_pid(), pid);
            EXPECT_EQ(co_await c.fetchval<std::string>("SELECT current_setting('application_name')"), "");
            EXPECT_EQ(co_await c.fetchval<std::string>("SELECT current_setting('statement_timeout')"), "0");
            EXPECT_EQ(co_await c.fetchval<std::int64_t>("SELECT count(*) FROM pg_listening_channels()"), 0);
            EXPECT_EQ(co_await c.fetchval<std::int64_t>(
                          "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"),
                      0);
        };
        co_await corio::with(p.acquire(), check);
        // The pool's own calls go through the same release.
        co_await p.execute("SET application_name = 'dirty3'");
        EXPECT_EQ(co_await p.fetchval<std::string>("SELECT current_setting('application_name')"), "");
        co_await p.close();
    };
    corio::run(body());
}

TEST(pg_pool, a_released_advisory_lock_is_free_while_the_next_user_sends_nothing) {
    auto body = []() -> corio::task<> {
        pg::pool p = co_await pg::create_pool(options(1, 1));
        pg::connection other = co_await pg::connect(t::dsn());
        auto locker = [](pg::connection& c) -> corio::task<> {
            co_await c.execute("SELECT pg_advisory_lock(4545)");
        };
        co_await corio::with(p.acquire(), locker);
        // The next user holds the connection and sends nothing: the reset,
        // owed until its first statement, is sent alone at the loop's next
        // turn, so the lock is free for everyone else meanwhile.
        auto idle_holder = [&other](pg::connection&) -> corio::task<> {
            co_await corio::sleep(100ms);
            EXPECT_TRUE(co_await other.fetchval<bool>("SELECT pg_try_advisory_lock(4545)"));
            co_await other.execute("SELECT pg_advisory_unlock(4545)");
        };
        co_await corio::with(p.acquire(), idle_holder);
        co_await other.close();
        co_await p.close();
    };
    corio::run(body());
}

TEST(pg_pool, the_next_users_first_statement_failing_or_rolled_back_keeps_the_reset) {
    auto body = []() -> corio::task<> {
        pg::pool p = co_await pg::create_pool(options(1, 1));
        auto dirty = [](pg::connection& c) -> corio::task<> {
            co_await c.execute("SET application_name = 'dirty4'");
            co_await c.execute("LISTEN corio_channel4");
        };
        // The reset travels in the first statement's segment: that statement
        // failing fails alone (a syntax error, not a lost connection).
        co_await corio::with(p.acquire(), dirty);
        auto fails_first = [](pg::connection& c) -> corio::task<> {
            bool syntax = false;
            try {
                co_await c.execute("SELEC 1");
            } catch (const pg::syntax_error&) {
                syntax = true;
            }
            EXPECT_TRUE(syntax);
            EXPECT_EQ(co_await c.fetchval<std::string>("SELECT current_setting('application_name')"), "");
            EXPECT_EQ(co_await c.fetchval<std::int64_t>("SELECT count(*) FROM pg_listening_channels()"), 0);
        };
        co_await corio::with(p.acquire(), fails_first);
        // A transaction opened by the first statement and rolled back does
        // not roll the reset back with it.
        co_await corio::with(p.acquire(), dirty);
        auto rolls_back = [](pg::connection& c) -> corio::task<> {
            co_await c.execute("BEGIN");
            EXPECT_EQ(co_await c.fetchval<std::string>("SELECT current_setting('application_name')"), "");
            co_await c.execute("ROLLBACK");
            EXPECT_EQ(co_await c.fetchval<std::string>("SELECT current_setting('application_name')"), "");
            EXPECT_EQ(co_await c.fetchval<std::int64_t>("SELECT count(*) FROM pg_listening_channels()"), 0);
        };
        co_await corio::with(p.acquire(), rolls_back);
        co_await p.close();
    };
    corio::run(body());
}

TEST(pg_pool, discard_all_by_a_user_and_a_reset_that_fails) {
    auto body = []() -> corio::task<> {
        pg::pool p = co_await pg::create_pool(options(1, 1));
        const int first = co_await pid_of(p);
        // DISCARD ALL drops the session's prepared statements, the pool's
        // reset and the statement cache too: both are prepared again.
        co_await p.execute("SELECT 1");
        co_await p.execute("DISCARD ALL");
        EXPECT_EQ(co_await p.fetchval<int>("SELECT 1"), 1);
        co_await p.execute("SET application_name = 'dirty5'");
        EXPECT_EQ(co_await p.fetchval<std::string>("SELECT current_setting('application_name')"), "");
        EXPECT_EQ(co_await pid_of(p), first);
        // A reset that fails (its statement deallocated behind the pool's
        // back) fails the next user's statement with connection_error, and
        // the pool replaces the connection.
        auto sabotage = [](pg::connection& c) -> corio::task<> {
            co_await c.execute("DEALLOCATE __corio_reset_4");
        };
        co_await corio::with(p.acquire(), sabotage);
        auto next_user = [](pg::connection& c) -> corio::task<> {
            bool lost = false;
            try {
                co_await c.execute("SELECT 1");
            } catch (const pg::connection_error& e) {
                lost = std::string(e.what()).find("session reset failed") != std::string::npos;
            }
            EXPECT_TRUE(lost);
        };
        co_await corio::with(p.acquire(), next_user);
        EXPECT_EQ(p.size(), 0u);
        EXPECT_NE(co_await pid_of(p), first);
        EXPECT_EQ(co_await p.fetchval<int>("SELECT 2"), 2);
        co_await p.close();
    };
    corio::run(body());
}

TEST(pg_pool, idle_connections_close_after_max_inactive_connection_lifetime) {
    auto body = []() -> corio::task<> {
        pg::pool_options o = options(2, 3);
        o.max_inactive_connection_lifetime = 300ms;
        // Named, so that the server's count is of this pool's sessions only
        // (other tests run against the same server at the same time).
        o.connect.dsn = t::dsn();
        o.connect.application_name = "corio_idle_expiry_test";
        pg::pool p = co_await pg::create_pool(o);
        EXPECT_EQ(p.size(), 2u);
        pg::connection watcher = co_await pg::connect(t::dsn());
        const std::string count_sql =
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'corio_idle_expiry_test'";
        EXPECT_EQ(co_await watcher.fetchval<std::int64_t>(count_sql), 2);
        // Nobody acquires: a timer closes them, as asyncpg's does.
        co_await corio::sleep(900ms);
        EXPECT_EQ(p.size(), 0u);
        EXPECT_EQ(p.idle(), 0u);
        EXPECT_EQ(co_await watcher.fetchval<std::int64_t>(count_sql), 0);
        // The pool opens again when asked.
        EXPECT_EQ(co_await p.fetchval<int>("SELECT 7"), 7);
        EXPECT_EQ(p.size(), 1u);
        // A connection in use is not expired, however long it is held.
        auto hold = [](pg::connection& c) -> corio::task<> {
            co_await corio::sleep(600ms);
            EXPECT_EQ(co_await c.fetchval<int>("SELECT 8"), 8);
        };
        co_await corio::with(p.acquire(), hold);
        EXPECT_EQ(p.size(), 1u);
        co_await watcher.close();
        co_await p.close();
    };
    corio::run(body());
}

TEST(pg_pool, terminated_connections_are_replaced) {
    auto body = []() -> corio::task<> {
        pg::pool p = co_await pg::create_pool(options(1, 1));
        pg::connection killer = co_await pg::connect(t::dsn());
        // Idle: the next acquire sees it dead and opens another.
        const int first = co_await pid_of(p);
        EXPECT_TRUE(co_await killer.fetchval<bool>("SELECT pg_terminate_backend($1)", first));
        co_await corio::sleep(50ms);  // the FATAL and EOF reach the socket
        const int second = co_await pid_of(p);
        EXPECT_NE(second, first);
        EXPECT_EQ(co_await p.fetchval<int>("SELECT 1"), 1);
        EXPECT_EQ(p.size(), 1u);
        // In use: the query fails with connection_error; release drops it.
        auto victim = [&](pg::connection& c) -> corio::task<> {
            EXPECT_TRUE(co_await killer.fetchval<bool>("SELECT pg_terminate_backend($1)", c.backend_pid()));
            bool lost = false;
            try {
                co_await c.fetchval<int>("SELECT 1 FROM pg_sleep(0.5)");
            } catch (const pg::connection_error&) {
                lost = true;
            }
            EXPECT_TRUE(lost);
        };
        co_await corio::with(p.acquire(), victim);
        EXPECT_EQ(p.size(), 0u);
        const int third = co_await pid_of(p);
        EXPECT_NE(third, second);
        EXPECT_EQ(p.size(), 1u);
        co_await killer.close();
        co_await p.close();
    };
    corio::run(body());
}

TEST(pg_pool, a_server_restart_heals_the_pool) {
    t::private_server server;  // restarted here, not the shared one
    auto body = [&server]() -> corio::task<> {
        pg::pool_options o = options(2, 2);
        o.dsn = server.env().at("CORIO_PG_DSN");
        pg::pool p = co_await pg::create_pool(o);
        EXPECT_EQ(co_await p.fetchval<int>("SELECT 1"), 1);
        auto restart = [&server] { server.restart(); };
        co_await corio::to_thread(restart);
        // Every idle connection is dead; acquire drops them and reconnects.
        EXPECT_EQ(co_await p.fetchval<int>("SELECT 2"), 2);
        EXPECT_EQ(co_await p.fetchval<int>("SELECT 3"), 3);
        co_await p.close();
    };
    corio::run(body());
}

TEST(pg_pool, close_waits_and_terminate_does_not) {
    auto body = []() -> corio::task<> {
        pg::pool p = co_await pg::create_pool(options(2, 2));
        bool released = false;
        auto user = [&released](pg::connection& c) -> corio::task<> {
            co_await c.execute("SELECT pg_sleep(0.1)");
            released = true;
        };
        auto use = [&]() -> corio::task<> { co_await corio::with(p.acquire(), user); };
        auto h = corio::spawn(use());
        co_await corio::sleep(20ms);
        co_await p.close();
        EXPECT_TRUE(released);
        co_await h;
        EXPECT_EQ(p.size(), 0u);

        pg::pool q = co_await pg::create_pool(options(1, 1));
        bool lost = false;
        auto long_user = [&lost](pg::connection& c) -> corio::task<> {
            try {
                co_await c.execute("SELECT pg_sleep(30)");
            } catch (const pg::connection_error&) {
                lost = true;
            }
        };
        auto use_long = [&]() -> corio::task<> { co_await corio::with(q.acquire(), long_user); };
        auto h2 = corio::spawn(use_long());
        co_await corio::sleep(50ms);
        const auto start = std::chrono::steady_clock::now();
        q.terminate();
        co_await h2;
        EXPECT_TRUE(lost);
        EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
        EXPECT_EQ(q.size(), 0u);
    };
    corio::run(body());
}

TEST(pg_pool, a_cancelled_query_leaves_the_connection_reusable) {
    auto body = []() -> corio::task<> {
        pg::pool p = co_await pg::create_pool(options(1, 1));
        const int pid = co_await pid_of(p);
        bool timed_out = false;
        try {
            co_await corio::wait_for(p.execute("SELECT pg_sleep(30)"), 100ms);
        } catch (const corio::timeout_error&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_EQ(co_await pid_of(p), pid);  // drained and reset, not replaced
        EXPECT_EQ(co_await p.fetchval<int>("SELECT 9"), 9);
        co_await p.close();
    };
    corio::run(body());
}

TEST(pg_pool, command_timeout_applies_to_pooled_connections) {
    auto body = []() -> corio::task<> {
        pg::pool_options o = options(1, 1);
        o.command_timeout = 100ms;
        pg::pool p = co_await pg::create_pool(o);
        bool timed_out = false;
        try {
            co_await p.execute("SELECT pg_sleep(30)");
        } catch (const corio::timeout_error&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_EQ(co_await p.fetchval<int>("SELECT 1"), 1);
        co_await p.close();
    };
    corio::run(body());
}

TEST(pg_pool, max_queries_init_and_setup) {
    auto body = []() -> corio::task<> {
        pg::pool_options o = options(1, 1);
        o.max_queries = 2;
        int inits = 0, setups = 0;
        o.init = [&inits](pg::connection& c) -> corio::task<void> {
            ++inits;
            co_await c.execute("SELECT 1");
        };
        o.setup = [&setups](pg::connection&) -> corio::task<void> {
            ++setups;
            co_return;
        };
        pg::pool p = co_await pg::create_pool(o);
        EXPECT_EQ(inits, 1);
        const int a = co_await pid_of(p);
        const int b = co_await pid_of(p);
        const int c = co_await pid_of(p);
        EXPECT_EQ(a, b);
        EXPECT_NE(b, c);  // replaced after 2 acquires
        EXPECT_EQ(inits, 2);
        EXPECT_EQ(setups, 3);
        co_await p.close();
    };
    corio::run(body());
}

TEST(pg_pool, is_an_async_context_manager) {
    auto body = []() -> corio::task<> {
        auto use = [](pg::pool& p) -> corio::task<int> { co_return co_await p.fetchval<int>("SELECT 11"); };
        const int v = co_await corio::with(co_await pg::create_pool(options(1, 2)), use);
        EXPECT_EQ(v, 11);
    };
    corio::run(body());
}

}  // namespace
