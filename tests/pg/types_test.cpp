// corio::pg's binary codecs against a real PostgreSQL 15: every type of
// API.md section 12 both ways, checked against the server's own text form
// (what psql prints: value::text), NULLs, arrays, strings with quotes,
// backslashes and every byte but NUL, bytea with NUL, and no SQL injection
// through parameters; values the C++ type cannot hold (infinity, dates past
// year 32767, huge intervals, a float8 too big for float) and malformed
// binary input (what a broken or hostile peer could send: truncated or
// oversized arrays, bad numeric digits) refused with pg::type_error.
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <corio/corio.hpp>
#include <corio/pg.hpp>

#include "pg_server.hpp"

using namespace std::chrono_literals;
namespace pg = corio::pg;
namespace t = corio_pg_test;
using std::chrono::microseconds;

namespace {

TEST(pg_types, scalars_round_trip_and_match_the_servers_text) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        co_await c.execute("SET TIME ZONE 'UTC'");
        co_await c.execute("SET IntervalStyle = 'postgres'");
        // Sent as a binary parameter, echoed, read back; and the server's text.
        EXPECT_EQ(co_await c.fetchval<bool>("SELECT $1", true), true);
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT $1::text", false), "false");
        EXPECT_EQ(co_await c.fetchval<std::int16_t>("SELECT $1", std::int16_t{-32768}), -32768);
        EXPECT_EQ(co_await c.fetchval<int>("SELECT $1", 2147483647), 2147483647);
        EXPECT_EQ(co_await c.fetchval<std::int64_t>("SELECT $1", std::int64_t{-9223372036854775807LL}),
                  -9223372036854775807LL);
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT $1::text", std::int64_t{1234567890123}), "1234567890123");
        EXPECT_EQ(co_await c.fetchval<std::int64_t>("SELECT 5::int2"), 5);  // a narrower column widens
        EXPECT_EQ(co_await c.fetchval<float>("SELECT $1", 1.5f), 1.5f);
        EXPECT_EQ(co_await c.fetchval<double>("SELECT $1", 0.1), 0.1);
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT $1::text", 0.1), "0.1");
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT $1::text", 2.5f), "2.5");

        // timestamptz: 2024-02-29 12:34:56.789012 UTC.
        using namespace std::chrono;
        const sys_time<microseconds> ts = sys_days(2024y / February / 29) + 12h + 34min + 56s + 789012us;
        EXPECT_EQ(co_await c.fetchval<sys_time<microseconds>>("SELECT $1", ts), ts);
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT $1::text", ts), "2024-02-29 12:34:56.789012+00");
        EXPECT_EQ(co_await c.fetchval<sys_time<microseconds>>("SELECT '1999-12-31 23:59:59+00'::timestamptz"),
                  sys_time<microseconds>(sys_days(1999y / December / 31) + 23h + 59min + 59s));
        // timestamp (no zone).
        const local_time<microseconds> lt = local_days(1970y / January / 1) + 1us;
        EXPECT_EQ(co_await c.fetchval<local_time<microseconds>>("SELECT $1", lt), lt);
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT $1::text", lt), "1970-01-01 00:00:00.000001");
        // date.
        const year_month_day d = 1900y / March / 1;
        EXPECT_EQ(co_await c.fetchval<year_month_day>("SELECT $1", d), d);
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT $1::text", d), "1900-03-01");
        EXPECT_EQ(co_await c.fetchval<year_month_day>("SELECT '2038-01-19'::date"), 2038y / January / 19);
        // interval: microseconds; a day is 24 h and a month 30 days when read.
        const microseconds iv = 26h + 3min + 4s + 5us;
        EXPECT_EQ(co_await c.fetchval<microseconds>("SELECT $1", iv), iv);
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT $1::text", iv), "26:03:04.000005");
        EXPECT_EQ(co_await c.fetchval<microseconds>("SELECT '1 mon 2 days 00:00:01'::interval"),
                  microseconds((32LL * 86400 + 1) * 1'000'000));
        // uuid and numeric as their text, both ways.
        const std::string u = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT $1::uuid", u), u);
        // Named, not a braced list in the coroutine (g++ 12 cannot keep one in a frame).
        const std::vector<std::string> numerics{"0", "1", "-1", "10000", "123456789.000123", "0.00001", "-0.5", "1e-7",
                                                "99999999999999999999.99", "NaN",
                                                "3.14159265358979323846264338327950288", "100.10"};
        for (const std::string& n : numerics) {
            const std::string text = co_await c.fetchval<std::string>("SELECT $1::numeric::text", n);
            EXPECT_EQ(co_await c.fetchval<std::string>("SELECT $1::numeric", n), text) << n;
        }
        // json and jsonb as nlohmann::json.
        nlohmann::json j;
        j["a"] = 1;
        j["b"] = nlohmann::json::array();
        j["b"].push_back(true);
        j["b"].push_back(nullptr);
        j["b"].push_back("x\"y");
        EXPECT_EQ(co_await c.fetchval<nlohmann::json>("SELECT $1::jsonb", j), j);
        EXPECT_EQ(co_await c.fetchval<nlohmann::json>("SELECT $1::json", j), j);
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT $1::jsonb::text", j), R"({"a": 1, "b": [true, null, "x\"y"]})");
        // bytea with every byte, NUL included.
        std::vector<std::byte> bytes;
        for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<std::byte>(i));
        bytes.push_back(std::byte{0});
        EXPECT_EQ(co_await c.fetchval<std::vector<std::byte>>("SELECT $1", bytes), bytes);
        EXPECT_EQ(co_await c.fetchval<int>("SELECT length($1::bytea)", bytes), 257);
        const std::vector<std::byte> two{std::byte{0}, std::byte{0xff}};
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT encode($1::bytea, 'hex')", two), "00ff");
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_types, nulls_and_optionals) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        const std::optional<int> none;
        EXPECT_FALSE((co_await c.fetchval<std::optional<int>>("SELECT $1::int", none)).has_value());
        EXPECT_EQ(co_await c.fetchval<bool>("SELECT $1::text IS NULL", std::optional<std::string>()), true);
        EXPECT_EQ(co_await c.fetchval<std::optional<int>>("SELECT $1", std::optional<int>(7)), 7);
        EXPECT_EQ(co_await c.fetchval<bool>("SELECT $1::int IS NULL", nullptr), true);
        co_await c.close();
    };
    corio::run(body());
}

