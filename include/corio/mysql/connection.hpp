// corio/mysql/connection.hpp: one connection to a MySQL or MariaDB server
// (aiomysql's Connection), over MariaDB Connector/C's non-blocking API
// driven by corio's loop: no thread, no blocking call.
//
//   corio::mysql::connection conn = co_await corio::mysql::connect(options);
//   co_await corio::with(conn.transaction(), [&](corio::mysql::transaction&) -> corio::task<> {
//       co_await corio::with(conn.cursor(), [](corio::mysql::cursor& cur) -> corio::task<> {
//           co_await cur.execute("INSERT INTO t(name) VALUES (%s)", "ada");
//       });
//   });
//   co_await conn.close();
//
// Defaults as aiomysql: utf8mb4, autocommit off (changes wait for commit()).
// Calls on one connection run one at a time in FIFO order. Every await is
// cancellable; a cancelled statement is killed on the server (see cursor.hpp)
// and a connection cancelled in the middle of connecting is closed.
// A connection that lost its server (or was closed after a cancellation)
// throws operational_error from every later call; closed() says so.
// Destroying an open connection closes it (COM_QUIT, without waiting).
#pragma once

#include <cstdint>
#include <exception>
#include <memory>

#include <corio/mysql/cursor.hpp>
#include <corio/mysql/options.hpp>
#include <corio/task.hpp>

namespace corio::mysql {

class connection;

/// connection::transaction(): BEGIN at aenter; COMMIT when the body
/// succeeds, ROLLBACK when it throws or is cancelled (then the body's
/// exception goes on). Nested in another transaction() of the same
/// connection it is a SAVEPOINT, released or rolled back to.
class transaction {
public:
    explicit transaction(std::shared_ptr<detail::connection_state> conn) noexcept : conn_(std::move(conn)) {}
    task<transaction&> aenter();
    task<> aexit(std::exception_ptr error);

private:
    std::shared_ptr<detail::connection_state> conn_;
    unsigned depth_ = 0;  // 0: BEGIN/COMMIT; n: SAVEPOINT corio_n
    bool entered_ = false;
};

class connection {
public:
    connection() noexcept;
    explicit connection(std::shared_ptr<detail::connection_state> state) noexcept;
    connection(connection&&) noexcept;
    connection& operator=(connection&&) noexcept;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection();

    /// A cursor as an async context manager (aenter gives cursor&).
    cursor_manager cursor();
    /// aiomysql's DictCursor: the same cursor (every row reads by name too).
    cursor_manager dict_cursor();

    task<> commit();
    task<> rollback();
    /// START TRANSACTION (aiomysql's begin()).
    task<> begin();
    task<> autocommit(bool on);
    mysql::transaction transaction();
    /// A round trip to the server; operational_error when it is gone.
    task<> ping();
    /// COM_QUIT and close; a no-op on a closed connection.
    task<> close();

    bool closed() const noexcept;
    /// The server's id of this connection (CONNECTION_ID(), what KILL takes).
    std::uint64_t thread_id() const noexcept;
    /// The server says a transaction is open (SERVER_STATUS_IN_TRANS).
    bool in_transaction() const noexcept;
    /// "127.0.0.1:3306" or the socket's path.
    const std::string& where() const noexcept;

    /// The connection as an async context manager: aexit closes it.
    task<connection&> aenter();
    task<> aexit(std::exception_ptr error);

    const std::shared_ptr<detail::connection_state>& state() const noexcept { return state_; }

private:
    std::shared_ptr<detail::connection_state> state_;
};

/// Connects, authenticates, sets the charset and autocommit; operational_error
/// naming host:port (or the socket) and the server's reason, never the password.
task<connection> connect(connect_options options);

}  // namespace corio::mysql
