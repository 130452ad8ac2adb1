// corio/pg/pool.hpp: create_pool() and pool, asyncpg's connection pool.
//
//   auto pool = co_await pg::create_pool(options);        // min_size opened now
//   co_await corio::with(pool.acquire(), [](pg::connection& c) -> corio::task<> { ... });
//   int n = co_await pool.fetchval<int>("SELECT 1");       // acquire, run, release
//   co_await pool.close();
//
// At most max_size connections exist. acquire(timeout) is an async context
// manager (aenter: connection&, aexit: release). Fairness: waiters are served
// first in, first out (a corio::semaphore of max_size permits); a freed
// connection goes to the oldest waiter. Cancel safety: a waiter cancelled (or
// timed out: timeout_error) while queued takes nothing; one granted and
// cancelled before it ran passes the grant on; a connect cancelled half-way
// frees its slot. Release resets the session (pg_advisory_unlock_all(),
// CLOSE ALL, UNLISTEN *, RESET ALL, after a ROLLBACK when a transaction is
// open). With no transaction open and nothing in flight, the reset is owed
// rather than sent: the next statement on the connection carries it in its
// own segment (BEGIN, the reset, COMMIT, then the statement: one write and
// one wakeup of the server), and if nothing is sent by the loop's next turn
// (1 ms) the pool sends it alone, so a released lock or LISTEN does not
// linger. The statement then fails or rolls back alone, never the reset; a
// reset that fails breaks the connection (its user gets connection_error)
// and it is replaced. With a transaction open, release waits for the
// ROLLBACK and the reset (5 s bound). A connection
// that broke, failed to reset or served max_queries acquires is closed
// instead and a new one is opened on a later acquire. An idle connection
// whose server went away (a restart) is closed when an acquire meets it,
// never handed out: a server restart heals the pool. One idle for
// max_inactive_connection_lifetime is closed by the pool's housekeeper task
// (a timer), which also sends the owed resets; it ends with the pool.
// close() refuses new acquires, waits for the acquired connections to come
// back and closes all; terminate() closes everything at once (connections in
// use get connection_error). One loop owns a pool.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <corio/context/with.hpp>
#include <corio/pg/connection.hpp>
#include <corio/pg/options.hpp>
#include <corio/task.hpp>

namespace corio::pg {

namespace detail {
struct pool_state;  // src/pg/pool.cpp
}

/// What pool::acquire gives: an async context manager.
class [[nodiscard]] pool_acquire {
public:
    pool_acquire(std::shared_ptr<detail::pool_state> pool, std::optional<std::chrono::milliseconds> timeout) noexcept
        : pool_(std::move(pool)), timeout_(timeout) {}
    pool_acquire(pool_acquire&&) noexcept = default;
    pool_acquire& operator=(pool_acquire&&) noexcept = default;
    /// A connection still held (aexit never ran) is closed and its slot freed.
    ~pool_acquire();

    task<connection&> aenter();
    task<void> aexit(std::exception_ptr error);

private:
    std::shared_ptr<detail::pool_state> pool_;
    std::optional<std::chrono::milliseconds> timeout_;
    std::optional<connection> conn_;
};

class pool {
public:
    explicit pool(std::shared_ptr<detail::pool_state> state) noexcept : state_(std::move(state)) {}
    pool(pool&&) noexcept = default;
    pool& operator=(pool&&) noexcept;
    pool(const pool&) = delete;
    pool& operator=(const pool&) = delete;
    /// terminate() unless closed.
    ~pool();

    task<pool&> aenter();
    task<void> aexit(std::exception_ptr error);

    pool_acquire acquire();
    pool_acquire acquire(std::chrono::milliseconds timeout);

    template <class... A>
    task<std::string> execute(std::string sql, const A&... args) {
        return execute_encoded(std::move(sql), detail::encode_params(args...));
    }
    template <class... A>
    task<std::vector<record>> fetch(std::string sql, const A&... args) {
        return fetch_encoded(std::move(sql), detail::encode_params(args...));
    }
    template <class... A>
    task<std::optional<record>> fetchrow(std::string sql, const A&... args) {
        return fetchrow_encoded(std::move(sql), detail::encode_params(args...));
    }
    template <class T, class... A>
    task<T> fetchval(std::string sql, const A&... args) {
        return fetchval_encoded<T>(std::move(sql), detail::encode_params(args...));
    }

    /// Waits for acquired connections to come back, then closes all.
    task<void> close();
    /// Closes every connection now.
    void terminate() noexcept;
    /// Connections open (idle and acquired).
    std::size_t size() const noexcept;
    /// Connections open and not acquired.
    std::size_t idle() const noexcept;

    task<std::string> execute_encoded(std::string sql, detail::encoded_params params);
    task<std::vector<record>> fetch_encoded(std::string sql, detail::encoded_params params);
    task<std::optional<record>> fetchrow_encoded(std::string sql, detail::encoded_params params);
    template <class T>
    task<T> fetchval_encoded(std::string sql, detail::encoded_params params) {
        auto lease = acquire();
        auto body = [sql = std::move(sql), params = std::move(params)](connection& c) mutable -> task<T> {
            co_return co_await c.fetchval_encoded<T>(std::move(sql), std::move(params));
        };
        co_return co_await corio::with(lease, body);
    }

private:
    std::shared_ptr<detail::pool_state> state_;
};

/// asyncpg.create_pool: opens min_size connections before it returns (a
/// wrong password throws from here).
task<pool> create_pool(pool_options options);

}  // namespace corio::pg
