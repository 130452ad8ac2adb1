// corio/mysql/pool.hpp: aiomysql's Pool: up to maxsize connections, shared
// by the tasks that acquire them.
//
//   auto pool = co_await corio::mysql::create_pool({.host = "127.0.0.1", .port = 3306,
//       .user = "root", .password = "pass", .db = "testdb"});
//   co_await corio::with(pool.acquire(), [](corio::mysql::connection& conn) -> corio::task<> { ... });
//   pool.close();
//   co_await pool.wait_closed();
//
// create_pool opens `minsize` connections before it returns (a wrong
// password throws from it). acquire() is an async context manager giving
// `connection&`: an idle connection when there is a good one (most recently
// released first; one idle longer than pool_recycle, or whose server closed
// it, is closed instead), else a new one while fewer than maxsize are open,
// else it waits. Fairness: waiters are served first in, first out.
// Cancel safety: a waiter cancelled (or timed out: acquire(timeout) throws
// corio::timeout_error) takes nothing; one granted and cancelled before it
// runs passes the grant on. Release (the aexit) rolls back an open
// transaction and resets the session (mysql_reset_connection: user
// variables, temporary tables, locks, prepared statements, session
// settings; then the pool's autocommit and charset again where the reset
// changed them) unless it ran nothing since its last reset; a connection
// that broke, was closed, or failed to reset is closed and its place freed
// for a new one, which is how a server restart heals the pool.
// close() (plain) refuses new acquires and closes the idle connections;
// the ones in use close when released; wait_closed() waits for that.
// terminate() is close() that also marks the connections in use to be
// closed on release. The pool is an async context manager (aexit: close()
// then wait_closed()). A pool is a handle: copies share one pool, which
// lives until the last copy and the last acquired connection are gone.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>

#include <corio/mysql/connection.hpp>
#include <corio/mysql/options.hpp>
#include <corio/task.hpp>

namespace corio::mysql {

namespace detail {
struct pool_state;
}

class pool {
public:
    /// pool.acquire(): aenter gives connection&, aexit releases it.
    class acquire_manager {
    public:
        acquire_manager(std::shared_ptr<detail::pool_state> pool, std::optional<std::chrono::milliseconds> timeout) noexcept
            : pool_(std::move(pool)), timeout_(timeout) {}
        acquire_manager(acquire_manager&&) noexcept = default;
        ~acquire_manager();
        task<connection&> aenter();
        task<> aexit(std::exception_ptr error);

    private:
        std::shared_ptr<detail::pool_state> pool_;
        std::optional<std::chrono::milliseconds> timeout_;
        std::unique_ptr<connection> conn_;
    };

    explicit pool(std::shared_ptr<detail::pool_state> state) noexcept : state_(std::move(state)) {}

    acquire_manager acquire() { return acquire_manager(state_, std::nullopt); }
    /// timeout_error when no connection is given within `timeout`.
    acquire_manager acquire(std::chrono::milliseconds timeout) { return acquire_manager(state_, timeout); }

    /// Refuses new acquires (operational_error "the pool is closed"), closes idle connections.
    void close();
    /// Waits until every connection is released and closed (after close()).
    task<> wait_closed();
    /// close(), and connections in use are closed when released.
    void terminate();

    /// Open connections: in use, idle and being opened.
    std::size_t size() const noexcept;
    /// Idle connections.
    std::size_t freesize() const noexcept;
    std::size_t minsize() const noexcept;
    std::size_t maxsize() const noexcept;
    bool closed() const noexcept;

    task<pool&> aenter();
    task<> aexit(std::exception_ptr error);

private:
    std::shared_ptr<detail::pool_state> state_;
};

/// Opens minsize connections (operational_error if one fails) and gives the pool.
task<pool> create_pool(pool_options options);

}  // namespace corio::mysql
