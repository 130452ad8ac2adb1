// corio::pg's COPY: copy_records_to_table (binary COPY FROM STDIN, the
// column types read from the catalog) and copy_from_query (COPY TO STDOUT as
// chunks), with queries from other tasks waiting for the COPY, a type
// mismatch, an early stop, and the connection usable after each.
#include <gtest/gtest.h>

#include <chrono>
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

TEST(pg_copy, records_to_table_and_back_out) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        const std::string tbl = t::table("copy");
        co_await c.execute("DROP TABLE IF EXISTS " + tbl);
        co_await c.execute("CREATE TABLE " + tbl + " (id int8, name text, score float8, tags jsonb, note varchar(20))");
        std::vector<std::tuple<int, std::string, double, nlohmann::json, std::optional<std::string>>> rows;
        for (int i = 0; i < 1000; ++i)
            rows.emplace_back(i, "name " + std::to_string(i) + " 'q' \\ \t", i / 4.0, nlohmann::json{{"i", i}},
                              i % 2 ? std::optional<std::string>("odd") : std::nullopt);
        // A query from another task while the COPY runs waits for it.
        auto other = [&c]() -> corio::task<int> { co_return co_await c.fetchval<int>("SELECT 77"); };
        auto h = corio::spawn(other());
        // Named first: g++ 12 destroys a braced temporary inside a co_await twice.
        const std::vector<std::string> columns{"id", "name", "score", "tags", "note"};
        const std::string tag = co_await c.copy_records_to_table(tbl, rows, columns);
        EXPECT_EQ(tag, "COPY 1000");
        EXPECT_EQ(co_await h, 77);
        EXPECT_EQ(co_await c.fetchval<std::int64_t>("SELECT count(*) FROM " + tbl), 1000);
        auto r = co_await c.fetchrow("SELECT * FROM " + tbl + " WHERE id = 7");
        EXPECT_TRUE(r.has_value());
        if (r) {
            EXPECT_EQ(r->get<std::string>("name"), "name 7 'q' \\ \t");
            EXPECT_EQ(r->get<double>("score"), 1.75);
            EXPECT_EQ(r->get<nlohmann::json>("tags"), (nlohmann::json{{"i", 7}}));
            EXPECT_EQ(r->get<std::optional<std::string>>("note"), "odd");
        }
        // Out again, as text chunks.
        std::string out;
        auto chunks = c.copy_from_query("SELECT id, name FROM " + tbl + " WHERE id < 3 ORDER BY id");
        while (auto chunk = co_await chunks.next()) out += *chunk;
        EXPECT_EQ(out, "0\tname 0 'q' \\\\ \\t\n1\tname 1 'q' \\\\ \\t\n2\tname 2 'q' \\\\ \\t\n");
        EXPECT_EQ(co_await c.fetchval<int>("SELECT 1"), 1);
        // Stopped early: the rest is drained, the connection works.
        auto many = c.copy_from_query("SELECT g FROM generate_series(1, 100000) g");
        auto first = co_await many.next();
        EXPECT_TRUE(first.has_value());
        co_await many.aclose();
        EXPECT_EQ(co_await c.fetchval<int>("SELECT 2"), 2);
        co_await c.execute("DROP TABLE " + tbl);
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_copy, mismatches_and_server_errors) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        const std::string tbl = t::table("copy_bad");
        co_await c.execute("DROP TABLE IF EXISTS " + tbl);
        co_await c.execute("CREATE TABLE " + tbl + " (id int4 PRIMARY KEY, d date)");
        std::string what;
        try {
            std::vector<std::tuple<int, std::string>> rows{{1, "2024-01-01"}};
            const std::vector<std::string> columns{"id", "d"};
            co_await c.copy_records_to_table(tbl, rows, columns);
        } catch (const pg::interface_error& e) {
            what = e.what();
        }
        EXPECT_NE(what.find("column 'd' is date"), std::string::npos) << what;
        // A server-side failure (a duplicate key): its error, nothing copied.
        std::vector<std::tuple<std::int64_t>> dup{{1}, {2}, {1}};
        std::string state;
        try {
            const std::vector<std::string> id_only{"id"};
            co_await c.copy_records_to_table(tbl, dup, id_only);
        } catch (const pg::unique_violation_error& e) {
            state = e.sqlstate();
        }
        EXPECT_EQ(state, "23505");
        EXPECT_EQ(co_await c.fetchval<std::int64_t>("SELECT count(*) FROM " + tbl), 0);
        bool bad_query = false;
        try {
            auto g = c.copy_from_query("SELECT * FROM no_such_table_copy");
            (void)co_await g.next();
        } catch (const pg::undefined_table_error&) {
            bad_query = true;
        }
        EXPECT_TRUE(bad_query);
        EXPECT_EQ(co_await c.fetchval<int>("SELECT 3"), 3);
        co_await c.execute("DROP TABLE " + tbl);
        co_await c.close();
    };
    corio::run(body());
}

}  // namespace
