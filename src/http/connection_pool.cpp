// The client session's connection pool (corio/http/connection_pool.hpp).
#include <corio/http/connection_pool.hpp>

#include <sys/socket.h>

#include <cerrno>

#include <corio/http/errors.hpp>

namespace corio::http {

namespace {

using clock = std::chrono::steady_clock;

// Whether a kept-alive connection was closed by its peer while idle: EOF
// (or an error) is waiting on the socket. A plain connection with bytes
// waiting is no good either (a response nobody asked for); on TLS they may
// be a session ticket, so only EOF counts there.
bool closed_while_idle(stream& s) noexcept {
    if (s.is_closed()) return true;
    char byte;
    const ssize_t n = ::recv(s.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    return !s.is_tls();
}

}  // namespace

std::string pool_key::origin() const {
    return scheme + "://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
           std::to_string(port);
}

// ---------------------------------------------------------------- lease

pool_lease::pool_lease(connection_pool* pool, pool_key key, std::optional<stream> conn, bool reused) noexcept
    : pool_(pool), key_(std::move(key)), conn_(std::move(conn)), reused_(reused) {}

pool_lease::pool_lease(pool_lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      key_(std::move(other.key_)),
      conn_(std::move(other.conn_)),
      reused_(other.reused_) {
    other.conn_.reset();
}

pool_lease& pool_lease::operator=(pool_lease&& other) noexcept {
    if (this != &other) {
        release(false);
        pool_ = std::exchange(other.pool_, nullptr);
        key_ = std::move(other.key_);
        conn_ = std::move(other.conn_);
        other.conn_.reset();
        reused_ = other.reused_;
    }
    return *this;
}

pool_lease::~pool_lease() { release(false); }

void pool_lease::attach(stream s) {
    if (conn_) conn_->abort();
    conn_.emplace(std::move(s));
    reused_ = false;
}

void pool_lease::release(bool reusable) noexcept {
    connection_pool* pool = std::exchange(pool_, nullptr);
    if (pool == nullptr) return;
    if (conn_) {
        if (reusable && !pool->closed_ && !conn_->is_closed()) pool->put_idle(key_, std::move(*conn_));
        else conn_->abort();  // half-read or unwanted: never back in the pool
        conn_.reset();
    }
    pool->free_slot(key_);
}

// ---------------------------------------------------------------- pool

connection_pool::connection_pool(pool_options options) : options_(options) {}

connection_pool::~connection_pool() { close(); }

bool connection_pool::fits(const pool_key& key) const noexcept {
    if (options_.limit != 0 && in_use_ >= options_.limit) return false;
    if (options_.limit_per_host != 0 && in_use(key) >= options_.limit_per_host) return false;
    return true;
}

std::size_t connection_pool::in_use(const pool_key& key) const noexcept {
    auto it = hosts_.find(key);
    return it == hosts_.end() ? 0 : it->second.in_use;
}

std::size_t connection_pool::idle() const noexcept {
    std::size_t n = 0;
    for (const auto& [key, entry] : hosts_) n += entry.idle.size();
    return n;
}

void connection_pool::take_slot(const pool_key& key) {
    ++hosts_[key].in_use;
    ++in_use_;
}

void connection_pool::free_slot(const pool_key& key) noexcept {
    auto it = hosts_.find(key);
    if (it != hosts_.end() && it->second.in_use > 0) --it->second.in_use;
    if (in_use_ > 0) --in_use_;
    grant_waiters();
}

void connection_pool::grant_waiters() noexcept {
    acquire_awaiter* w = waiters_.front();
    while (w != nullptr && (options_.limit == 0 || in_use_ < options_.limit)) {
        acquire_awaiter* next = w->fifo_next;
        if (fits(w->key_)) {
            auto it = hosts_.find(w->key_);  // made by the waiter's try_now
            if (it != hosts_.end()) {
                waiters_.erase(w);
                ++it->second.in_use;
                ++in_use_;
                w->wake(corio::detail::wait_state::granted);
            }
        }
        w = next;
    }
}

std::optional<stream> connection_pool::take_idle(const pool_key& key, bool& reused) {
    reused = false;
    auto it = hosts_.find(key);
    if (it == hosts_.end()) return std::nullopt;
    auto& idle = it->second.idle;
    const auto now = clock::now();
    while (!idle.empty()) {
        idle_connection c = std::move(idle.back());
        idle.pop_back();
        if (now - c.since > options_.keepalive_timeout || closed_while_idle(c.conn)) {
            c.conn.abort();
            continue;
        }
        reused = true;
        return std::optional<stream>(std::move(c.conn));
    }
    return std::nullopt;
}

void connection_pool::put_idle(const pool_key& key, stream conn) noexcept {
    const auto now = clock::now();
    try {
        hosts_[key].idle.push_back(idle_connection{std::move(conn), now});
    } catch (...) {
        conn.abort();  // no memory to keep it: close it
    }
    if (now >= next_sweep_) sweep(now);
}

// Closes connections idle past keepalive_timeout and forgets hosts with
// nothing left, at most once a second (on release), so an idle session does
// not keep sockets open much past the timeout the next time it is used.
void connection_pool::sweep(clock::time_point now) noexcept {
    next_sweep_ = now + std::chrono::seconds(1);
    for (auto it = hosts_.begin(); it != hosts_.end();) {
        auto& idle = it->second.idle;
        std::size_t kept = 0;
        for (auto& c : idle) {
            if (now - c.since > options_.keepalive_timeout) c.conn.abort();
            else idle[kept++] = std::move(c);
        }
        idle.erase(idle.begin() + static_cast<std::ptrdiff_t>(kept), idle.end());
        bool awaited = false;
        for (acquire_awaiter* w = waiters_.front(); w != nullptr && !awaited; w = w->fifo_next)
            awaited = w->key_ == it->first;
        if (it->second.in_use == 0 && idle.empty() && !awaited) it = hosts_.erase(it);
        else ++it;
    }
}

void connection_pool::close() noexcept {
    closed_ = true;
    for (auto& [key, entry] : hosts_) {
        for (auto& c : entry.idle) c.conn.abort();
        entry.idle.clear();
    }
    waiters_.wake_all(corio::detail::wait_state::shut_down);
}

// ---------------------------------------------------------------- acquire

corio::detail::wait_state connection_pool::acquire_awaiter::try_now() {
    if (pool_->closed_) return corio::detail::wait_state::shut_down;
    pool_->hosts_.try_emplace(key_);  // grant_waiters finds it there
    // FIFO holds: every freed slot is granted to the waiters it fits before
    // anything else runs (free_slot), so a slot free now fits none of them
    // and taking it overtakes nobody.
    if (!pool_->fits(key_)) return corio::detail::wait_state::waiting;
    pool_->take_slot(key_);
    return corio::detail::wait_state::ready;
}

pool_lease connection_pool::acquire_awaiter::await_resume() {
    if (finish() == corio::detail::wait_state::shut_down)
        throw client_error("client_session::request " + key_.origin() + ": the session is closed");
    // From here we hold a slot: the lease gives it back whatever happens.
    pool_lease lease(pool_, key_, std::nullopt, false);
    bool reused = false;
    std::optional<stream> conn = pool_->take_idle(key_, reused);
    if (conn) {
        lease.conn_ = std::move(conn);
        lease.reused_ = reused;
    }
    return lease;
}

}  // namespace corio::http
