// corio/pg/options.hpp: the options of connect, transaction and create_pool
// (asyncpg's connect() keywords, Connection.transaction() and create_pool()).
//
// Defaults are asyncpg's. A DSN is libpq's (URI or key=value; host, port,
// user, password, dbname, sslmode, connect_timeout, application_name, ...);
// fields set in connect_options override the DSN's; libpq also reads the PG*
// environment variables for what neither gives.
//
// TLS: libpq's own (sslmode, sslrootcert, ... in the DSN), or a corio
// tls_context in `tls`: the server's chain is then verified against that
// context's CAs (the system's and those of load_verify_file) and its name
// against the host, as sslmode=verify-full.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <corio/net/tls.hpp>

namespace corio {
template <class T>
class task;
}

namespace corio::pg {

class connection;

struct connect_options {
    std::string dsn;                 // libpq's; may be empty
    std::string host;                // host name, IP address or Unix socket folder
    std::uint16_t port = 0;          // 0: the DSN's, $PGPORT or 5432
    std::string user;
    std::string password;
    std::string database;
    std::string sslmode;             // disable, allow, prefer, require, verify-ca, verify-full
    /// TLS verified with corio's tls_context (a client context): the
    /// server's certificate chain against its CAs, the server's name against
    /// the host (sslmode verify-full; an sslmode other than that or empty
    /// is interface_error).
    std::optional<corio::tls_context> tls;
    std::string application_name;
    std::chrono::seconds connect_timeout{0};  // 0: the DSN's, or none
    /// Each query's time limit (asyncpg's command_timeout): on expiry the
    /// query is cancelled on the server and timeout_error is thrown.
    std::optional<std::chrono::milliseconds> command_timeout;
    /// Statements kept prepared per connection (LRU); 0 disables the cache.
    std::size_t statement_cache_size = 100;
    /// Server settings sent at startup (libpq's `options`: -c name=value).
    std::map<std::string, std::string> server_settings;
};

enum class isolation_level { read_committed, repeatable_read, serializable, read_uncommitted };

struct transaction_options {
    std::optional<isolation_level> isolation;  // nullopt: the server's default
    bool readonly = false;
    bool deferrable = false;
};

struct pool_options {
    std::string dsn;
    /// Used instead of dsn when its dsn or host is set.
    connect_options connect;
    std::size_t min_size = 10;
    std::size_t max_size = 10;
    /// A connection that served this many acquires is replaced (0: never).
    std::size_t max_queries = 50'000;
    /// A connection idle in the pool this long is closed (a timer, as
    /// asyncpg's; the pool may then hold fewer than min_size); 0: never.
    std::chrono::milliseconds max_inactive_connection_lifetime{300'000};
    /// Called with each new connection once (asyncpg's init).
    std::function<task<void>(connection&)> init;
    /// Called with the connection at every acquire (asyncpg's setup).
    std::function<task<void>(connection&)> setup;
    std::optional<std::chrono::milliseconds> command_timeout;
};

}  // namespace corio::pg
