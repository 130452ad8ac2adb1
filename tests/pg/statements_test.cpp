// corio::pg's prepare (prepared_statement), cursor (batches inside a
// transaction) and listen/notify, against a real PostgreSQL 15.
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

TEST(pg_statements, prepare_runs_with_the_servers_parameter_types) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        pg::prepared_statement st = co_await c.prepare("SELECT $1::int4 + 1 AS next, $2::text AS label");
        EXPECT_EQ(st.parameter_types(), (std::vector<pg::oid>{pg::oids::int4, pg::oids::text}));
        EXPECT_EQ(st.column_names(), (std::vector<std::string>{"next", "label"}));
        EXPECT_EQ(co_await st.fetchval<int>(41, "x"), 42);
        // An int64 argument for the int4 parameter is narrowed, range-checked.
        EXPECT_EQ(co_await st.fetchval<int>(std::int64_t{9}, "y"), 10);
        std::string what;
        try {
            (void)co_await st.fetchval<int>(std::int64_t{1} << 40, "z");
        } catch (const pg::interface_error& e) {
            what = e.what();
        }
        EXPECT_NE(what.find("parameter $1"), std::string::npos) << what;
        EXPECT_NE(what.find("int4"), std::string::npos) << what;
        what.clear();
        try {
            (void)co_await st.fetchval<int>(1.5, "z");
        } catch (const pg::interface_error& e) {
            what = e.what();
        }
        EXPECT_NE(what.find("a float8 value for a int4 parameter"), std::string::npos) << what;
        what.clear();
        try {
            (void)co_await st.fetchval<int>(1);
        } catch (const pg::interface_error& e) {
            what = e.what();
        }
        EXPECT_NE(what.find("1 arguments for 2 parameters"), std::string::npos) << what;
        auto rows = co_await st.fetch(1, "a");
        EXPECT_EQ(rows.size(), 1u);
        EXPECT_EQ(co_await st.execute(2, "b"), "SELECT 1");
        // Text arguments fill any parameter type.
        EXPECT_EQ(co_await st.fetchval<int>(std::string("5"), "c"), 6);
        const std::string name_count =
            "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE '__corio_stmt_%'";
        EXPECT_EQ(co_await c.fetchval<std::int64_t>(name_count), 1);
        {
            pg::prepared_statement gone = co_await c.prepare("SELECT 1");
            EXPECT_EQ(co_await c.fetchval<std::int64_t>(name_count), 2);
        }
        // Deallocated with the next query.
        EXPECT_EQ(co_await c.fetchval<std::int64_t>(name_count), 1);
        // A statement the server cannot prepare: its error, from prepare.
        bool threw = false;
        try {
            (void)co_await c.prepare("SELECT * FROM no_such_table_x");
        } catch (const pg::undefined_table_error&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_statements, cursor_gives_rows_in_batches_inside_a_transaction) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        auto read_all = [&](pg::transaction&) -> corio::task<> {
            std::vector<int> seen;
            auto rows = c.cursor("SELECT g FROM generate_series(1, $1::int) g", 237);
            while (auto r = co_await rows.next()) seen.push_back(r->get<int>(0));
            EXPECT_EQ(seen.size(), 237u);
            for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<int>(i) + 1);
            // Early exit: the rest is never fetched; the transaction ends it.
            auto few = c.cursor("SELECT g FROM generate_series(1, 1000000) g");
            int n = 0;
            while (auto r = co_await few.next()) {
                if (++n == 3) break;
            }
            co_await few.aclose();
            EXPECT_EQ(n, 3);
            // The fetched batches were bounded: the connection still answers at once.
            EXPECT_EQ(co_await c.fetchval<int>("SELECT 1"), 1);
        };
        co_await corio::with(c.transaction(), read_all);
        // Outside a transaction: refused, as asyncpg.
        bool refused = false;
        try {
            auto rows = c.cursor("SELECT 1");
            (void)co_await rows.next();
        } catch (const pg::interface_error&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_statements, listen_yields_notifications_from_another_session) {
    auto body = []() -> corio::task<> {
        pg::connection listener = co_await pg::connect(t::dsn());
        pg::connection sender = co_await pg::connect(t::dsn());
        const std::string channel = t::table("chan");
        auto notes = listener.listen(channel);
        // The first next() sends LISTEN and then waits: notify once it listens.
        auto send = [&]() -> corio::task<> {
            for (int i = 0; i < 50; ++i) {
                if (co_await sender.fetchval<std::int64_t>(
                        "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'LISTEN%'",
                        listener.backend_pid()) > 0)
                    break;
                co_await corio::sleep(10ms);
            }
            co_await sender.notify(channel, "one");
            co_await sender.notify(channel, "two");
            co_await sender.notify("some_other_channel", "ignored");
        };
        auto h = corio::spawn(send());
        auto first = co_await corio::wait_for(notes.next(), 5s);
        EXPECT_TRUE(first.has_value());
        if (first) {
            EXPECT_EQ(first->channel, channel);
            EXPECT_EQ(first->payload, "one");
            EXPECT_EQ(first->pid, sender.backend_pid());
        }
        // A query on the listening connection while notifications arrive.
        EXPECT_EQ(co_await listener.fetchval<int>("SELECT 5"), 5);
        auto second = co_await corio::wait_for(notes.next(), 5s);
        EXPECT_TRUE(second.has_value());
        if (second) {
            EXPECT_EQ(second->payload, "two");
        }
        co_await h;
        // Cancelled while waiting: nothing lost, the connection still works.
        bool timed_out = false;
        try {
            (void)co_await corio::wait_for(notes.next(), 100ms);
        } catch (const corio::timeout_error&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_EQ(co_await listener.fetchval<int>("SELECT 6"), 6);
        co_await notes.aclose();
        EXPECT_EQ(co_await listener.fetchval<std::int64_t>("SELECT count(*) FROM pg_listening_channels()"), 0);
        co_await listener.close();
        co_await sender.close();
    };
    corio::run(body());
}

}  // namespace
