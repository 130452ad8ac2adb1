// corio::pg's connection against a real PostgreSQL 15: connect by DSN and by
// options, execute/fetch/fetchrow/fetchval, record access, and the errors of
// bad input and failed connects (wrong password, unknown database, refused).
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

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

TEST(pg_connection, connects_by_dsn_and_runs_queries) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        EXPECT_FALSE(c.is_closed());
        EXPECT_GT(c.backend_pid(), 0);
        EXPECT_EQ(co_await c.fetchval<int>("SELECT 1"), 1);
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT $1::text || 'b'", "a"), "ab");
        auto rows = co_await c.fetch("SELECT g AS n, 'x' || g AS s FROM generate_series(1, 3) g");
        EXPECT_EQ(rows.size(), 3u);
        if (rows.size() == 3) {
            EXPECT_EQ(rows[2].get<int>("n"), 3);
            EXPECT_EQ(rows[2].get<std::string>(1), "x3");
            EXPECT_EQ(rows[0].names(), (std::vector<std::string>{"n", "s"}));
            auto [n, s] = rows[1].as<std::tuple<int, std::string>>();
            EXPECT_EQ(n, 2);
            EXPECT_EQ(s, "x2");
        }
        auto none = co_await c.fetchrow("SELECT 1 WHERE false");
        EXPECT_FALSE(none.has_value());
        auto nothing = co_await c.fetchval<std::optional<int>>("SELECT 1 WHERE false");
        EXPECT_FALSE(nothing.has_value());
        co_await c.close();
        EXPECT_TRUE(c.is_closed());
        co_await c.close();  // idempotent
        bool threw = false;
        try {
            co_await c.execute("SELECT 1");
        } catch (const pg::interface_error& e) {
            threw = std::string(e.what()).find("closed") != std::string::npos;
        }
        EXPECT_TRUE(threw);
    };
    corio::run(body());
}

TEST(pg_connection, connects_by_options_and_as_a_context_manager) {
    auto body = []() -> corio::task<> {
        pg::connect_options o;
        o.host = t::host();
        o.port = t::port();
        o.user = t::user();
        o.password = t::password();
        o.database = t::database();
        o.application_name = "corio-test";
        o.server_settings["search_path"] = "public";
        auto use = [](pg::connection& c) -> corio::task<std::string> {
            co_return co_await c.fetchval<std::string>("SELECT current_setting('application_name')");
        };
        std::string name = co_await corio::with(pg::connect(o), use);
        EXPECT_EQ(name, "corio-test");
    };
    corio::run(body());
}

