// src/pg/conn_state.hpp: one libpq connection in non-blocking pipeline mode,
// shared by connection, transaction, prepared_statement and the pool.
//
// Sending: a query is queued into libpq's output buffer at once (no await
// between PQsend* and PQpipelineSync, so tasks never interleave inside a
// query), then flushed; a flush that cannot finish waits for POLLOUT under
// flush_lock, shielded (the bytes are in libpq's buffer: leaving them unsent
// would stall every later query).
// Reading: one task at a time drives the socket, the driver: the owner of the
// oldest request still waited for. It reads results for whatever request is
// at the head of `pending` (those of cancelled owners are discarded) until
// its own is complete, then hands the role to the next waiting owner. Other
// owners wait on their request's event: woken when their results are in, or
// when they become the driver. So exactly one POLLIN wait is on the socket.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <chrono>
#include <deque>
#include <optional>
#include <exception>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <corio/pg/connection.hpp>
#include <corio/pg/notification.hpp>
#include <corio/pg/options.hpp>
#include <corio/pg/record.hpp>
#include <corio/sync/event.hpp>
#include <corio/sync/lock.hpp>
#include <corio/sync/queue.hpp>
#include <corio/task.hpp>

namespace corio::pg::detail {

struct result {
    explicit result(PGresult* r);
    ~result() { PQclear(res); }
    result(const result&) = delete;
    result& operator=(const result&) = delete;
    PGresult* res;
    std::vector<std::string> names;
    std::vector<oid> types;
};

/// One Sync segment in the pipeline: a statement (maybe with its Parse and
/// an eviction's DEALLOCATE before it), or a bare Sync (a barrier).
struct request {
    std::string operation;  // "pg::connection::fetch 'SELECT ...'" for messages
    std::string cache_key;  // set when this request sent the Parse of a cached statement
    std::string hit_key;    // set when it ran a statement already in the cache
    bool stale_statement = false;  // that statement's result type changed (0A000)
    std::shared_ptr<const result> rows;
    std::string tag;
    std::exception_ptr error;
    bool server_error = false;  // error holds the server's ErrorResponse
    bool got_any = false;    // a result of it has arrived (the server ran it)
    bool done = false;       // its PGRES_PIPELINE_SYNC has arrived (or the connection broke)
    bool abandoned = false;  // its owner was cancelled: discard its results
    bool break_on_error = false;  // a pool's session reset: failing breaks the connection
    int reset_results = 0;   // results of an owed session reset still to come ahead of its own
    corio::event ready;      // done, or its owner became the driver
};

/// A listen() generator's queue.
struct notification_sink {
    std::string channel;
    std::deque<notification> queue;
    corio::event ready;    // a notification arrived, or the socket needs a reader
    request idle_driver;   // the driver role while the listener reads an idle socket
};

struct conn_state : std::enable_shared_from_this<conn_state> {
    conn_state(PGconn* c, connect_options o, std::string peer_name);
    ~conn_state();
    conn_state(const conn_state&) = delete;
    conn_state& operator=(const conn_state&) = delete;

    /// Sends `sql` with `params` (prepared and cached when `cache`) and waits
    /// for its results; postgres_error, connection_error, interface_error.
    task<query_result> query(std::string operation, std::string sql, encoded_params params, bool cache = true);
    /// Sends several statements in one go and waits for all; the first error
    /// is thrown after all have come back.
    task<std::vector<query_result>> query_many(std::string operation, std::string sql,
                                               std::vector<encoded_params> rows);
    /// Waits until everything sent before it has come back.
    task<void> barrier(std::string operation, bool during_copy);
    /// Waits while a COPY owns the connection.
    task<void> wait_turn();
    /// Prepares `sql` under `name` (not cached) and gives its parameter count.
    task<std::shared_ptr<const result>> prepare_named(std::string operation, std::string name, std::string sql);
    task<query_result> query_prepared(std::string operation, std::string name, encoded_params params,
                                      std::vector<oid> types);

    /// Sends Terminate and frees libpq's connection; idempotent.
    task<void> close();
    void finish() noexcept;

