// corio/http/connection_pool.hpp: the client session's pool of kept-alive
// connections (aiohttp's TCPConnector), keyed by scheme, host, port and TLS
// context.
//
//   auto lease = co_await pool.acquire(key);       // a slot, maybe a connection
//   if (!lease.has_connection()) lease.attach(co_await open_connection(...));
//   ... request / response over lease.connection() ...
//   lease.release(/*reusable=*/body_read_to_end && keep_alive);
//
// Limits: at most `limit` connections in use at once (0: none) and at most
// `limit_per_host` per key (0: none), as aiohttp counts them (idle kept-alive
// connections do not count). A task over a limit waits; waiters are served
// first in, first out among those the freed slot fits (a waiter for a host
// at its own limit does not hold up the others).
// Reuse: the most recently released idle connection of the key first; one
// idle longer than `keepalive_timeout`, or that its peer has closed (EOF
// waiting on the socket), is closed instead, never handed out.
// Cancel safety (cancellation arrives as cancelled_error): a waiter cancelled
// while queued takes nothing; one granted a slot and cancelled before it ran
// hands the slot to the next waiter. A lease destroyed without release()
// closes its connection (it may be half-read) and frees its slot: no path
// leaks a slot or a descriptor.
// close(): idle connections are closed now, waiters get client_error
// ("the session is closed"), connections in use are closed when released.
// One loop owns a pool; no allocation per acquire beyond the idle list's.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <corio/net/stream.hpp>
#include <corio/net/tls.hpp>
#include <corio/sync/waiter_queue.hpp>

namespace corio::http {

/// Which connections may serve a request: same scheme, host, port and TLS
/// context (the context's identity, as aiohttp keys on its ssl object).
struct pool_key {
    std::string scheme;  // "http" or "https"
    std::string host;
    std::uint16_t port = 0;
    const void* tls = nullptr;  // the tls_context's shared state, or null

    friend bool operator==(const pool_key&, const pool_key&) = default;
    friend auto operator<=>(const pool_key&, const pool_key&) = default;
    /// "https://example.com:443", for messages.
    std::string origin() const;
};

struct pool_options {
    std::size_t limit = 100;         // connections in use at once; 0: no limit
    std::size_t limit_per_host = 0;  // per key; 0: no limit
    std::chrono::milliseconds keepalive_timeout{15'000};
};

class connection_pool;

/// One slot of the pool, and the connection in it once there is one.
/// Movable; destroying it without release() closes the connection.
class [[nodiscard]] pool_lease {
public:
    pool_lease() noexcept = default;
    pool_lease(pool_lease&& other) noexcept;
    pool_lease& operator=(pool_lease&& other) noexcept;
    pool_lease(const pool_lease&) = delete;
    pool_lease& operator=(const pool_lease&) = delete;
    ~pool_lease();

    bool has_connection() const noexcept { return conn_.has_value(); }
    /// True when the connection was kept alive from an earlier request (a
    /// request that fails on it before any response byte may be retried once).
    bool reused() const noexcept { return reused_; }
    stream& connection() { return *conn_; }
    /// Puts a new connection in the slot.
    void attach(stream s);
    /// Gives the slot back; the connection goes to the idle list when
    /// `reusable` (its response was read to the end and both sides keep it
    /// alive), else it is closed.
    void release(bool reusable) noexcept;
    const pool_key& key() const noexcept { return key_; }
    bool valid() const noexcept { return pool_ != nullptr; }

private:
    friend class connection_pool;
    pool_lease(connection_pool* pool, pool_key key, std::optional<stream> conn, bool reused) noexcept;
    connection_pool* pool_ = nullptr;
    pool_key key_;
    std::optional<stream> conn_;
    bool reused_ = false;
};

class connection_pool {
    struct acquire_awaiter;

public:
    explicit connection_pool(pool_options options = pool_options());
    connection_pool(const connection_pool&) = delete;
    connection_pool& operator=(const connection_pool&) = delete;
    ~connection_pool();

    /// A slot for `key`, with an idle connection of that key when one is
    /// good; see the file comment. client_error when the pool is closed.
    acquire_awaiter acquire(pool_key key);

    /// Closes the idle connections and refuses new acquires (waiters get
    /// client_error). Connections in use close when released.
    void close() noexcept;
    bool closed() const noexcept { return closed_; }

    std::size_t in_use() const noexcept { return in_use_; }
    std::size_t in_use(const pool_key& key) const noexcept;
    std::size_t idle() const noexcept;
    std::size_t waiting() const noexcept { return waiters_.size(); }
    const pool_options& options() const noexcept { return options_; }

private:
    friend class pool_lease;
    struct idle_connection {
        stream conn;
        std::chrono::steady_clock::time_point since;
    };
    struct host_entry {
        std::size_t in_use = 0;
        std::vector<idle_connection> idle;  // most recently released last
    };

    struct acquire_awaiter : corio::detail::waiter<acquire_awaiter> {
        acquire_awaiter(connection_pool& pool, pool_key key) noexcept : pool_(&pool), key_(std::move(key)) {}
        pool_lease await_resume();

    private:
        friend class corio::detail::waiter<acquire_awaiter>;
        friend class connection_pool;
        corio::detail::operation_name operation() const noexcept { return {"client_session", "request"}; }
        corio::detail::waiter_fifo<acquire_awaiter>& fifo() noexcept { return pool_->waiters_; }
        corio::detail::wait_state try_now();
        void pass_on() noexcept { pool_->free_slot(key_); }
        connection_pool* pool_;
        pool_key key_;
    };

    bool fits(const pool_key& key) const noexcept;
    void take_slot(const pool_key& key);
    // A slot of `key` is free again: grant it to the first waiter it fits.
    void free_slot(const pool_key& key) noexcept;
    void grant_waiters() noexcept;
    std::optional<stream> take_idle(const pool_key& key, bool& reused);
    void put_idle(const pool_key& key, stream conn) noexcept;
    void sweep(std::chrono::steady_clock::time_point now) noexcept;

    pool_options options_;
    std::map<pool_key, host_entry> hosts_;
    corio::detail::waiter_fifo<acquire_awaiter> waiters_;
    std::size_t in_use_ = 0;
    std::chrono::steady_clock::time_point next_sweep_{};
    bool closed_ = false;
};

inline connection_pool::acquire_awaiter connection_pool::acquire(pool_key key) {
    return acquire_awaiter(*this, std::move(key));
}

}  // namespace corio::http
