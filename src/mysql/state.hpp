// src/mysql/state.hpp: what a corio::mysql connection is inside: the
// Connector/C handle, and drive(), the one loop that runs any non-blocking
// Connector/C call (`status = mysql_X_start(...)`, then, while the status
// asks to wait, wait on the socket with corio and `mysql_X_cont`).
//
// Cancellation in the middle of a call: the handle is mid-protocol, so it is
// never just abandoned. drive() catches the cancellation, and, shielded:
// asks a fresh connection to `KILL QUERY <thread id>` (when the handle was
// connected), runs the pending call to its end (bounded: 2 s), and closes
// the connection when that bound passes or a result is left half-read.
// Then the cancellation goes on. Any other failure while waiting closes it.
#pragma once

#include <errmsg.h>
#include <mysql.h>
#include <sys/socket.h>
#include <poll.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include <corio/errors.hpp>
#include <corio/mysql/errors.hpp>
#include <corio/mysql/options.hpp>
#include <corio/sync/lock.hpp>
#include <corio/task.hpp>
#include <corio/tasks/shield.hpp>

namespace corio::mysql::detail {

using clock = std::chrono::steady_clock;

/// How long a cancelled call may take to end after KILL QUERY before the
/// connection is closed instead.
inline constexpr std::chrono::milliseconds drain_bound{2000};

struct connection_state {
    explicit connection_state(connect_options o);
    ~connection_state();
    connection_state(const connection_state&) = delete;
    connection_state& operator=(const connection_state&) = delete;

    MYSQL* mysql = nullptr;
    connect_options options;
    std::string where;          // "host:port" or the socket path, for messages
    bool connected = false;     // the handshake finished: KILL can reach it
    bool broken = false;        // lost, killed, or closed mid-protocol: never reused
    bool reset_needed = false;  // the pool must reset the session before reuse
    unsigned transaction_depth = 0;
    std::uint64_t thread_id = 0;
    int polled_fd = -1;
    MYSQL_STMT* active_stmt = nullptr;  // the statement whose result may be on the wire  // the socket corio's loop has seen: forgotten before Connector/C closes it
    clock::time_point opened_at{};
    corio::lock busy;  // one call at a time, FIFO

    // Prepared statements by SQL (after %s -> ?), least recently used first.
    struct cached_statement {
        MYSQL_STMT* stmt;
        std::list<std::string>::iterator lru;
    };
    std::unordered_map<std::string, cached_statement> statements;
    std::list<std::string> lru;
    static constexpr std::size_t statement_cache_size = 100;

    /// Opens the connection (mysql_real_connect_start); operational_error on failure.
    task<> open(const char* operation);
    /// Frees the handle now; a shutdown() first so nothing blocks (used after a
    /// failure or a cancellation; close_gracefully() sends COM_QUIT on the loop).
    void close_now() noexcept;
    task<> close_gracefully();
    bool is_open() const noexcept { return mysql != nullptr && !broken; }
    /// operational_error when the connection cannot take a call.
    void check_usable(const char* operation, std::string_view what) const;
    /// Closes every cached statement (their ids die with a session reset).
    void drop_statements() noexcept;
    /// Tells corio's loop to forget the socket it polled (Connector/C is about
    /// to close it, or closed it and may get the same number again).
    void forget_socket() noexcept;

