// src/pg/pool.cpp: pool (see corio/pg/pool.hpp): a semaphore of max_size
// permits for fairness and cancel safety, a LIFO list of idle connections
// (asyncpg's order: the warmest first), release's pipelined reset.
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <deque>
#include <string>
#include <utility>

#include <corio/context/with.hpp>
#include <corio/errors.hpp>
#include <corio/pg/pool.hpp>
#include <corio/sync/event.hpp>
#include <corio/sync/semaphore.hpp>
#include <corio/tasks/gather.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/time/sleep.hpp>
#include <corio/time/timeout.hpp>

#include "conn_state.hpp"

namespace corio::pg {
namespace detail {

namespace {
// How long release may take to reset a session before the connection is
// dropped instead.
constexpr auto reset_bound = std::chrono::seconds(5);
// How long an owed session reset waits for the next user's first statement
// to carry it before it is sent alone.
constexpr auto reset_delay = std::chrono::milliseconds(1);
}  // namespace

struct pool_state : std::enable_shared_from_this<pool_state> {
    struct idle_entry {
        connection conn;
        std::chrono::steady_clock::time_point since;
    };

    explicit pool_state(pool_options o)
        : options(std::move(o)), permits(static_cast<std::ptrdiff_t>(options.max_size)) {
        connect = options.connect;
        if (connect.dsn.empty() && connect.host.empty()) connect.dsn = options.dsn;
        if (options.command_timeout) connect.command_timeout = options.command_timeout;
    }

    pool_options options;
    connect_options connect;
    corio::semaphore permits;
    std::deque<idle_entry> idle;  // the most recently released at the back
    std::vector<std::weak_ptr<conn_state>> lent;
    std::size_t open = 0;
    std::size_t in_use = 0;
    bool closing = false;
    corio::event all_back;
    // Connections released with their session reset owed (give_back), and
    // the housekeeper task that sends those still owed at the loop's next
    // turn and closes connections idle too long.
    std::vector<std::weak_ptr<conn_state>> owed;
    corio::event owed_ready;  // an owed reset, or a change to the idle list
    bool housekeeper_running = false;
    void start_housekeeper();