    bool usable() const noexcept { return conn != nullptr && !broken && !closing; }
    /// throws interface_error (closed) or connection_error (broken).
    void check_open(const std::string& operation) const;
    /// check_open, and interface_error when a parameter failed to encode.
    void check_sendable(const std::string& operation, const encoded_params& params) const;
    [[noreturn]] void throw_connection_error(const std::string& operation, const std::string& reason) const;
    /// Fails every pending request with connection_error and marks the connection dead.
    void break_connection(const std::string& reason);

    std::shared_ptr<request> submit(std::string operation, const std::string& sql, const encoded_params& params,
                                    bool cache);
    /// The pool's session reset (a ROLLBACK first when asked, then
    /// pg_advisory_unlock_all(), CLOSE ALL, UNLISTEN *, RESET ALL) as one
    /// Sync segment: one implicit transaction, one write, one ReadyForQuery.
    /// A failure skips the rest and breaks the connection (break_on_error).
    std::shared_ptr<request> submit_session_reset(std::string operation, bool rollback_first);
    std::shared_ptr<request> submit_prepared(std::string operation, const std::string& name,
                                             const encoded_params& params, const std::vector<oid>& types);
    bool send_statement(const std::string& sql, const encoded_params& params, bool cache, std::string& new_key,
                        std::string& hit_key, bool reset_first, int& reset_results);
    /// The reset's statements into libpq's buffer (no Sync); `wrapped` in
    /// BEGIN ... COMMIT to share a segment with the statement after it.
    /// Gives how many results they will send (their Parses included), -1
    /// when libpq refused one.
    int send_session_reset(bool rollback_first, bool wrapped);
    /// Sends the owed session reset (reset_owed) as a segment of its own;
    /// every way of sending calls it first, but submit(), which puts it in
    /// the same segment as its statement: one write, one wakeup of the server.
    void pay_owed_reset(const std::string& operation);
    /// Sends the DEALLOCATEs of dropped prepared_statements (in the caller's segment).
    bool send_deallocations();
    /// Reads the socket while no query does, until `sink` has a notification.
    task<void> drive_idle(notification_sink& sink);
    std::shared_ptr<request> enqueue(std::string operation);
    task<void> flush(std::string operation);
    task<void> flush_wait(std::string operation);
    task<void> await_request(std::shared_ptr<request> req);
    task<void> drive(request& mine);
    task<void> cancel_and_drain(std::shared_ptr<request> req);
    void process();
    void handle(request& req, PGresult* r);
    void hand_over(request* req) noexcept;
    void collect_notifications();
    task<query_result> with_command_timeout(std::shared_ptr<request> req);
    task<query_result> finish_query(std::shared_ptr<request> req);
    query_result take(request& req);

    PGconn* conn;
    int fd;
    connect_options options;
    std::string peer;
    std::deque<std::shared_ptr<request>> pending;
    request* driver = nullptr;
    corio::lock flush_lock;
    bool broken = false;
    bool closing = false;
    std::string broken_reason;
    bool copying = false;     // a COPY owns the connection (out of pipeline mode)
    corio::event copy_idle;   // set when a COPY ends
    std::string fatal_message;  // a FATAL ErrorResponse arrived: break after handling it

    // The statement cache: the most recently used first.
    struct cached {
        std::string key;
        std::string name;
    };
    std::list<cached> lru;
    std::unordered_map<std::string, std::list<cached>::iterator> cache;
    std::uint64_t next_name = 0;
    std::vector<std::string> to_deallocate;  // prepared_statements destroyed

    // A pool released this connection and owes its session reset: the next
    // statement sent carries it, or the pool's reset sender sends it alone
    // at the loop's next turn (pool.cpp).
    bool reset_owed = false;
    bool reset_prepared = false;  // the reset's statements are prepared on this session

    int transaction_depth = 0;
    std::uint64_t uses = 0;  // acquires served (pool's max_queries)
    std::chrono::steady_clock::time_point idle_since{};

    // listen(): notifications arrive on any read; the listeners' queues.
    std::vector<std::shared_ptr<notification_sink>> listeners;
};

/// "pg::connection::fetch 'SELECT 1'" (the SQL shortened to 80 characters).
std::string describe(const char* operation, const std::string& sql);

}  // namespace corio::pg::detail