// Reads `sql`'s single value as T and gives the type_error's message ("" if none).
template <class T>
corio::task<std::string> refusal(pg::connection& c, std::string sql) {
    try {
        (void)co_await c.fetchval<T>(sql);
    } catch (const pg::type_error& e) {
        co_return e.what();
    }
    co_return "";
}

TEST(pg_types, values_the_cpp_type_cannot_hold_are_type_errors) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        using tz = std::chrono::sys_time<microseconds>;
        using local = std::chrono::local_time<microseconds>;
        std::string what = co_await refusal<tz>(c, "SELECT 'infinity'::timestamptz");
        EXPECT_NE(what.find("infinity has no time_point"), std::string::npos) << what;
        what = co_await refusal<local>(c, "SELECT '-infinity'::timestamp");
        EXPECT_NE(what.find("infinity has no time_point"), std::string::npos) << what;
        what = co_await refusal<std::chrono::year_month_day>(c, "SELECT '40000-01-01'::date");
        EXPECT_NE(what.find("beyond std::chrono::year"), std::string::npos) << what;
        what = co_await refusal<microseconds>(c, "SELECT interval '170000000 years'");
        EXPECT_NE(what.find("out of std::chrono::microseconds' range"), std::string::npos) << what;
        what = co_await refusal<float>(c, "SELECT 1e300::float8");
        EXPECT_NE(what.find("does not fit in a float"), std::string::npos) << what;
        // What fits still reads.
        EXPECT_EQ(co_await c.fetchval<float>("SELECT 1.5::float8"), 1.5f);
        EXPECT_EQ((co_await c.fetchval<std::chrono::year_month_day>("SELECT '32767-12-31'::date")).year(),
                  std::chrono::year(32767));
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_types, malformed_binary_values_are_type_errors) {
    namespace d = corio::pg::detail;
    auto be = [](std::string& out, std::uint64_t v, int n) { d::put_be(out, v, n); };
    auto refused = [](auto decode_one, const std::string& bytes) -> std::string {
        try {
            decode_one(pg::cell{bytes.data(), static_cast<int>(bytes.size()), false});
        } catch (const pg::type_error& e) {
            return e.what();
        }
        return "";
    };
    const d::column_ref ints{"xs", pg::oids::int4_array, "std::vector<int>"};
    auto ints_of = [&ints](const pg::cell& c) { (void)d::decode<std::vector<std::int32_t>>(c, ints); };
    std::string header;  // one dimension, no nulls, int4; then the count
    be(header, 1, 4);
    be(header, 0, 4);
    be(header, pg::oids::int4, 4);
    // A one-dimensional array cut inside its 20-byte header.
    EXPECT_NE(refused(ints_of, header + "\x00\x00").find("a truncated array"), std::string::npos);
    // A count the bytes cannot hold (nothing reserved for it), and a negative one.
    std::string huge = header;
    be(huge, 0x7fffffff, 4);
    be(huge, 1, 4);
    EXPECT_NE(refused(ints_of, huge).find("an array of 2147483647 elements"), std::string::npos);
    std::string negative = header;
    be(negative, 0xffffffff, 4);
    be(negative, 1, 4);
    EXPECT_NE(refused(ints_of, negative).find("an array of -1 elements"), std::string::npos);
    // A numeric digit outside base 10000, and an unknown sign word.
    const d::column_ref num{"n", pg::oids::numeric, "std::string"};
    auto numeric_of = [&num](const pg::cell& c) { (void)d::decode<std::string>(c, num); };
    std::string bad_digit;
    be(bad_digit, 1, 2);
    be(bad_digit, 0, 2);
    be(bad_digit, 0, 2);
    be(bad_digit, 0, 2);
    be(bad_digit, 12345, 2);
    EXPECT_NE(refused(numeric_of, bad_digit).find("a numeric digit 12345"), std::string::npos);
    std::string bad_sign;
    be(bad_sign, 0, 2);
    be(bad_sign, 0, 2);
    be(bad_sign, 0x1234, 2);
    be(bad_sign, 0, 2);
    EXPECT_NE(refused(numeric_of, bad_sign).find("sign word"), std::string::npos);
}