    task<connection> new_connection();
    task<connection> take(std::optional<std::chrono::milliseconds> timeout);
    task<void> give_back(connection c);
    void drop(connection& c) noexcept;
    void terminate() noexcept;
};

// An idle connection is alive when its socket has nothing to say, or what it
// says (a NOTIFY) leaves the connection good. A server that restarted sent
// FATAL and EOF: PQconsumeInput fails and the connection is dropped.
bool idle_alive(conn_state& s) noexcept {
    if (!s.usable()) return false;
    // A terminated session sends FATAL (parsed as a notice when idle) and
    // then EOF, which a second read sees: read until nothing is left.
    for (int i = 0; i < 8; ++i) {
        pollfd p{s.fd, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0) return true;
        if (PQconsumeInput(s.conn) != 1 || PQstatus(s.conn) == CONNECTION_BAD) return false;
        s.collect_notifications();
        if (PQstatus(s.conn) == CONNECTION_BAD) return false;
    }
    return true;
}

void pool_state::drop(connection& c) noexcept {
    c.state().finish();
    --open;
}

task<connection> pool_state::new_connection() {
    connection c = co_await detail::open_connection(connect);
    if (options.init) co_await options.init(c);
    co_return c;
}

task<connection> pool_state::take(std::optional<std::chrono::milliseconds> timeout) {
    auto self = shared_from_this();
    if (closing) throw interface_error("pg::pool::acquire: the pool is closed");
    if (timeout) {
        bool got = false;
        bool expired = false;
        auto wait = [self, &got]() -> task<void> {
            co_await self->permits.acquire();
            got = true;
        };
        try {
            co_await corio::wait_for(wait(), *timeout);
        } catch (const corio::timeout_error&) {
            expired = true;
        }
        if (expired) {
            if (got) permits.release();  // granted as the deadline passed
            throw corio::timeout_error("pg::pool::acquire: no connection free within " +
                                       std::to_string(timeout->count()) + " ms (max_size " +
                                       std::to_string(options.max_size) + ")");
        }
    } else {
        co_await permits.acquire();
    }
    // From here the permit is ours: every exit without a connection frees it.
    if (closing) {
        permits.release();
        throw interface_error("pg::pool::acquire: the pool is closed");
    }
    std::optional<connection> chosen;
    const auto now = std::chrono::steady_clock::now();
    while (!idle.empty()) {
        idle_entry e = std::move(idle.back());
        idle.pop_back();
        const bool expired = options.max_inactive_connection_lifetime.count() > 0 &&
                             now - e.since > options.max_inactive_connection_lifetime;
        if (expired || !idle_alive(e.conn.state())) {
            drop(e.conn);
            continue;
        }
        chosen.emplace(std::move(e.conn));
        break;
    }
    if (!chosen) {
        ++open;
        std::exception_ptr failed;
        try {
            chosen.emplace(co_await new_connection());
        } catch (...) {
            failed = std::current_exception();
        }
        if (failed) {
            --open;
            permits.release();
            std::rethrow_exception(failed);
        }
    }
    if (options.setup) {
        std::exception_ptr failed;
        try {
            co_await options.setup(*chosen);
        } catch (...) {
            failed = std::current_exception();
        }
        if (failed) {
            drop(*chosen);
            permits.release();
            std::rethrow_exception(failed);
        }
    }
    ++in_use;
    ++chosen->state().uses;
    lent.push_back(chosen->state().weak_from_this());
    co_return std::move(*chosen);
}

namespace {
task<void> reset_session(std::shared_ptr<conn_state> s, bool in_transaction) {
    const char* op = "pg::pool::release: resetting the session";
    auto req = s->submit_session_reset(op, in_transaction);
    co_await s->flush(op);
    co_await s->await_request(req);
    if (req->error) std::rethrow_exception(req->error);
    s->transaction_depth = 0;
}
}  // namespace

// The pool's housekeeper, one task per pool: it sends the session resets
// still owed at the loop's next turn (it runs after the tasks a release
// woke, so a reset the next user's first statement did not carry is sent
// alone then), and closes idle connections once they have been idle for
// max_inactive_connection_lifetime (asyncpg's timer: the pool may then hold
// fewer than min_size; acquire opens again). It holds the pool's state while
// it runs and ends when the pool closes (or the loop's main task ends and
// cancels it).
void pool_state::start_housekeeper() {
    housekeeper_running = true;
    corio::spawn([self = shared_from_this()]() -> task<void> {
        struct stopped {
            pool_state* p;
            ~stopped() { p->housekeeper_running = false; }
        } guard{self.get()};
        const auto lifetime = self->options.max_inactive_connection_lifetime;
        while (!self->closing) {
            if (lifetime.count() > 0 && !self->idle.empty()) {
                // Wakes for an owed reset, or when the oldest idle connection expires.
                const auto expiry = self->idle.front().since + lifetime;
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                                      expiry - std::chrono::steady_clock::now()) +
                                  std::chrono::milliseconds(1);
                if (left.count() > 0) {
                    try {
                        co_await corio::wait_for(self->owed_ready.wait(), left);
                    } catch (const corio::timeout_error&) {
                    }
                }
            } else {
                co_await self->owed_ready.wait();
            }
            if (self->closing) break;
            if (!self->owed.empty()) {
                co_await corio::sleep(reset_delay);
                self->owed_ready.clear();  // before taking the batch: a later release sets it again
                auto batch = std::move(self->owed);
                self->owed.clear();
                for (auto& w : batch) {
                    auto s = w.lock();
                    if (!s || !s->reset_owed || !s->usable() || s->copying) continue;
                    try {
                        s->pay_owed_reset("pg::pool::release");
                        co_await s->flush("pg::pool::release: resetting the session");
                    } catch (const std::exception&) {
                        // Broken: its next user (or the idle check) finds it so.
                    }
                }
            } else {
                self->owed_ready.clear();
            }
            if (lifetime.count() > 0) {
                const auto now = std::chrono::steady_clock::now();
                while (!self->idle.empty() && now - self->idle.front().since >= lifetime) {
                    self->drop(self->idle.front().conn);
                    self->idle.pop_front();
                }
            }
        }
    });
}

task<void> pool_state::give_back(connection c) {
    auto self = shared_from_this();
    auto s = c.state().shared_from_this();
    std::erase_if(lent, [&](const std::weak_ptr<conn_state>& w) { return w.expired() || w.lock() == s; });
    bool keep = s->usable() && !closing && (options.max_queries == 0 || s->uses < options.max_queries);
    if (keep && s->pending.empty() && s->transaction_depth == 0 && PQtransactionStatus(s->conn) == PQTRANS_IDLE &&
        s->listeners.empty() && !s->copying) {
        // The common case (no transaction open, nothing in flight): the reset
        // is owed, not sent. The next statement sent on the connection
        // carries it in its own segment (BEGIN, the reset, COMMIT, then the
        // statement: one write and one wakeup of the server, not two), so
        // the session is reset before anything of the next user's runs; if
        // nothing is sent by the loop's next turn, the housekeeper sends
        // it alone, so a released advisory lock or LISTEN does not outlive
        // the release by more than that. A reset that fails breaks the
        // connection (its next user gets connection_error and the pool
        // replaces it) rather than hand out a session in an unknown state.
        s->reset_owed = true;
        owed.push_back(s);
    } else if (keep) {
        bool failed = false;
        try {
            co_await corio::wait_for(reset_session(s, c.in_transaction()), reset_bound);
        } catch (const std::exception&) {
            failed = true;  // broken, or the reset failed or took too long
        }
        keep = !failed && s->usable() && !closing;
    }
    --in_use;
    if (keep) idle.push_back(idle_entry{std::move(c), std::chrono::steady_clock::now()});
    else drop(c);
    permits.release();
    // After the release: the waiter it woke runs first and may carry the
    // reset. The housekeeper also learns of a newly idle connection.
    if (!housekeeper_running && !closing) start_housekeeper();
    owed_ready.set();
    if (in_use == 0) all_back.set();
}

void pool_state::terminate() noexcept {
    closing = true;
    owed_ready.set();
    for (auto& e : idle) {
        e.conn.state().finish();
        --open;
    }
    idle.clear();
    // Connections in use: the socket is shut down, so the task using it wakes
    // with connection_error; it comes back (and is dropped) on release.
    for (auto& w : lent) {
        if (auto s = w.lock()) {
            if (s->fd >= 0) ::shutdown(s->fd, SHUT_RDWR);
        }
    }
    if (in_use == 0) all_back.set();
}

}  // namespace detail

