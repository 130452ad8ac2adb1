// corio/mysql/options.hpp: where and how corio::mysql connects (aiomysql's
// connect() and create_pool() keywords, with aiomysql's defaults).
//
//   auto conn = co_await corio::mysql::connect({.host = "127.0.0.1", .port = 3306,
//       .user = "app", .password = "secret", .db = "testdb"});
//
// Plain aggregates, so designated initializers work; the first fields are in
// the order of API.md's example (host, port, user, password, db).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace corio::mysql {

enum class tls_mode {
    disabled,        // plain TCP (aiomysql's ssl=None)
    preferred,       // TLS when the server offers it, else plain
    required,        // TLS or fail (operational_error 2026); the certificate is not checked
    verify_ca,       // TLS, the server's certificate checked against `ca`
    verify_identity  // verify_ca, and the certificate names `host`
};

/// TLS for the connection (Connector/C's MYSQL_OPT_SSL_* options).
struct tls_options {
    tls_mode mode = tls_mode::disabled;
    std::string ca{};    // PEM file of trusted CAs (verify_*)
    std::string cert{};  // client certificate (PEM), optional
    std::string key{};   // its private key (PEM), optional
};

struct connect_options {
    std::string host = "localhost";  // "localhost" with no unix_socket: the default socket, as libmysql
    std::uint16_t port = 3306;
    std::string user{};
    std::string password{};
    std::string db{};                 // empty: no default database
    std::string unix_socket{};        // non-empty: connect over this socket, not TCP
    std::string charset = "utf8mb4";
    bool autocommit = false;        // aiomysql's default: a transaction until commit()
    std::chrono::milliseconds connect_timeout{10'000};  // connect, authenticate and the init command
    tls_options tls{};
    std::string init_command{};       // SQL run once after connecting (aiomysql's init_command)
};

struct pool_options {
    std::string host = "localhost";
    std::uint16_t port = 3306;
    std::string user{};
    std::string password{};
    std::string db{};
    std::string unix_socket{};
    std::string charset = "utf8mb4";
    bool autocommit = false;
    std::chrono::milliseconds connect_timeout{10'000};
    tls_options tls{};
    std::string init_command{};
    std::size_t minsize = 1;   // opened by create_pool before it returns
    std::size_t maxsize = 10;  // connections open at once (in use + idle)
    /// An idle connection older than this is closed instead of handed out;
    /// negative (aiomysql's -1): never.
    std::chrono::seconds pool_recycle{-1};

    connect_options connection() const {
        connect_options o;
        o.host = host;
        o.port = port;
        o.user = user;
        o.password = password;
        o.db = db;
        o.unix_socket = unix_socket;
        o.charset = charset;
        o.autocommit = autocommit;
        o.connect_timeout = connect_timeout;
        o.tls = tls;
        o.init_command = init_command;
        return o;
    }
};

}  // namespace corio::mysql
