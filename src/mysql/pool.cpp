// src/mysql/pool.cpp: the pool: a FIFO semaphore of maxsize permits (one per
// connection in use; it gives the fairness and the cancel safety), the idle
// connections (most recently released last), and the session reset on
// release (mysql_reset_connection_start, Connector/C's non-blocking
// COM_RESET_CONNECTION, then the pool's charset and autocommit again where
// the reset changed them).
#include <poll.h>

#include <cctype>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <corio/context/with.hpp>
#include <corio/errors.hpp>
#include <corio/mysql/pool.hpp>
#include <corio/sync/event.hpp>
#include <corio/sync/semaphore.hpp>
#include <corio/time/timeout.hpp>

#include "state.hpp"

namespace corio::mysql {
namespace detail {

struct pool_state {
    explicit pool_state(pool_options o)
        : options(std::move(o)), connection_options(options.connection()),
          slots(static_cast<std::ptrdiff_t>(options.maxsize)) {}

    struct idle_connection {
        std::unique_ptr<connection> conn;
        clock::time_point since;
    };

    pool_options options;
    connect_options connection_options;
    corio::semaphore slots;  // a permit per connection in use
    std::vector<idle_connection> idle;
    std::set<connection_state*> in_use;
    std::size_t opening = 0;
    int reset_keeps_charset = -1;  // unknown until the first reset asks the server
    bool closing = false;
    corio::event closed;

    std::size_t size() const noexcept { return idle.size() + in_use.size() + opening; }

    void maybe_closed() {
        if (closing && in_use.empty() && opening == 0 && idle.empty()) closed.set();
    }

