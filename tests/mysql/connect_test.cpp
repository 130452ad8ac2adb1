// corio::mysql::connect against a real MariaDB server: TCP and Unix socket,
// the session aiomysql's defaults give (utf8mb4, autocommit off), TLS when
// asked for (required, verify_identity), and every way connecting fails
// (wrong password, unknown database, nothing listening, a server that never
// answers, a certificate the given CA did not sign, a cancelled connect,
// TLS required from a server that offers none), each an operational_error
// naming host and port, never the password; and ed25519 authentication
// (MariaDB's; caching_sha2_password is MySQL's, which MariaDB does not serve).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <corio/corio.hpp>
#include <corio/mysql.hpp>

#include "mariadb_server.hpp"

using namespace std::chrono_literals;
namespace mysql = corio::mysql;
using corio_mysql_test::server;

namespace {

// A listening socket on 127.0.0.1 that never accepts nor answers; or, closed, a port nobody listens on.
struct silent_listener {
    int fd = -1;
    std::uint16_t port = 0;
    explicit silent_listener(bool listening) {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
        if (listening) {
            ::listen(fd, 16);
        } else {
            ::close(fd);
            fd = -1;
        }
    }
    ~silent_listener() {
        if (fd >= 0) ::close(fd);
    }
};

corio::task<std::string> scalar_text(mysql::connection& conn, std::string sql) {
    std::string out;
    auto body = [&](mysql::cursor& cur) -> corio::task<> {
        co_await cur.execute(sql);
        auto r = co_await cur.fetchone();
        EXPECT_TRUE(r.has_value());
        if (r) out = r->get<std::string>(0);
    };
    co_await corio::with(conn.cursor(), body);
    co_return out;
}

TEST(mysql_connect, tcp_gives_a_working_connection_with_aiomysql_defaults) {
    auto body = []() -> corio::task<> {
        auto conn = co_await mysql::connect(server().options());
        EXPECT_FALSE(conn.closed());
        EXPECT_GT(conn.thread_id(), 0u);
        EXPECT_EQ(conn.where(), "127.0.0.1:" + std::to_string(server().port));
        EXPECT_EQ(co_await scalar_text(conn, "SELECT IF(@@autocommit, '1', '0')"), "0");
        EXPECT_EQ(co_await scalar_text(conn, "SELECT @@character_set_client"), "utf8mb4");
        EXPECT_EQ(co_await scalar_text(conn, "SELECT @@character_set_results"), "utf8mb4");
        EXPECT_EQ(co_await scalar_text(conn, "SELECT DATABASE()"), "testdb");
        EXPECT_EQ(co_await scalar_text(conn, "SELECT CAST(CONNECTION_ID() AS CHAR)"), std::to_string(conn.thread_id()));
        co_await conn.ping();
        co_await conn.close();
        EXPECT_TRUE(conn.closed());
        co_await conn.close();  // closing twice is a no-op
    };
    corio::run(body());
}

TEST(mysql_connect, unix_socket_and_autocommit_on) {
    auto body = []() -> corio::task<> {
        auto o = server().options();
        o.unix_socket = server().socket;
        o.autocommit = true;
        auto conn = co_await mysql::connect(o);
        EXPECT_EQ(conn.where(), server().socket);
        EXPECT_EQ(co_await scalar_text(conn, "SELECT IF(@@autocommit, '1', '0')"), "1");
        // Over the socket the server sees localhost.
        EXPECT_EQ(co_await scalar_text(conn, "SELECT SUBSTRING_INDEX(USER(), '@', -1)"), "localhost");
        co_await conn.close();
    };
    corio::run(body());
}

TEST(mysql_connect, init_command_runs_after_connecting) {
    auto body = []() -> corio::task<> {
        auto o = server().options();
        o.init_command = "SET @corio_init = 'ran'";
        auto conn = co_await mysql::connect(o);
        EXPECT_EQ(co_await scalar_text(conn, "SELECT @corio_init"), "ran");
        co_await conn.close();
    };
    corio::run(body());
}

TEST(mysql_connect, wrong_password_is_operational_error_1045_without_the_password) {
    auto body = []() -> corio::task<> {
        auto o = server().options();
        o.password = "not-the-Secret-42";
        try {
            auto conn = co_await mysql::connect(o);
            ADD_FAILURE() << "connected with a wrong password";
        } catch (const mysql::operational_error& e) {
            EXPECT_EQ(e.code(), 1045u);
            EXPECT_EQ(e.sqlstate(), "28000");
            const std::string what = e.what();
            EXPECT_NE(what.find("mysql::connect 127.0.0.1:" + std::to_string(server().port)), std::string::npos) << what;
            EXPECT_EQ(what.find("not-the-Secret-42"), std::string::npos) << what;
        }
    };
    corio::run(body());
}

TEST(mysql_connect, unknown_database_is_operational_error_1049) {
    auto body = []() -> corio::task<> {
        auto o = server().options();
        o.db = "no_such_db_here";
        try {
            auto conn = co_await mysql::connect(o);
            ADD_FAILURE() << "connected to an unknown database";
        } catch (const mysql::operational_error& e) {
            EXPECT_EQ(e.code(), 1049u);
            EXPECT_NE(std::string(e.what()).find("no_such_db_here"), std::string::npos) << e.what();
        }
    };
    corio::run(body());
}

TEST(mysql_connect, nothing_listening_is_operational_error_naming_host_and_port) {
    silent_listener closed(false);
    auto body = [](std::uint16_t port) -> corio::task<> {
        auto o = server().options();
        o.port = port;
        const auto start = std::chrono::steady_clock::now();
        try {
            auto conn = co_await mysql::connect(o);
            ADD_FAILURE() << "connected to a closed port";
        } catch (const mysql::operational_error& e) {
            EXPECT_TRUE(e.code() == 2002u || e.code() == 2003u) << e.code();
            EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)), std::string::npos) << e.what();
        }
        EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    };
    corio::run(body(closed.port));
}