    /// Throws the mapped mysql_error for the handle's last error.
    [[noreturn]] void fail(const char* operation, std::string_view what);
    [[noreturn]] void fail_stmt(MYSQL_STMT* stmt, const char* operation, std::string_view what);
};

/// The mysql_error subclass for a server or client error number.
[[noreturn]] void throw_error(unsigned code, const char* sqlstate, const char* message, const char* operation,
                              std::string_view what, bool connecting);
/// `sql` cut to 100 characters, quoted, for messages.
std::string quote_sql(std::string_view sql);

/// Waits for what `status` (MYSQL_WAIT_*) asks, at most until `deadline`;
/// gives the MYSQL_WAIT_* flags that happened (MYSQL_WAIT_TIMEOUT when the
/// connector's own timeout passed), or 0 when `deadline` passed first.
task<int> wait_status(connection_state& s, int status, const char* operation, std::optional<clock::time_point> deadline);

/// A statement without parameters or rows (BEGIN, SAVEPOINT, SET ...); the caller holds `busy`.
task<> simple_query(connection_state& s, std::string sql, const char* operation);

/// The first row's first cell of a query, as text ("" for none or NULL); the caller holds `busy`.
task<std::string> first_cell(connection_state& s, std::string sql, const char* operation);

/// KILL QUERY <thread id> from a fresh connection with the same options;
/// failures are ignored (bounded by drain_bound).
task<> kill_query(const connect_options& options, std::uint64_t thread_id);

/// Runs a started call to its end within `deadline`; false when the bound
/// passed (the socket is then shut so the call ends at once, and failed).
template <class Cont>
task<bool> finish_within(connection_state& s, int status, Cont& cont, clock::time_point deadline) {
    while (status != 0) {
        const int ready = co_await wait_status(s, status, "mysql: draining a cancelled call", deadline);
        if (ready == 0) {
            if (int fd = mysql_get_socket(s.mysql); fd >= 0) ::shutdown(fd, SHUT_RDWR);
            while (status != 0) status = cont(MYSQL_WAIT_READ | MYSQL_WAIT_WRITE | MYSQL_WAIT_TIMEOUT);
            co_return false;
        }
        status = cont(ready);
    }
    co_return true;
}

/// After the cancelled call ended: reads and drops any result left on the
/// wire (a query the kill came too late for, SLEEP() returning 1), within
/// `deadline`; closes the connection when that cannot be done.
task<> drain_results(connection_state& s, clock::time_point deadline);

/// After a cancellation mid-call: kill, drain (bounded) or close. Shielded by the caller.
template <class Cont>
task<> abort_pending(connection_state& s, int status, Cont& cont) {
    if (!s.connected) {
        // Still connecting: nothing on the server to kill or drain; end the call at once.
        if (int fd = mysql_get_socket(s.mysql); fd >= 0) ::shutdown(fd, SHUT_RDWR);
        while (status != 0) status = cont(MYSQL_WAIT_READ | MYSQL_WAIT_WRITE | MYSQL_WAIT_TIMEOUT);
        s.close_now();
        co_return;
    }
    if (s.thread_id != 0) co_await kill_query(s.options, s.thread_id);
    const auto deadline = clock::now() + drain_bound;
    if (!co_await finish_within(s, status, cont, deadline)) {
        s.close_now();
        co_return;
    }
    co_await drain_results(s, deadline);
}

/// Runs a started Connector/C call to its end: `status` is what its _start
/// gave, `cont(ready)` calls its _cont. See the file comment for cancellation.
template <class Cont>
task<> drive(connection_state& s, int status, const char* operation, Cont& cont) {
    while (status != 0) {
        int ready = 0;
        std::exception_ptr error;
        bool cancelled = false;
        try {
            ready = co_await wait_status(s, status, operation, std::nullopt);
        } catch (const corio::cancelled_error&) {
            error = std::current_exception();
            cancelled = true;
        } catch (...) {
            error = std::current_exception();
        }
        if (error) {
            if (cancelled) {
                auto recovery = abort_pending(s, status, cont);
                co_await corio::shield(std::move(recovery));
            } else {
                // Polling failed: the handle cannot go on. End the call, close.
                if (int fd = mysql_get_socket(s.mysql); fd >= 0) ::shutdown(fd, SHUT_RDWR);
                while (status != 0) status = cont(MYSQL_WAIT_READ | MYSQL_WAIT_WRITE | MYSQL_WAIT_TIMEOUT);
                s.close_now();
            }
            std::rethrow_exception(error);
        }
        status = cont(ready);
    }
}

}  // namespace corio::mysql::detail
