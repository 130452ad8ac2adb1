// Cancelling corio::mysql calls against a real MariaDB server: a query under
// a timeout is killed on the server (KILL QUERY from another connection)
// and the connection drained and usable; a connection the server kills
// (KILL) reports operational_error and is closed; a stream cancelled in the
// middle of its rows closes the connection rather than leaving it mid-result.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <corio/corio.hpp>
#include <corio/mysql.hpp>

#include "mariadb_server.hpp"

using namespace std::chrono_literals;
namespace mysql = corio::mysql;
using corio_mysql_test::server;

namespace {

corio::task<long long> scalar(mysql::connection& conn, std::string sql) {
    long long n = -1;
    auto body = [&](mysql::cursor& cur) -> corio::task<> {
        co_await cur.execute(sql);
        n = (co_await cur.fetchone())->get<long long>(0);
    };
    co_await corio::with(conn.cursor(), body);
    co_return n;
}

// Queries of `thread_id` running on the server (from another connection).
corio::task<long long> running_queries(mysql::connection& observer, std::uint64_t thread_id) {
    co_return co_await scalar(observer, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = " +
                                            std::to_string(thread_id) + " AND COMMAND = 'Query'");
}

// The same, after giving the server up to 1 s to finish its bookkeeping (the
// client has the killed query's reply a moment before the server's thread
// shows as idle); a SLEEP(5) that was not killed still runs then.
corio::task<long long> queries_after_kill(mysql::connection& observer, std::uint64_t thread_id) {
    long long n = 0;
    for (int i = 0; i < 100; ++i) {
        n = co_await running_queries(observer, thread_id);
        if (n == 0) break;
        co_await corio::sleep(10ms);
    }
    co_return n;
}

TEST(mysql_cancel, a_query_timeout_kills_the_query_and_leaves_the_connection_usable) {
    auto body = []() -> corio::task<> {
        auto conn = co_await mysql::connect(server().options());
        auto observer = co_await mysql::connect(server().options());
        for (int prepared = 0; prepared < 2; ++prepared) {
            const auto start = std::chrono::steady_clock::now();
            auto sleepy = [&](mysql::cursor& cur) -> corio::task<> {
                auto run = [&](corio::timeout_scope&) -> corio::task<> {
                    if (prepared)
                        co_await cur.execute("SELECT SLEEP(%s)", 5);
                    else
                        co_await cur.execute("SELECT SLEEP(5)");
                };
                co_await corio::with(corio::timeout(200ms), run);
            };
            bool timed_out = false;
            try {
                co_await corio::with(conn.cursor(), sleepy);
            } catch (const corio::timeout_error&) {
                timed_out = true;
            }
            EXPECT_TRUE(timed_out);
            EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
            EXPECT_EQ(co_await queries_after_kill(observer, conn.thread_id()), 0);
            EXPECT_FALSE(conn.closed());  // drained, not closed
            EXPECT_EQ(co_await scalar(conn, "SELECT 7"), 7);
        }
    };
    corio::run(body());
}

TEST(mysql_cancel, a_cancelled_task_kills_its_query) {
    auto body = []() -> corio::task<> {
        auto conn = co_await mysql::connect(server().options());
        auto observer = co_await mysql::connect(server().options());
        auto sleeper = [&]() -> corio::task<> { (void)co_await scalar(conn, "SELECT SLEEP(5)"); };
        auto h = corio::spawn(sleeper());
        co_await corio::sleep(200ms);
        EXPECT_EQ(co_await running_queries(observer, conn.thread_id()), 1);
        const auto start = std::chrono::steady_clock::now();
        h.cancel();
        bool cancelled = false;
        try {
            co_await h;
        } catch (const corio::cancelled_error&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
        EXPECT_EQ(co_await queries_after_kill(observer, conn.thread_id()), 0);
        EXPECT_EQ(co_await scalar(conn, "SELECT 8"), 8);
    };
    corio::run(body());
}

TEST(mysql_cancel, a_connection_killed_by_the_server_is_operational_error_and_closed) {
    auto body = []() -> corio::task<> {
        auto conn = co_await mysql::connect(server().options());
        auto killer = co_await mysql::connect(server().options());
        auto kill = [&](mysql::cursor& cur) -> corio::task<> { co_await cur.execute("KILL %s", conn.thread_id()); };
        co_await corio::with(killer.cursor(), kill);
        bool threw = false;
        try {
            (void)co_await scalar(conn, "SELECT 1");
        } catch (const mysql::operational_error& e) {
            threw = true;
            EXPECT_TRUE(e.code() == 2013u || e.code() == 2006u || e.code() == 1927u) << e.what();
        }
        EXPECT_TRUE(threw);
        EXPECT_TRUE(conn.closed());
        threw = false;
        try {
            (void)co_await scalar(conn, "SELECT 1");
        } catch (const mysql::operational_error& e) {
            threw = std::string(e.what()).find("is closed") != std::string::npos;
        }
        EXPECT_TRUE(threw);
    };
    corio::run(body());
}

TEST(mysql_cancel, a_stream_dropped_mid_result_closes_the_connection) {
    auto body = []() -> corio::task<> {
        auto conn = co_await mysql::connect(server().options());
        auto use = [&](mysql::cursor& cur) -> corio::task<> {
            auto gen = cur.stream("SELECT seq FROM seq_1_to_1000000");
            auto first = co_await gen.next();
            EXPECT_EQ(first->get<int>(0), 1);
        };  // gen dropped without aclose: the rest of the result is still on the wire
        co_await corio::with(conn.cursor(), use);
        EXPECT_TRUE(conn.closed());
    };
    corio::run(body());
}

}  // namespace