TEST(mysql_connect, a_server_that_never_answers_fails_after_connect_timeout) {
    silent_listener silent(true);
    auto body = [](std::uint16_t port) -> corio::task<> {
        auto o = server().options();
        o.port = port;
        o.connect_timeout = 1s;
        const auto start = std::chrono::steady_clock::now();
        try {
            auto conn = co_await mysql::connect(o);
            ADD_FAILURE() << "connected to a silent listener";
        } catch (const mysql::operational_error& e) {
            EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)), std::string::npos) << e.what();
        }
        const auto took = std::chrono::steady_clock::now() - start;
        EXPECT_GE(took, 900ms);
        EXPECT_LT(took, 4s);
    };
    corio::run(body(silent.port));
}

TEST(mysql_connect, a_connect_cancelled_by_a_timeout_ends_at_once) {
    silent_listener silent(true);
    auto body = [](std::uint16_t port) -> corio::task<> {
        auto o = server().options();
        o.port = port;
        o.connect_timeout = 10s;
        const auto start = std::chrono::steady_clock::now();
        bool timed_out = false;
        auto connecting = [&](corio::timeout_scope&) -> corio::task<> { auto c = co_await mysql::connect(o); };
        try {
            co_await corio::with(corio::timeout(200ms), connecting);
        } catch (const corio::timeout_error&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
        // The loop is fine afterwards: a real connection works.
        auto conn = co_await mysql::connect(server().options());
        co_await conn.ping();
    };
    corio::run(body(silent.port));
}

TEST(mysql_connect, tls_modes_against_a_server_with_a_certificate) {
    if (server().tls_ca.empty()) GTEST_SKIP() << "the server script gave no CORIO_MYSQL_TLS_CA";
    auto body = []() -> corio::task<> {
        auto cipher = [](mysql::connection& conn) -> corio::task<std::string> {
            std::string out;
            auto read = [&](mysql::cursor& cur) -> corio::task<> {
                co_await cur.execute("SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
                                     "WHERE VARIABLE_NAME = 'SSL_CIPHER'");
                auto r = co_await cur.fetchone();
                if (r) out = r->get<std::string>(0);
            };
            co_await corio::with(conn.cursor(), read);
            co_return out;
        };
        auto o = server().options();
        {
            auto plain = co_await mysql::connect(o);
            EXPECT_EQ(co_await cipher(plain), "");  // TLS only when asked for
        }
        o.tls.mode = mysql::tls_mode::preferred;
        {
            auto conn = co_await mysql::connect(o);
            EXPECT_NE(co_await cipher(conn), "");  // offered, so taken
        }
        o.tls.mode = mysql::tls_mode::required;
        {
            auto conn = co_await mysql::connect(o);
            EXPECT_NE(co_await cipher(conn), "");
        }
        o.tls.mode = mysql::tls_mode::verify_identity;
        o.tls.ca = server().tls_ca;
        {
            auto conn = co_await mysql::connect(o);
            EXPECT_NE(co_await cipher(conn), "");
        }
        // A CA that did not sign the server's certificate: verification fails.
        o.tls.mode = mysql::tls_mode::verify_ca;
        o.tls.ca = std::filesystem::path(server().tls_ca).parent_path() / "server-cert.pem";
        try {
            auto conn = co_await mysql::connect(o);
            ADD_FAILURE() << "verified a certificate against a CA that did not sign it";
        } catch (const mysql::operational_error& e) {
            EXPECT_EQ(e.code(), 2026u) << e.what();  // CR_SSL_CONNECTION_ERROR
            EXPECT_NE(std::string(e.what()).find("mysql::connect 127.0.0.1:"), std::string::npos) << e.what();
        }
    };
    corio::run(body());
}

corio::task<std::string> first_value(mysql::connection& conn, std::string sql) {
    std::string out;
    auto read = [&out, &sql](mysql::cursor& cur) -> corio::task<> {
        co_await cur.execute(sql);
        auto r = co_await cur.fetchone();
        if (r) out = r->is_null(0) ? "NULL" : r->get<std::string>(0);
    };
    co_await corio::with(conn.cursor(), read);
    co_return out;
}

corio::task<> exec(mysql::connection& conn, std::string sql) {
    auto run = [&sql](mysql::cursor& cur) -> corio::task<> { co_await cur.execute(sql); };
    co_await corio::with(conn.cursor(), run);
}

TEST(mysql_connect, ed25519_authentication) {
    auto body = []() -> corio::task<> {
        auto root = server().options();
        root.user = "root";
        root.password = server().root_password;
        root.autocommit = true;
        {
            auto admin = co_await mysql::connect(root);
            if (co_await first_value(admin, "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.PLUGINS "
                                            "WHERE PLUGIN_NAME = 'ed25519' AND PLUGIN_STATUS = 'ACTIVE'") == "0")
                co_await exec(admin, "INSTALL SONAME 'auth_ed25519'");
            co_await exec(admin, "CREATE OR REPLACE USER 'corio_ed'@'%' IDENTIFIED VIA ed25519 "
                                        "USING PASSWORD('ed-Secret-7')");
            co_await exec(admin, "GRANT SELECT ON testdb.* TO 'corio_ed'@'%'");
        }
        auto o = server().options();
        o.user = "corio_ed";
        o.password = "ed-Secret-7";
        {
            auto conn = co_await mysql::connect(o);
            EXPECT_EQ(co_await first_value(conn, "SELECT CURRENT_USER()"), "corio_ed@%");
        }
        o.password = "ed-Wrong-8";
        try {
            auto conn = co_await mysql::connect(o);
            ADD_FAILURE() << "connected with a wrong ed25519 password";
        } catch (const mysql::operational_error& e) {
            EXPECT_EQ(e.code(), 1045u) << e.what();
            EXPECT_EQ(std::string(e.what()).find("ed-Wrong-8"), std::string::npos) << e.what();
        }
        auto admin = co_await mysql::connect(root);
        co_await exec(admin, "DROP USER 'corio_ed'@'%'");
    };
    corio::run(body());
}

TEST(mysql_connect, tls_required_from_a_server_without_tls_is_refused) {
    ::setenv("CORIO_MARIADB_TLS", "off", 1);
    corio_mysql_test::private_server plain;
    ::unsetenv("CORIO_MARIADB_TLS");
    const auto info = plain.info();
    EXPECT_TRUE(info.tls_ca.empty());
    auto body = [&info]() -> corio::task<> {
        auto o = info.options();
        o.tls.mode = mysql::tls_mode::preferred;
        {
            auto conn = co_await mysql::connect(o);  // not offered: plain
            EXPECT_EQ(co_await first_value(conn, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
                                                 "WHERE VARIABLE_NAME = 'SSL_CIPHER'"),
                      "");
        }
        o.tls.mode = mysql::tls_mode::required;
        try {
            auto conn = co_await mysql::connect(o);
            ADD_FAILURE() << "connected without TLS although TLS was required";
        } catch (const mysql::operational_error& e) {
            const std::string what = e.what();
            EXPECT_EQ(e.code(), 2026u) << what;  // CR_SSL_CONNECTION_ERROR
            EXPECT_NE(what.find("mysql::connect 127.0.0.1:" + std::to_string(info.port)), std::string::npos) << what;
            EXPECT_EQ(what.find(info.password), std::string::npos) << what;
        }
    };
    corio::run(body());
}

TEST(mysql_connect, connection_as_async_context_manager_closes_it) {
    auto body = []() -> corio::task<> {
        auto conn = co_await mysql::connect(server().options());
        auto use = [](mysql::connection& c) -> corio::task<> { co_await c.ping(); };
        co_await corio::with(conn, use);
        EXPECT_TRUE(conn.closed());
        bool threw = false;
        try {
            co_await conn.ping();
        } catch (const mysql::operational_error& e) {
            threw = true;
            EXPECT_NE(std::string(e.what()).find("is closed"), std::string::npos) << e.what();
        }
        EXPECT_TRUE(threw);
    };
    corio::run(body());
}

}  // namespace
