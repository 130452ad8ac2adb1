// corio::mysql::cursor against a real MariaDB server: plain and %s
// statements, fetchone/fetchmany/fetchall, rowcount, lastrowid,
// description, row::get<T> for every type of API.md section 12 (and its
// type_error), the server's errors mapped to corio::mysql's classes, the
// placeholder count check, and values that must go through unchanged
// (quotes, backslashes, NUL bytes, an injection attempt).
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>
#include <string>
#include <vector>

#include <corio/corio.hpp>
#include <corio/mysql.hpp>

#include "mariadb_server.hpp"

using namespace std::chrono_literals;
using namespace std::string_literals;
namespace mysql = corio::mysql;
using corio_mysql_test::server;

namespace {

// Runs `f(cursor&)` on a fresh connection (temporary tables keep tests apart).
template <class F>
void with_cursor(F f) {
    auto body = [](F fn) -> corio::task<> {
        auto conn = co_await mysql::connect(server().options());
        auto inner = [&](mysql::cursor& cur) -> corio::task<> { co_await fn(conn, cur); };
        co_await corio::with(conn.cursor(), inner);
        co_await conn.close();
    };
    corio::run(body(std::move(f)));
}

TEST(mysql_query, plain_select_fetch_calls_rowcount_and_description) {
    with_cursor([](mysql::connection&, mysql::cursor& cur) -> corio::task<> {
        const auto n = co_await cur.execute("SELECT 1 AS one, 'two' AS two UNION ALL SELECT 3, 'four' UNION ALL SELECT 5, 'six'");
        EXPECT_EQ(n, 3u);
        EXPECT_EQ(cur.rowcount(), 3);
        EXPECT_EQ(cur.description().size(), 2u);
        if (cur.description().size() != 2u) co_return;
        EXPECT_EQ(cur.description()[0].name, "one");
        EXPECT_EQ(cur.description()[1].name, "two");
        EXPECT_EQ(cur.description()[1].type_name, "VARCHAR");
        auto first = co_await cur.fetchone();
        EXPECT_TRUE(first.has_value());
        EXPECT_EQ(first->get<int>(0), 1);
        EXPECT_EQ(first->get<std::string>("two"), "two");
        auto some = co_await cur.fetchmany(1);
        EXPECT_EQ(some.size(), 1u);
        EXPECT_EQ(some[0].get<int>("one"), 3);
        auto rest = co_await cur.fetchall();
        EXPECT_EQ(rest.size(), 1u);
        EXPECT_EQ(rest[0].get<std::string>(1), "six");
        EXPECT_FALSE((co_await cur.fetchone()).has_value());
        EXPECT_TRUE((co_await cur.fetchall()).empty());
    });
}

TEST(mysql_query, cursor_is_an_async_iterator) {
    with_cursor([](mysql::connection&, mysql::cursor& cur) -> corio::task<> {
        co_await cur.execute("SELECT seq FROM seq_1_to_5");
        int sum = 0, count = 0;
        while (auto r = co_await cur.next()) {
            sum += r->get<int>(0);
            ++count;
        }
        EXPECT_EQ(count, 5);
        EXPECT_EQ(sum, 15);
    });
}

TEST(mysql_query, parameters_insert_lastrowid_and_rowcount) {
    with_cursor([](mysql::connection&, mysql::cursor& cur) -> corio::task<> {
        co_await cur.execute("CREATE TEMPORARY TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50), n INT)");
        EXPECT_EQ(co_await cur.execute("INSERT INTO t(name, n) VALUES (%s, %s)", "ada", 1), 1u);
        EXPECT_EQ(cur.lastrowid(), 1u);
        EXPECT_EQ(co_await cur.execute("INSERT INTO t(name, n) VALUES (%s, %s)", std::string("bob"), 2), 1u);
        EXPECT_EQ(cur.lastrowid(), 2u);
        EXPECT_EQ(co_await cur.execute("UPDATE t SET n = n + %s WHERE n >= %s", 10, 1), 2u);
        EXPECT_EQ(cur.rowcount(), 2);
        EXPECT_EQ(co_await cur.execute("SELECT name FROM t WHERE n > %s ORDER BY id", 11), 1u);
        auto rows = co_await cur.fetchall();
        EXPECT_EQ(rows.size(), 1u);
        if (!rows.empty()) {
            EXPECT_EQ(rows[0].get<std::string>("name"), "bob");
        }
        // %s inside a string literal is text; %% is a literal % when there are arguments.
        co_await cur.execute("SELECT '%s', 5 %% %s", 3);
        auto r = co_await cur.fetchone();
        EXPECT_EQ(r->get<std::string>(0), "%s");
        EXPECT_EQ(r->get<int>(1), 2);
    });
}

TEST(mysql_query, a_placeholder_count_that_does_not_match_is_programming_error) {
    with_cursor([](mysql::connection&, mysql::cursor& cur) -> corio::task<> {
        bool threw = false;
        try {
            co_await cur.execute("SELECT %s, %s", 1);
        } catch (const mysql::programming_error& e) {
            threw = true;
            const std::string what = e.what();
            EXPECT_NE(what.find("mysql::cursor::execute 'SELECT %s, %s'"), std::string::npos) << what;
            EXPECT_NE(what.find("2 placeholders"), std::string::npos) << what;
            EXPECT_NE(what.find("1 argument"), std::string::npos) << what;
        }
        EXPECT_TRUE(threw);
        threw = false;
        try {
            co_await cur.execute("SELECT 1", 7, 8);
        } catch (const mysql::programming_error& e) {
            threw = true;
            EXPECT_NE(std::string(e.what()).find("0 placeholders (%s) but 2 arguments"), std::string::npos) << e.what();
        }
        EXPECT_TRUE(threw);
        // The connection is still fine.
        co_await cur.execute("SELECT %s", 1);
        EXPECT_EQ((co_await cur.fetchone())->get<int>(0), 1);
    });
}

TEST(mysql_query, every_type_round_trips_through_parameters_and_plain_sql) {
    with_cursor([](mysql::connection&, mysql::cursor& cur) -> corio::task<> {
        co_await cur.execute(
            "CREATE TEMPORARY TABLE ty (i INT, bi BIGINT UNSIGNED, ti TINYINT, f FLOAT, d DOUBLE, dec_ DECIMAL(10,3), "
            "s VARCHAR(100), txt MEDIUMTEXT, b BLOB, dt DATE, dtm DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME(6), j JSON, "
            "n INT NULL)");
        using namespace std::chrono;
        const year_month_day leap_day{year(2024), month(2), day(29)};
        const local_time<microseconds> when = local_days(year_month_day{year(2023), month(12), day(31)}) + 23h + 59min +
                                             58s + 123456us;
        const std::vector<std::byte> blob{std::byte{0}, std::byte{0xff}, std::byte{'\''}, std::byte{0x5c}};
        nlohmann::json j = {{"a", 1}, {"b", {true, nullptr, "x"}}};
        co_await cur.execute("INSERT INTO ty VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", -42,
                             18446744073709551615ull, true, 1.5f, 2.25, "12345.678", "héllo ✓", std::string(70000, 'x'),
                             blob, leap_day, when, when, microseconds(-(3 * 3600 + 4 * 60 + 5) * 1000000LL - 6), j,
                             std::optional<int>());
        // Once through the binary protocol (a parameter), once through text (plain SQL).
        for (int pass = 0; pass < 2; ++pass) {
            if (pass == 0)
                co_await cur.execute("SELECT * FROM ty WHERE i = %s", -42);
            else
                co_await cur.execute("SELECT * FROM ty");
            auto r = co_await cur.fetchone();
            EXPECT_TRUE(r.has_value());
            if (!r) co_return;
            SCOPED_TRACE(pass == 0 ? "prepared" : "plain");
            EXPECT_EQ(r->get<int>("i"), -42);
            EXPECT_EQ(r->get<std::uint64_t>("bi"), 18446744073709551615ull);
            EXPECT_EQ(r->get<bool>("ti"), true);
            EXPECT_EQ(r->get<float>("f"), 1.5f);
            EXPECT_EQ(r->get<double>("d"), 2.25);
            EXPECT_EQ(r->get<std::string>("dec_"), "12345.678");
            EXPECT_EQ(r->get<std::string>("s"), "héllo ✓");
            EXPECT_EQ(r->get<std::string>("txt"), std::string(70000, 'x'));
            EXPECT_EQ(r->get<std::vector<std::byte>>("b"), blob);
            EXPECT_EQ(r->get<year_month_day>("dt"), leap_day);
            EXPECT_EQ(r->get<local_time<microseconds>>("dtm"), when);
            EXPECT_EQ(r->get<local_time<microseconds>>("ts"), floor<milliseconds>(when));
            EXPECT_EQ(r->get<microseconds>("tm"), microseconds(-(3 * 3600 + 4 * 60 + 5) * 1000000LL - 6));
            EXPECT_EQ(r->get<nlohmann::json>("j"), j);
            EXPECT_FALSE(r->get<std::optional<int>>("n").has_value());
            EXPECT_EQ(r->get<std::optional<int>>("i"), std::optional<int>(-42));
            EXPECT_TRUE(r->is_null("n"));
            EXPECT_EQ(r->size(), 15u);
        }
    });
}

TEST(mysql_query, a_wrong_type_or_null_into_a_non_optional_names_the_column_and_both_types) {
    with_cursor([](mysql::connection&, mysql::cursor& cur) -> corio::task<> {
        co_await cur.execute("SELECT 'ada' AS name, NULL AS missing, 300 AS big");
        auto r = co_await cur.fetchone();
        EXPECT_TRUE(r.has_value());
        try {
            (void)r->get<int>("name");
            ADD_FAILURE() << "a string read as int";
        } catch (const mysql::type_error& e) {
            EXPECT_STREQ(e.what(), "mysql::row::get<int> column 'name': the column is a string (VARCHAR)");
        }
        try {
            (void)r->get<std::string>(1);
            ADD_FAILURE() << "NULL read as std::string";
        } catch (const mysql::type_error& e) {
            EXPECT_NE(std::string(e.what()).find("mysql::row::get<std::string> column 'missing': the value is NULL"),
                      std::string::npos)
                << e.what();
        }
        try {
            (void)r->get<signed char>("big");
            ADD_FAILURE() << "300 read as signed char";
        } catch (const mysql::type_error& e) {
            EXPECT_NE(std::string(e.what()).find("the value 300 does not fit"), std::string::npos) << e.what();
        }
        try {
            (void)r->get<int>("nope");
            ADD_FAILURE() << "an unknown column name";
        } catch (const mysql::type_error& e) {
            EXPECT_NE(std::string(e.what()).find("no column named 'nope'"), std::string::npos) << e.what();
        }
        EXPECT_THROW((void)r->get<int>(7), std::out_of_range);
    });
}

TEST(mysql_query, values_no_cpp_type_holds_are_type_errors) {
    // A JSON number beyond double, from the real server.
    with_cursor([](mysql::connection&, mysql::cursor& cur) -> corio::task<> {
        co_await cur.execute("SELECT '[1e999]' AS doc");
        auto r = co_await cur.fetchone();
        EXPECT_TRUE(r.has_value());
        try {
            (void)r->get<nlohmann::json>("doc");
            ADD_FAILURE() << "1e999 read as a JSON number";
        } catch (const mysql::type_error& e) {
            EXPECT_NE(std::string(e.what()).find("column 'doc': the value is not JSON"), std::string::npos) << e.what();
        }
    });
    // Fields out of range (what fuzz/mysql_values_fuzz sends; no server does):
    // refused, never an overflowing sum or a wrapped year.
    auto columns = std::make_shared<std::vector<mysql::column>>(1);
    (*columns)[0].name = "t";
    auto refused = [&columns](mysql::date_time d, auto cpp_type) -> std::string {
        const mysql::row r(columns, std::vector<mysql::value>{d});
        try {
            (void)r.get<decltype(cpp_type)>(0);
        } catch (const mysql::type_error& e) {
            return e.what();
        }
        return "";
    };
    mysql::date_time time;
    time.type = mysql::date_time::kind::time;
    time.hour = 4'000'000'000u;
    EXPECT_NE(refused(time, std::chrono::microseconds()).find("is not a valid TIME"), std::string::npos);
    mysql::date_time stamp;
    stamp.year = 2024;
    stamp.month = 2;
    stamp.day = 29;
    stamp.hour = 24;
    using local = std::chrono::local_time<std::chrono::microseconds>;
    EXPECT_NE(refused(stamp, local()).find("is not a valid time of day"), std::string::npos);
    stamp.hour = 0;
    stamp.year = 65536 + 2024;  // a short would wrap it to 2024
    EXPECT_NE(refused(stamp, local()).find("is not a valid date"), std::string::npos);
    EXPECT_NE(refused(stamp, std::chrono::year_month_day()).find("is not a valid date"), std::string::npos);
}

// The class name and code of what executing `sql` threw ("" and 0 when nothing).
corio::task<std::pair<std::string, unsigned>> error_of_values(mysql::cursor& cur, std::string sql,
                                                             std::vector<mysql::value> args, std::string* message) {
    try {
        co_await cur.execute_values(sql, args);
    } catch (const mysql::integrity_error& e) {
        if (message) *message = e.what();
        co_return std::pair<std::string, unsigned>("integrity_error/" + e.sqlstate(), e.code());
    } catch (const mysql::programming_error& e) {
        if (message) *message = e.what();
        co_return std::pair<std::string, unsigned>("programming_error/" + e.sqlstate(), e.code());
    } catch (const mysql::operational_error& e) {
        if (message) *message = e.what();
        co_return std::pair<std::string, unsigned>("operational_error/" + e.sqlstate(), e.code());
    } catch (const mysql::mysql_error& e) {
        if (message) *message = e.what();
        co_return std::pair<std::string, unsigned>("mysql_error/" + e.sqlstate(), e.code());
    }
    co_return std::pair<std::string, unsigned>("", 0);
}

using result = std::pair<std::string, unsigned>;

// error_of(cur, sql, args...): the arguments become values here, outside the
// caller's co_await (g++ 12 rejects a braced list inside one).
template <class... A>
corio::task<result> error_of(mysql::cursor& cur, std::string sql, A... args) {
    std::vector<mysql::value> values;
    (values.push_back(mysql::to_value(args)), ...);
    return error_of_values(cur, std::move(sql), std::move(values), nullptr);
}

TEST(mysql_query, server_errors_map_to_integrity_and_programming_errors) {
    with_cursor([](mysql::connection&, mysql::cursor& cur) -> corio::task<> {
        const std::string suffix = std::to_string(::getpid());
        const std::string parent = "fk_parent_" + suffix, child = "fk_child_" + suffix;
        co_await cur.execute("CREATE TEMPORARY TABLE u (id INT PRIMARY KEY, name VARCHAR(10) NOT NULL)");
        co_await cur.execute("INSERT INTO u VALUES (1, 'a')");
        std::string message;
        std::vector<mysql::value> dup{std::int64_t(1), std::string("b")};
        EXPECT_EQ(co_await error_of_values(cur, "INSERT INTO u VALUES (%s, %s)", dup, &message),
                  result("integrity_error/23000", 1062));
        EXPECT_NE(message.find("mysql::cursor::execute 'INSERT INTO u VALUES (%s, %s)': Duplicate entry '1'"),
                  std::string::npos)
            << message;
        EXPECT_EQ(co_await error_of(cur, "INSERT INTO u VALUES (1, 'b')"), result("integrity_error/23000", 1062));
        EXPECT_EQ(co_await error_of(cur, "INSERT INTO u VALUES (%s, %s)", std::int64_t(2), std::monostate()),
                  result("integrity_error/23000", 1048));
        co_await cur.execute("DROP TABLE IF EXISTS " + child + ", " + parent);
        co_await cur.execute("CREATE TABLE " + parent + " (id INT PRIMARY KEY) ENGINE=InnoDB");
        co_await cur.execute("CREATE TABLE " + child + " (id INT PRIMARY KEY, pid INT NOT NULL, FOREIGN KEY (pid) REFERENCES " +
                             parent + "(id)) ENGINE=InnoDB");
        co_await cur.execute("INSERT INTO " + parent + " VALUES (1)");
        EXPECT_EQ(co_await error_of(cur, "INSERT INTO " + child + " VALUES (%s, %s)", std::int64_t(1), std::int64_t(99)),
                  result("integrity_error/23000", 1452));
        co_await cur.execute("INSERT INTO " + child + " VALUES (1, 1)");
        EXPECT_EQ(co_await error_of(cur, "DELETE FROM " + parent), result("integrity_error/23000", 1451));
        co_await cur.execute("DROP TABLE " + child + ", " + parent);
        EXPECT_EQ(co_await error_of(cur, "SELEC 1"), result("programming_error/42000", 1064));
        EXPECT_EQ(co_await error_of(cur, "SELECT * FROM no_such_table_q WHERE id = %s", std::int64_t(1)),
                  result("programming_error/42S02", 1146));
        EXPECT_EQ(co_await error_of(cur, "SELECT no_such_column FROM u"), result("programming_error/42S22", 1054));
        // After every error the connection still works.
        co_await cur.execute("SELECT COUNT(*) FROM u");
        EXPECT_EQ((co_await cur.fetchone())->get<int>(0), 1);
    });
}

TEST(mysql_query, quotes_backslashes_and_nul_bytes_round_trip_and_nothing_is_injected) {
    with_cursor([](mysql::connection&, mysql::cursor& cur) -> corio::task<> {
        co_await cur.execute("CREATE TEMPORARY TABLE s (id INT PRIMARY KEY, v VARCHAR(200), b VARBINARY(200))");
        const std::vector<std::string> nasty = {
            "it's", "say \"hi\"", "back\\slash", "trailing\\", "nul\0inside"s, "%s", "?", "'; DROP TABLE s; --",
            "\\'; SELECT 1; --", "line\nbreak\ttab", "\x1a ctrl-z", "ünïcødé ✓ 🚀"};
        int id = 0;
        for (const auto& v : nasty) {
            const std::vector<std::byte> b(reinterpret_cast<const std::byte*>(v.data()),
                                           reinterpret_cast<const std::byte*>(v.data()) + v.size());
            co_await cur.execute("INSERT INTO s VALUES (%s, %s, %s)", ++id, v, b);
        }
        co_await cur.execute("SELECT COUNT(*) FROM s");
        EXPECT_EQ((co_await cur.fetchone())->get<int>(0), int(nasty.size()));  // the table is still there
        id = 0;
        for (const auto& v : nasty) {
            co_await cur.execute("SELECT v, b, v = %s FROM s WHERE id = %s", v, ++id);
            auto r = co_await cur.fetchone();
            EXPECT_TRUE(r.has_value());
            if (!r) continue;
            EXPECT_EQ(r->get<std::string>(0), v);
            EXPECT_EQ(r->get<std::string>(1), v);
            EXPECT_EQ(r->get<int>(2), 1) << v;
        }
        // Plain SQL reads them back the same.
        co_await cur.execute("SELECT v FROM s ORDER BY id");
        auto rows = co_await cur.fetchall();
        EXPECT_EQ(rows.size(), nasty.size());
        for (std::size_t i = 0; i < rows.size() && i < nasty.size(); ++i) EXPECT_EQ(rows[i].get<std::string>(0), nasty[i]);
        // A parameter is a value, never SQL: this matches no row instead of all of them.
        co_await cur.execute("SELECT COUNT(*) FROM s WHERE v = %s", "x' OR '1'='1");
        EXPECT_EQ((co_await cur.fetchone())->get<int>(0), 0);
    });
}

TEST(mysql_query, dict_cursor_reads_rows_by_name_and_repr_matches_python) {
    auto body = []() -> corio::task<> {
        auto conn = co_await mysql::connect(server().options());
        auto use = [](mysql::cursor& cur) -> corio::task<> {
            co_await cur.execute("SELECT 1 AS a, 'x''y' AS b, NULL AS c, 1.50 AS d, CAST('2024-01-02' AS DATE) AS e, "
                                 "CAST('2024-01-02 03:04:05' AS DATETIME) AS f, 2.5e0 AS g, X'00ff' AS h");
            auto rows = co_await cur.fetchall();
            EXPECT_EQ(rows.size(), 1u);
            if (rows.empty()) co_return;
            EXPECT_EQ(rows[0].get<int>("a"), 1);
            EXPECT_EQ(rows[0].get<std::string>("b"), "x'y");
            EXPECT_EQ(mysql::repr(rows),
                      "((1, \"x'y\", None, Decimal('1.50'), datetime.date(2024, 1, 2), "
                      "datetime.datetime(2024, 1, 2, 3, 4, 5), 2.5, b'\\x00\\xff'),)");
        };
        co_await corio::with(conn.dict_cursor(), use);
    };
    corio::run(body());
}

TEST(mysql_query, stream_gives_rows_one_at_a_time_and_closing_early_leaves_the_connection_usable) {
    with_cursor([](mysql::connection&, mysql::cursor& cur) -> corio::task<> {
        {
            auto gen = cur.stream("SELECT seq, REPEAT('x', 1000) FROM seq_1_to_20000 WHERE seq > %s", 0);
            std::int64_t sum = 0, count = 0;
            while (auto r = co_await gen.next()) {
                sum += r->get<std::int64_t>(0);
                ++count;
                EXPECT_EQ(r->get<std::string>(1).size(), 1000u);
            }
            EXPECT_EQ(count, 20000);
            EXPECT_EQ(sum, 20000LL * 20001 / 2);
        }
        {
            auto gen = cur.stream("SELECT seq FROM seq_1_to_100000");
            auto first = co_await gen.next();
            EXPECT_EQ(first->get<int>(0), 1);
            co_await gen.aclose();  // reads and drops the rest
        }
        co_await cur.execute("SELECT %s", 42);
        EXPECT_EQ((co_await cur.fetchone())->get<int>(0), 42);
    });
}

TEST(mysql_query, executemany_batches_inserts_and_runs_other_statements_per_row) {
    with_cursor([](mysql::connection&, mysql::cursor& cur) -> corio::task<> {
        co_await cur.execute("CREATE TEMPORARY TABLE m (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20), n INT)");
        std::vector<std::tuple<std::string, int>> rows;
        for (int i = 0; i < 2500; ++i) rows.emplace_back("name" + std::to_string(i), i);
        EXPECT_EQ(co_await cur.executemany("INSERT INTO m (name, n) VALUES (%s, %s)", rows), 2500u);
        EXPECT_EQ(cur.rowcount(), 2500);
        EXPECT_EQ(cur.lastrowid(), 1u);
        co_await cur.execute("SELECT COUNT(*), CAST(SUM(n) AS SIGNED), MAX(name) FROM m");
        auto r = co_await cur.fetchone();
        EXPECT_EQ(r->get<int>(0), 2500);
        EXPECT_EQ(r->get<std::int64_t>(1), 2499LL * 2500 / 2);
        std::vector<std::tuple<int, int>> updates = {{1000, 0}, {1000, 1}, {1000, 2}};
        EXPECT_EQ(co_await cur.executemany("UPDATE m SET n = n + %s WHERE n = %s", updates), 3u);
        std::vector<std::tuple<int>> bad = {{1}};
        bool threw = false;
        try {
            co_await cur.executemany("INSERT INTO m (name, n) VALUES (%s, %s)", bad);
        } catch (const mysql::programming_error& e) {
            threw = true;
            EXPECT_NE(std::string(e.what()).find("2 placeholders (%s) but 1 argument"), std::string::npos) << e.what();
        }
        EXPECT_TRUE(threw);
    });
}

}  // namespace
