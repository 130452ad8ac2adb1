// corio::mysql::pool against a real MariaDB server: minsize opened by
// create_pool (a wrong password throws from it), maxsize respected, FIFO
// order of waiters, acquire(timeout), a cancelled waiter taking nothing,
// release resetting the session, a broken connection replaced,
// pool_recycle, close/wait_closed/terminate, the pool as an async context
// manager, a query timeout inside an acquired connection, and a server
// restart healed, a query running meanwhile failing (on a private server).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include <corio/corio.hpp>
#include <corio/mysql.hpp>

#include "mariadb_server.hpp"

using namespace std::chrono_literals;
namespace mysql = corio::mysql;
using corio_mysql_test::server;

namespace {

corio::task<std::string> text_of(mysql::connection& conn, std::string sql) {
    std::string out;
    auto body = [&](mysql::cursor& cur) -> corio::task<> {
        co_await cur.execute(sql);
        auto r = co_await cur.fetchone();
        if (r) out = r->is_null(0) ? "NULL" : r->get<std::string>(0);
    };
    co_await corio::with(conn.cursor(), body);
    co_return out;
}

TEST(mysql_pool, create_pool_opens_minsize_and_the_example_runs) {
    auto body = []() -> corio::task<> {
        auto o = server().pool_options();
        o.minsize = 2;
        o.maxsize = 3;
        auto pool = co_await mysql::create_pool(o);
        EXPECT_EQ(pool.size(), 2u);
        EXPECT_EQ(pool.freesize(), 2u);
        std::size_t most = 0;
        auto get_data = [&]() -> corio::task<> {
            auto use = [&](mysql::connection& conn) -> corio::task<> {
                most = std::max(most, pool.size());
                EXPECT_EQ(co_await text_of(conn, "SELECT CAST(SLEEP(0.02) AS CHAR)"), "0");
            };
            co_await corio::with(pool.acquire(), use);
        };
        std::vector<corio::task<>> tasks;
        for (int i = 0; i < 10; ++i) tasks.push_back(get_data());
        co_await corio::gather(std::move(tasks));
        EXPECT_EQ(most, 3u);
        EXPECT_EQ(pool.size(), 3u);
        EXPECT_EQ(pool.freesize(), 3u);
        pool.close();
        co_await pool.wait_closed();
        EXPECT_EQ(pool.size(), 0u);
    };
    corio::run(body());
}

TEST(mysql_pool, a_wrong_password_throws_from_create_pool) {
    auto body = []() -> corio::task<> {
        auto o = server().pool_options();
        o.password = "Wrong-Pass-77";
        try {
            auto pool = co_await mysql::create_pool(o);
            ADD_FAILURE() << "create_pool succeeded with a wrong password";
        } catch (const mysql::operational_error& e) {
            EXPECT_EQ(e.code(), 1045u);
            EXPECT_EQ(std::string(e.what()).find("Wrong-Pass-77"), std::string::npos);
        }
    };
    corio::run(body());
}

TEST(mysql_pool, waiters_are_served_first_in_first_out) {
    auto body = []() -> corio::task<> {
        auto o = server().pool_options();
        o.maxsize = 1;
        auto pool = co_await mysql::create_pool(o);
        std::vector<int> order;
        auto user = [&](int id) -> corio::task<> {
            auto use = [&](mysql::connection& conn) -> corio::task<> {
                order.push_back(id);
                co_await conn.ping();
            };
            co_await corio::with(pool.acquire(), use);
        };
        std::vector<corio::task<>> tasks;
        for (int i = 0; i < 6; ++i) tasks.push_back(user(i));
        co_await corio::gather(std::move(tasks));
        EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
        co_await corio::with(pool, [](mysql::pool&) {});
        EXPECT_TRUE(pool.closed());
    };
    corio::run(body());
}

TEST(mysql_pool, exhaustion_with_an_acquire_timeout_is_timeout_error_and_a_cancelled_waiter_takes_nothing) {
    auto body = []() -> corio::task<> {
        auto o = server().pool_options();
        o.maxsize = 1;
        auto pool = co_await mysql::create_pool(o);
        auto holder = [&](mysql::connection&) -> corio::task<> {
            const auto start = std::chrono::steady_clock::now();
            bool timed_out = false;
            auto never = [](mysql::connection&) -> corio::task<> { co_return; };
            try {
                co_await corio::with(pool.acquire(100ms), never);
            } catch (const corio::timeout_error& e) {
                timed_out = true;
                EXPECT_NE(std::string(e.what()).find("mysql::pool::acquire: no connection within 100 ms"),
                          std::string::npos)
                    << e.what();
            }
            EXPECT_TRUE(timed_out);
            EXPECT_GE(std::chrono::steady_clock::now() - start, 95ms);
            EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
            // A waiter cancelled from outside takes nothing either.
            auto waiter = [&]() -> corio::task<> { co_await corio::with(pool.acquire(), never); };
            auto h = corio::spawn(waiter());
            co_await corio::sleep(10ms);
            h.cancel();
            bool cancelled = false;
            try {
                co_await h;
            } catch (const corio::cancelled_error&) {
                cancelled = true;
            }
            EXPECT_TRUE(cancelled);
            EXPECT_EQ(pool.size(), 1u);
        };
        co_await corio::with(pool.acquire(), holder);
        // The slot is free again: the next acquire gets the connection at once.
        auto again = [](mysql::connection& c) -> corio::task<> { co_await c.ping(); };
        co_await corio::with(pool.acquire(100ms), again);
        EXPECT_EQ(pool.size(), 1u);
        EXPECT_EQ(pool.freesize(), 1u);
        pool.close();
        co_await pool.wait_closed();
    };
    corio::run(body());
}

TEST(mysql_pool, release_rolls_back_and_resets_the_session) {
    auto body = []() -> corio::task<> {
        auto o = server().pool_options();
        o.maxsize = 1;
        auto pool = co_await mysql::create_pool(o);
        std::uint64_t first_id = 0;
        auto dirty = [&](mysql::connection& conn) -> corio::task<> {
            first_id = conn.thread_id();
            co_await text_of(conn, "SET @leftover = 'x'");
            co_await text_of(conn, "SET NAMES latin1");
            co_await text_of(conn, "CREATE TEMPORARY TABLE pool_tmp (id INT) ENGINE=InnoDB");
            co_await text_of(conn, "INSERT INTO pool_tmp VALUES (1)");
            co_await conn.autocommit(true);
            co_await conn.begin();
            co_await text_of(conn, "INSERT INTO pool_tmp VALUES (2)");
            EXPECT_TRUE(conn.in_transaction());
        };
        co_await corio::with(pool.acquire(), dirty);
        auto check = [&](mysql::connection& conn) -> corio::task<> {
            EXPECT_EQ(conn.thread_id(), first_id);  // the same connection, reset
            EXPECT_FALSE(conn.in_transaction());
            EXPECT_EQ(co_await text_of(conn, "SELECT @leftover"), "NULL");
            EXPECT_EQ(co_await text_of(conn, "SELECT IF(@@autocommit, '1', '0')"), "0");
            EXPECT_EQ(co_await text_of(conn, "SELECT @@character_set_client"), "utf8mb4");
            EXPECT_EQ(co_await text_of(conn, "SELECT @@character_set_results"), "utf8mb4");
            bool gone = false;
            try {
                co_await text_of(conn, "SELECT COUNT(*) FROM pool_tmp");
            } catch (const mysql::programming_error& e) {
                gone = e.code() == 1146;  // the temporary table went with the session
            }
            EXPECT_TRUE(gone);
        };
        co_await corio::with(pool.acquire(), check);
        // Again, now that the pool knows how this server resets (no charset question asked).
        co_await corio::with(pool.acquire(), dirty);
        co_await corio::with(pool.acquire(), check);
        pool.close();
        co_await pool.wait_closed();
    };
    corio::run(body());
}

TEST(mysql_pool, a_killed_connection_is_replaced_and_pool_recycle_closes_old_ones) {
    auto body = []() -> corio::task<> {
        auto o = server().pool_options();
        o.maxsize = 1;
        auto pool = co_await mysql::create_pool(o);
        auto killer = co_await mysql::connect(server().options());
        std::uint64_t id = 0;
        auto victim = [&](mysql::connection& conn) -> corio::task<> {
            id = conn.thread_id();
            co_await text_of(killer, "KILL " + std::to_string(id));
            bool threw = false;
            try {
                co_await text_of(conn, "SELECT 1");
            } catch (const mysql::operational_error&) {
                threw = true;
            }
            EXPECT_TRUE(threw);
        };
        co_await corio::with(pool.acquire(), victim);
        EXPECT_EQ(pool.size(), 0u);  // closed on release, its place free
        auto fresh = [&](mysql::connection& conn) -> corio::task<> {
            EXPECT_NE(conn.thread_id(), id);
            EXPECT_EQ(co_await text_of(conn, "SELECT 'ok'"), "ok");
        };
        co_await corio::with(pool.acquire(), fresh);
        // KILLed while idle in the pool: not handed out (the server's EOF is seen).
        std::uint64_t idle_id = 0;
        auto note = [&](mysql::connection& conn) -> corio::task<> {
            idle_id = conn.thread_id();
            co_return;
        };
        co_await corio::with(pool.acquire(), note);
        co_await text_of(killer, "KILL " + std::to_string(idle_id));
        co_await corio::sleep(50ms);
        auto after = [&](mysql::connection& conn) -> corio::task<> {
            EXPECT_NE(conn.thread_id(), idle_id);
            EXPECT_EQ(co_await text_of(conn, "SELECT 'ok'"), "ok");
        };
        co_await corio::with(pool.acquire(), after);
        pool.close();
        co_await pool.wait_closed();

        // pool_recycle 0: every idle connection is too old, a new one each time.
        o.pool_recycle = 0s;
        auto recycling = co_await mysql::create_pool(o);
        std::uint64_t last = 0;
        for (int i = 0; i < 3; ++i) {
            auto use = [&](mysql::connection& conn) -> corio::task<> {
                EXPECT_NE(conn.thread_id(), last);
                last = conn.thread_id();
                co_await conn.ping();
            };
            co_await corio::with(recycling.acquire(), use);
        }
        recycling.close();
        co_await recycling.wait_closed();
    };
    corio::run(body());
}

TEST(mysql_pool, close_waits_for_connections_in_use_and_refuses_new_acquires) {
    auto body = []() -> corio::task<> {
        auto o = server().pool_options();
        o.minsize = 2;
        auto pool = co_await mysql::create_pool(o);
        corio::event release;
        auto user = [&]() -> corio::task<> {
            auto use = [&](mysql::connection& conn) -> corio::task<> {
                co_await release.wait();
                co_await conn.ping();
            };
            co_await corio::with(pool.acquire(), use);
        };
        auto h = corio::spawn(user());
        co_await corio::sleep(10ms);
        pool.close();
        EXPECT_EQ(pool.size(), 1u);  // the idle one closed, the one in use not yet
        bool refused = false;
        auto never = [](mysql::connection&) -> corio::task<> { co_return; };
        try {
            co_await corio::with(pool.acquire(), never);
        } catch (const mysql::operational_error& e) {
            refused = std::string(e.what()).find("the pool is closed") != std::string::npos;
        }
        EXPECT_TRUE(refused);
        bool closed = false;
        auto waiting = [&]() -> corio::task<> {
            co_await pool.wait_closed();
            closed = true;
        };
        auto w = corio::spawn(waiting());
        co_await corio::sleep(10ms);
        EXPECT_FALSE(closed);
        release.set();
        co_await h;
        co_await w;
        EXPECT_TRUE(closed);
        EXPECT_EQ(pool.size(), 0u);
    };
    corio::run(body());
}

TEST(mysql_pool, terminate_makes_connections_in_use_fail_and_close) {
    auto body = []() -> corio::task<> {
        auto pool = co_await mysql::create_pool(server().pool_options());
        auto use = [&](mysql::connection& conn) -> corio::task<> {
            pool.terminate();
            bool threw = false;
            try {
                co_await conn.ping();
            } catch (const mysql::operational_error&) {
                threw = true;
            }
            EXPECT_TRUE(threw);
        };
        co_await corio::with(pool.acquire(), use);
        co_await pool.wait_closed();
        EXPECT_EQ(pool.size(), 0u);
    };
    corio::run(body());
}

TEST(mysql_pool, a_query_timeout_inside_an_acquired_connection_never_hands_it_out_mid_result) {
    auto body = []() -> corio::task<> {
        auto o = server().pool_options();
        o.maxsize = 1;
        auto pool = co_await mysql::create_pool(o);
        auto slow = [&](mysql::connection& conn) -> corio::task<> {
            auto run = [&](corio::timeout_scope&) -> corio::task<> { co_await text_of(conn, "SELECT SLEEP(5)"); };
            co_await corio::with(corio::timeout(150ms), run);
        };
        const auto start = std::chrono::steady_clock::now();
        bool timed_out = false;
        try {
            co_await corio::with(pool.acquire(), slow);
        } catch (const corio::timeout_error&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        auto next = [&](mysql::connection& conn) -> corio::task<> {
            EXPECT_EQ(co_await text_of(conn, "SELECT 'next'"), "next");
        };
        co_await corio::with(pool.acquire(), next);
        EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
        pool.close();
        co_await pool.wait_closed();
    };
    corio::run(body());
}

TEST(mysql_pool, a_server_restart_heals_the_pool) {
    corio_mysql_test::private_server own;
    auto body = [](corio_mysql_test::private_server& srv) -> corio::task<> {
        auto o = srv.info().pool_options();
        o.minsize = 3;
        o.maxsize = 3;
        auto pool = co_await mysql::create_pool(o);
        EXPECT_EQ(pool.freesize(), 3u);
        // A query running while the server goes down fails with operational_error.
        auto lone = co_await mysql::connect(srv.info().options());
        std::string failure;
        auto sleeper = [&]() -> corio::task<> {
            try {
                co_await text_of(lone, "SELECT SLEEP(30)");
            } catch (const mysql::operational_error& e) {
                failure = e.what();
            }
        };
        auto h = corio::spawn(sleeper());
        co_await corio::sleep(50ms);
        auto restart = [&]() { srv.restart(); };
        co_await corio::to_thread(restart);
        co_await h;
        EXPECT_FALSE(failure.empty());
        EXPECT_NE(failure.find("mysql::cursor::execute 'SELECT SLEEP(30)'"), std::string::npos) << failure;
        EXPECT_TRUE(lone.closed());
        // Every idle connection saw the server go: none is handed out.
        for (int i = 0; i < 3; ++i) {
            auto use = [&](mysql::connection& conn) -> corio::task<> {
                EXPECT_EQ(co_await text_of(conn, "SELECT 'back'"), "back");
            };
            co_await corio::with(pool.acquire(), use);
        }
        EXPECT_EQ(pool.size(), 1u);
        pool.close();
        co_await pool.wait_closed();
    };
    corio::run(body(own));
}

}  // namespace