TEST(pg_connection, execute_gives_the_command_tag) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        const std::string tbl = t::table("tags");
        co_await c.execute("DROP TABLE IF EXISTS " + tbl);
        EXPECT_EQ(co_await c.execute("CREATE TABLE " + tbl + " (id int PRIMARY KEY, name text NOT NULL)"), "CREATE TABLE");
        EXPECT_EQ(co_await c.execute("INSERT INTO " + tbl + " VALUES ($1, $2)", 1, "one"), "INSERT 0 1");
        EXPECT_EQ(co_await c.execute("INSERT INTO " + tbl + " VALUES ($1, $2)", 2, std::string("two")), "INSERT 0 1");
        EXPECT_EQ(co_await c.execute("UPDATE " + tbl + " SET name = name || '!'"), "UPDATE 2");
        EXPECT_EQ(co_await c.fetchval<std::string>("SELECT name FROM " + tbl + " WHERE id = $1", 2), "two!");
        co_await c.execute("DROP TABLE " + tbl);
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_connection, server_errors_are_their_subclasses) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        const std::string tbl = t::table("errs");
        const std::string parent = t::table("errs_parent");
        co_await c.execute("DROP TABLE IF EXISTS " + tbl);
        co_await c.execute("DROP TABLE IF EXISTS " + parent);
        co_await c.execute("CREATE TABLE " + parent + " (id int PRIMARY KEY)");
        co_await c.execute("CREATE TABLE " + tbl + " (id int PRIMARY KEY, v int NOT NULL CHECK (v > 0), p int REFERENCES " +
                           parent + ")");
        co_await c.execute("INSERT INTO " + tbl + " VALUES (1, 1, NULL)");
        int seen = 0;
        try {
            co_await c.execute("INSERT INTO " + tbl + " VALUES (1, 1, NULL)");
        } catch (const pg::unique_violation_error& e) {
            ++seen;
            EXPECT_EQ(e.sqlstate(), "23505");
            EXPECT_EQ(e.table_name(), tbl);
            EXPECT_EQ(e.constraint_name(), tbl + "_pkey");
            EXPECT_FALSE(e.detail().empty());
            EXPECT_NE(std::string(e.what()).find("pg::connection::execute 'INSERT INTO"), std::string::npos) << e.what();
        }
        try {
            co_await c.execute("INSERT INTO " + tbl + " VALUES (2, NULL, NULL)");
        } catch (const pg::not_null_violation_error& e) {
            ++seen;
            EXPECT_EQ(e.sqlstate(), "23502");
        }
        try {
            co_await c.execute("INSERT INTO " + tbl + " VALUES (3, -1, NULL)");
        } catch (const pg::check_violation_error& e) {
            ++seen;
            EXPECT_EQ(e.sqlstate(), "23514");
        }
        try {
            co_await c.execute("INSERT INTO " + tbl + " VALUES (4, 1, 99)");
        } catch (const pg::foreign_key_violation_error& e) {
            ++seen;
            EXPECT_EQ(e.sqlstate(), "23503");
        }
        try {
            co_await c.fetch("SELECT * FROM no_such_table_here");
        } catch (const pg::undefined_table_error& e) {
            ++seen;
            EXPECT_EQ(e.sqlstate(), "42P01");
            EXPECT_EQ(e.position(), 15);
        }
        try {
            co_await c.fetch("SELEC 1");
        } catch (const pg::syntax_error& e) {
            ++seen;
            EXPECT_EQ(e.sqlstate(), "42601");
            EXPECT_EQ(e.position(), 1);
        }
        try {
            co_await c.fetch("SELECT 1/0");
        } catch (const pg::postgres_error& e) {
            ++seen;
            EXPECT_EQ(e.sqlstate(), "22012");
            EXPECT_EQ(e.message(), "division by zero");
            EXPECT_EQ(e.hint(), "");
        }
        EXPECT_EQ(seen, 7);
        // The connection is still fine after every error.
        EXPECT_EQ(co_await c.fetchval<std::int64_t>("SELECT count(*) FROM " + tbl), 1);
        co_await c.execute("DROP TABLE " + tbl);
        co_await c.execute("DROP TABLE " + parent);
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_connection, type_errors_name_the_column_and_both_types) {
    auto body = []() -> corio::task<> {
        pg::connection c = co_await pg::connect(t::dsn());
        auto row = co_await c.fetchrow("SELECT 'x'::text AS name, NULL::int AS missing, 70000 AS big");
        EXPECT_TRUE(row.has_value());
        if (!row) co_return;
        std::string what;
        try {
            (void)row->get<int>("name");
        } catch (const pg::type_error& e) {
            what = e.what();
        }
        EXPECT_EQ(what, "pg::record::get<int> column 'name': the column is text");
        what.clear();
        try {
            (void)row->get<int>(1);
        } catch (const pg::type_error& e) {
            what = e.what();
        }
        EXPECT_NE(what.find("column 'missing'"), std::string::npos) << what;
        EXPECT_NE(what.find("NULL"), std::string::npos) << what;
        EXPECT_FALSE(row->get<std::optional<int>>(1).has_value());
        EXPECT_TRUE(row->is_null("missing"));
        what.clear();
        try {
            (void)row->get<std::int16_t>("big");
        } catch (const pg::type_error& e) {
            what = e.what();
        }
        EXPECT_NE(what.find("out of range"), std::string::npos) << what;
        bool threw = false;
        try {
            (void)row->get<int>("nope");
        } catch (const pg::interface_error&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
        threw = false;
        try {
            (void)row->as<std::tuple<std::string, std::optional<int>>>();
        } catch (const pg::type_error&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
        threw = false;
        try {
            (void)co_await c.fetchval<int>("SELECT 1 WHERE false");
        } catch (const pg::interface_error&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
        co_await c.close();
    };
    corio::run(body());
}

std::string connect_error(pg::connect_options o) {
    auto body = [](pg::connect_options opts) -> corio::task<std::string> {
        try {
            pg::connection c = co_await pg::connect(std::move(opts));
        } catch (const pg::connection_error& e) {
            co_return e.what();
        }
        co_return "";
    };
    return corio::run(body(std::move(o)));
}

TEST(pg_connection, wrong_password_is_a_connection_error_without_the_password) {
    pg::connect_options o;
    o.host = t::host();
    o.port = t::port();
    o.user = t::user();
    o.password = "not-the-S3CRET";
    o.database = t::database();
    const std::string what = connect_error(o);
    EXPECT_NE(what.find("pg::connect 127.0.0.1:" + std::to_string(t::port())), std::string::npos) << what;
    EXPECT_NE(what.find("password authentication failed"), std::string::npos) << what;
    EXPECT_EQ(what.find("not-the-S3CRET"), std::string::npos) << what;
    // The same through a DSN.
    pg::connect_options d;
    d.dsn = "postgresql://" + t::user() + ":not-the-S3CRET@127.0.0.1:" + std::to_string(t::port()) + "/" + t::database();
    const std::string what2 = connect_error(d);
    EXPECT_NE(what2.find("password authentication failed"), std::string::npos) << what2;
    EXPECT_EQ(what2.find("not-the-S3CRET"), std::string::npos) << what2;
}

TEST(pg_connection, unknown_database_is_a_connection_error) {
    pg::connect_options o;
    o.dsn = t::dsn();
    o.database = "no_such_database_here";
    const std::string what = connect_error(o);
    EXPECT_NE(what.find("no_such_database_here"), std::string::npos) << what;
    EXPECT_NE(what.find("does not exist"), std::string::npos) << what;
    EXPECT_EQ(what.find(t::password()), std::string::npos) << what;
}

TEST(pg_connection, refused_connection_names_host_and_port) {
    // A port nobody listens on: bound, then closed.
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    const int port = ntohs(a.sin_port);
    ::close(s);
    pg::connect_options o;
    o.dsn = "postgresql://corio:secret-pw@127.0.0.1:" + std::to_string(port) + "/x";
    const std::string what = connect_error(o);
    EXPECT_NE(what.find("pg::connect 127.0.0.1:" + std::to_string(port)), std::string::npos) << what;
    EXPECT_NE(what.find("refused"), std::string::npos) << what;
    EXPECT_EQ(what.find("secret-pw"), std::string::npos) << what;
}

TEST(pg_connection, connect_can_be_cancelled) {
    auto body = []() -> corio::task<bool> {
        // A listening socket that never accepts: connect waits for the
        // server's first message; the timeout cancels it cleanly.
        int s = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(s, 4);
        socklen_t len = sizeof a;
        ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
        const std::string dsn = "postgresql://corio:pw@127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/x";
        bool timed_out = false;
        try {
            auto attempt = [dsn]() -> corio::task<> { (void)co_await pg::connect(dsn); };
            co_await corio::wait_for(attempt(), 200ms);
        } catch (const corio::timeout_error&) {
            timed_out = true;
        }
        ::close(s);
        co_return timed_out;
    };
    EXPECT_TRUE(corio::run(body()));
}

}  // namespace