    // An idle connection that is still good, or null.
    std::unique_ptr<connection> take_idle() {
        const auto now = clock::now();
        while (!idle.empty()) {
            idle_connection e = std::move(idle.back());
            idle.pop_back();
            connection_state& s = *e.conn->state();
            bool good = s.is_open();
            if (good && options.pool_recycle.count() >= 0 && now - s.opened_at >= options.pool_recycle) good = false;
            if (good) {
                // An idle connection has nothing to read: anything there (EOF
                // after a server restart, an error packet after KILL) means the
                // server is done with it.
                pollfd p{mysql_get_socket(s.mysql), POLLIN, 0};
                if (::poll(&p, 1, 0) != 0) good = false;
            }
            if (good) return std::move(e.conn);
            s.close_now();
        }
        return nullptr;
    }
};

// Back to a fresh session: COM_RESET_CONNECTION rolls back, drops temporary
// tables, user variables, locks and prepared statements, and restores the
// server's session defaults; then the pool's own settings again, each only
// when the reset did not leave it so: autocommit is in the reset's status
// flags; whether this server keeps the charset across a reset (MariaDB
// 10.11 does) is asked once per pool.
task<> reset_session(connection_state& s, const connect_options& o, int& keeps_charset) {
    constexpr const char* operation = "mysql::pool: resetting a released connection";
    auto guard = co_await s.busy.scoped();
    s.check_usable(operation, s.where);
    s.drop_statements();
    int ret = 0;
    int status = mysql_reset_connection_start(&ret, s.mysql);
    auto cont = [&](int ready) { return mysql_reset_connection_cont(&ret, s.mysql, ready); };
    co_await drive(s, status, operation, cont);
    if (ret != 0) s.fail(operation, s.where);
    s.transaction_depth = 0;
    unsigned int server_status = 0;
    mariadb_get_infov(s.mysql, MARIADB_CONNECTION_SERVER_STATUS, &server_status);
    const bool autocommit_ok = ((server_status & SERVER_STATUS_AUTOCOMMIT) != 0) == o.autocommit;
    if (keeps_charset < 0) {
        const std::string check = "SELECT @@character_set_client = '" + o.charset + "' AND @@character_set_connection = '" +
                                  o.charset + "' AND @@character_set_results = '" + o.charset + "'";
        keeps_charset = co_await first_cell(s, check, operation) == "1" ? 1 : 0;
    }
    const std::string autocommit = std::string("autocommit=") + (o.autocommit ? "1" : "0");
    if (keeps_charset == 0)
        co_await simple_query(s, "SET NAMES " + o.charset + ", " + autocommit, operation);
    else if (!autocommit_ok)
        co_await simple_query(s, "SET " + autocommit, operation);
    if (!o.init_command.empty()) co_await simple_query(s, o.init_command, "mysql::pool: init_command");
    s.reset_needed = false;
}

}  // namespace detail

using detail::pool_state;

pool::acquire_manager::~acquire_manager() {
    if (conn_ && pool_) {  // entered but never exited (not used through with): close, free the place
        pool_->in_use.erase(conn_->state().get());
        conn_->state()->close_now();
        conn_.reset();
        pool_->slots.release();
        pool_->maybe_closed();
    }
}

task<connection&> pool::acquire_manager::aenter() {
    auto p = pool_;
    if (p->closing) throw operational_error("mysql::pool::acquire: the pool is closed", 0, "HY000");
    if (timeout_) {
        auto scope = corio::timeout(*timeout_);
        auto body = [&]() -> task<> { co_await p->slots.acquire(); };
        bool timed_out = false;
        try {
            co_await corio::with(scope, body);
        } catch (const timeout_error&) {
            timed_out = true;
        }
        if (timed_out)
            throw timeout_error("mysql::pool::acquire: no connection within " + std::to_string(timeout_->count()) +
                                " ms (all " + std::to_string(p->options.maxsize) + " in use)");
    } else {
        co_await p->slots.acquire();
    }
    // The permit is ours: an idle connection or a new one, else give it back.
    std::exception_ptr error;
    try {
        if (p->closing) throw operational_error("mysql::pool::acquire: the pool is closed", 0, "HY000");
        conn_ = p->take_idle();
        if (!conn_) {
            ++p->opening;
            struct opening_guard {
                pool_state* p;
                ~opening_guard() { --p->opening; }
            } opening{p.get()};
            connection c = co_await connect(p->connection_options);
            conn_ = std::make_unique<connection>(std::move(c));
        }
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        conn_.reset();
        p->slots.release();
        p->maybe_closed();
        std::rethrow_exception(error);
    }
    p->in_use.insert(conn_->state().get());
    co_return *conn_;
}

task<> pool::acquire_manager::aexit(std::exception_ptr) {
    auto p = pool_;
    std::unique_ptr<connection> c = std::move(conn_);
    if (!c) co_return;
    detail::connection_state& s = *c->state();
    p->in_use.erase(&s);
    bool keep = !p->closing && s.is_open();
    std::exception_ptr cancelled;
    if (keep && (s.reset_needed || c->in_transaction())) {
        try {
            co_await detail::reset_session(s, p->connection_options, p->reset_keeps_charset);
        } catch (...) {
            keep = false;
            if (corio::is_cancellation(std::current_exception())) cancelled = std::current_exception();
        }
    }
    if (keep && s.is_open()) {
        p->idle.push_back(pool_state::idle_connection{std::move(c), detail::clock::now()});
    } else {
        s.close_now();  // broken, failed to reset, or the pool is closing: its place is free for a new one
    }
    c.reset();
    p->slots.release();
    p->maybe_closed();
    if (cancelled) std::rethrow_exception(cancelled);
}

void pool::close() {
    state_->closing = true;
    for (auto& e : state_->idle) e.conn->state()->close_now();
    state_->idle.clear();
    state_->maybe_closed();
}

task<> pool::wait_closed() {
    if (!state_->closing) throw std::logic_error("mysql::pool::wait_closed: call close() or terminate() first");
    auto s = state_;
    co_await s->closed.wait();
}

void pool::terminate() {
    close();
    // Connections in use cannot be cut mid-call (Connector/C is inside it):
    // every later call on them fails, and release closes them.
    for (detail::connection_state* s : state_->in_use) s->broken = true;
}

std::size_t pool::size() const noexcept { return state_->size(); }
std::size_t pool::freesize() const noexcept { return state_->idle.size(); }
std::size_t pool::minsize() const noexcept { return state_->options.minsize; }
std::size_t pool::maxsize() const noexcept { return state_->options.maxsize; }
bool pool::closed() const noexcept { return state_->closing; }

task<pool&> pool::aenter() { co_return *this; }

task<> pool::aexit(std::exception_ptr) {
    close();
    co_await wait_closed();
}

task<pool> create_pool(pool_options options) {
    if (options.maxsize == 0)
        throw std::invalid_argument("mysql::create_pool: maxsize must be at least 1, got 0");
    if (options.minsize > options.maxsize)
        throw std::invalid_argument("mysql::create_pool: minsize " + std::to_string(options.minsize) +
                                    " is larger than maxsize " + std::to_string(options.maxsize));
    for (char c : options.charset)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
            throw std::invalid_argument("mysql::create_pool: charset '" + options.charset + "' is not a character set name");
    auto state = std::make_shared<pool_state>(std::move(options));
    for (std::size_t i = 0; i < state->options.minsize; ++i) {
        connection c = co_await connect(state->connection_options);
        state->idle.push_back(pool_state::idle_connection{std::make_unique<connection>(std::move(c)), detail::clock::now()});
    }
    co_return pool(std::move(state));
}

}  // namespace corio::mysql