TEST(pg_types, arrays_round_trip) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        const std::vector<int> ints{1, -2, 3};
        EXPECT_EQ(co_await c.fetchval<std::vector<int>>("SELECT $1", ints), ints);
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT $1::text", ints), "{1,-2,3}");
        const std::vector<std::string> texts{"a", "b c", "", "\"q\""};
        EXPECT_EQ(co_await c.fetchval<std::vector<std::string>>("SELECT $1", texts), texts);
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT $1::text", texts), R"({a,"b c","","\"q\""})");
        const std::vector<std::optional<std::int64_t>> holes{1, std::nullopt, 3};
        EXPECT_EQ(co_await c.fetchval<std::vector<std::optional<std::int64_t>>>("SELECT $1", holes), holes);
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT $1::text", holes), "{1,NULL,3}");
        const std::vector<double> doubles{1.5, 2.5};
        EXPECT_EQ(co_await c.fetchval<std::vector<double>>("SELECT ARRAY[1.5, 2.5]::float8[]"), doubles);
        EXPECT_TRUE((co_await c.fetchval<std::vector<int>>("SELECT '{}'::int[]")).empty());
        bool threw = false;
        try {
            (void)co_await c.fetchval<std::vector<int>>("SELECT ARRAY[1, NULL]");
        } catch (const pg::type_error&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_types, strings_with_every_byte_but_nul_and_no_injection) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        const std::string tbl = t::table("strs");
        co_await c.execute("DROP TABLE IF EXISTS " + tbl);
        co_await c.execute("CREATE TABLE " + tbl + " (id int, s text)");
        // Every byte 1..127 (the database is UTF-8: bytes above 127 must form
        // UTF-8), then every code point up to U+07FF as UTF-8, quotes and backslashes.
        std::string all;
        for (int b = 1; b < 128; ++b) all.push_back(static_cast<char>(b));
        for (int cp = 0x80; cp < 0x800; ++cp) {
            all.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            all.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
        all += "'; DROP TABLE " + tbl + "; -- \\' \\\\ \" $1 E'\\x00'";
        co_await c.execute("INSERT INTO " + tbl + " VALUES ($1, $2)", 1, all);
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT s FROM " + tbl + " WHERE id = $1", 1), all);
        EXPECT_EQ(co_await c.fetchval<int>("SELECT length(s) FROM " + tbl), 127 + (0x800 - 0x80) + static_cast<int>(
                      std::string("'; DROP TABLE " + tbl + "; -- \\' \\\\ \" $1 E'\\x00'").size()));
        // Injection through a parameter is just a value.
        const std::string evil = "1 OR 1=1";
        EXPECT_EQ(co_await c.fetchval<std::int64_t>("SELECT count(*) FROM " + tbl + " WHERE s = $1", evil), 0);
        const std::string evil2 = "x'); DELETE FROM " + tbl + "; --";
        co_await c.execute("INSERT INTO " + tbl + " VALUES (2, $1)", evil2);
        EXPECT_EQ(co_await c.fetchval<std::int64_t>("SELECT count(*) FROM " + tbl), 2);
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT s FROM " + tbl + " WHERE id = 2"), evil2);
        // A NUL cannot be in text (libpq would cut the value there): refused
        // before anything is sent, naming the parameter's problem.
        std::string what;
        try {
            co_await c.execute("INSERT INTO " + tbl + " VALUES (3, $1)", std::string("a\0b", 3));
        } catch (const pg::interface_error& e) {
            what = e.what();
        }
        EXPECT_NE(what.find("NUL"), std::string::npos) << what;
        EXPECT_EQ(co_await c.fetchval<std::int64_t>("SELECT count(*) FROM " + tbl), 2);
        co_await c.execute("DROP TABLE " + tbl);
        co_await c.close();
    };
    corio::run(body());
}

}  // namespace