// ---- pool_acquire

pool_acquire::~pool_acquire() {
    if (conn_ && pool_) {
        // aexit never ran (the manager was dropped): the session's state is
        // unknown, so the connection is closed and its slot freed.
        conn_->state().finish();
        --pool_->open;
        --pool_->in_use;
        pool_->permits.release();
        if (pool_->in_use == 0) pool_->all_back.set();
    }
}

task<connection&> pool_acquire::aenter() {
    if (!pool_) throw interface_error("pg::pool::acquire: the pool was moved from");
    if (conn_) throw interface_error("pg::pool::acquire: this acquire was already entered");
    conn_.emplace(co_await pool_->take(timeout_));
    co_return *conn_;
}

task<void> pool_acquire::aexit(std::exception_ptr) {
    if (!conn_) co_return;
    connection c = std::move(*conn_);
    conn_.reset();
    auto p = pool_;
    co_await p->give_back(std::move(c));
}

// ---- pool

pool& pool::operator=(pool&& other) noexcept {
    if (this != &other) {
        if (state_) state_->terminate();
        state_ = std::move(other.state_);
    }
    return *this;
}

pool::~pool() {
    if (state_ && !state_->closing) state_->terminate();
}

task<pool&> pool::aenter() { co_return *this; }
task<void> pool::aexit(std::exception_ptr) { co_await close(); }

pool_acquire pool::acquire() { return pool_acquire(state_, std::nullopt); }
pool_acquire pool::acquire(std::chrono::milliseconds timeout) { return pool_acquire(state_, timeout); }

task<void> pool::close() {
    if (!state_) co_return;
    auto s = state_;
    s->closing = true;
    s->owed_ready.set();  // the housekeeper ends
    if (s->in_use > 0) {
        s->all_back.clear();
        while (s->in_use > 0) {
            co_await s->all_back.wait();
            s->all_back.clear();
        }
    }
    while (!s->idle.empty()) {
        connection c = std::move(s->idle.back().conn);
        s->idle.pop_back();
        co_await c.close();
        --s->open;
    }
}

void pool::terminate() noexcept {
    if (state_) state_->terminate();
}

std::size_t pool::size() const noexcept { return state_ ? state_->open : 0; }
std::size_t pool::idle() const noexcept { return state_ ? state_->idle.size() : 0; }

task<std::string> pool::execute_encoded(std::string sql, detail::encoded_params params) {
    auto lease = acquire();
    auto body = [sql = std::move(sql), params = std::move(params)](connection& c) mutable -> task<std::string> {
        co_return co_await c.execute_encoded(std::move(sql), std::move(params));
    };
    co_return co_await corio::with(lease, body);
}

task<std::vector<record>> pool::fetch_encoded(std::string sql, detail::encoded_params params) {
    auto lease = acquire();
    auto body = [sql = std::move(sql), params = std::move(params)](connection& c) mutable -> task<std::vector<record>> {
        co_return co_await c.fetch_encoded(std::move(sql), std::move(params));
    };
    co_return co_await corio::with(lease, body);
}

task<std::optional<record>> pool::fetchrow_encoded(std::string sql, detail::encoded_params params) {
    auto lease = acquire();
    auto body = [sql = std::move(sql), params = std::move(params)](connection& c) mutable -> task<std::optional<record>> {
        co_return co_await c.fetchrow_encoded(std::move(sql), std::move(params));
    };
    co_return co_await corio::with(lease, body);
}

task<pool> create_pool(pool_options options) {
    if (options.max_size == 0) throw std::invalid_argument("pg::create_pool: max_size 0");
    if (options.min_size > options.max_size)
        throw std::invalid_argument("pg::create_pool: min_size " + std::to_string(options.min_size) +
                                    " is more than max_size " + std::to_string(options.max_size));
    auto state = std::make_shared<detail::pool_state>(std::move(options));
    pool p(state);
    const std::size_t n = state->options.min_size;
    if (n > 0) {
        std::vector<task<connection>> opening;
        opening.reserve(n);
        for (std::size_t i = 0; i < n; ++i) opening.push_back(state->new_connection());
        std::vector<connection> conns = co_await corio::gather(std::move(opening));
        const auto now = std::chrono::steady_clock::now();
        for (auto& c : conns) {
            state->idle.push_back(detail::pool_state::idle_entry{std::move(c), now});
            ++state->open;
        }
        if (state->options.max_inactive_connection_lifetime.count() > 0) state->start_housekeeper();
    }
    co_return p;
}

}  // namespace corio::pg
