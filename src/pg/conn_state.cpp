// src/pg/conn_state.cpp: the pipeline engine of corio::pg (see conn_state.hpp):
// sending, flushing, one driver reading results in order, cancellation
// (CancelRequest and a bounded drain), and breaking a connection that died.
#include "conn_state.hpp"

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <utility>

#include <corio/detail/backend.hpp>
#include <corio/detail/event_loop.hpp>
#include <corio/detail/fiber.hpp>
#include <corio/detail/socket.hpp>
#include <corio/errors.hpp>
#include <corio/tasks/shield.hpp>
#include <corio/tasks/to_thread.hpp>
#include <corio/time/timeout.hpp>

#include "errors_impl.hpp"

namespace corio::pg::detail {

namespace {
// How long a cancelled query may take to give back its results (after the
// CancelRequest) before its connection is closed instead.
constexpr auto drain_bound = std::chrono::seconds(5);

void forget_fd(int fd) noexcept {
    if (fd >= 0 && corio::detail::tls_loop != nullptr) corio::detail::tls_loop->io().forget(fd);
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}
}  // namespace

std::string describe(const char* operation, const std::string& sql) {
    std::string out = operation;
    out += " '";
    if (sql.size() > 80) {
        out.append(sql, 0, 77);
        out += "...";
    } else {
        out += sql;
    }
    out += "'";
    return out;
}

result::result(PGresult* r) : res(r) {
    const int n = PQnfields(r);
    names.reserve(static_cast<std::size_t>(n));
    types.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        names.emplace_back(PQfname(r, i));
        types.push_back(PQftype(r, i));
    }
}

std::size_t result_columns(const result& r) noexcept { return r.names.size(); }
std::size_t result_rows(const result& r) noexcept { return static_cast<std::size_t>(PQntuples(r.res)); }
const std::string& result_column_name(const result& r, std::size_t column) noexcept { return r.names[column]; }
oid result_column_type(const result& r, std::size_t column) noexcept { return r.types[column]; }
cell result_cell(const result& r, std::size_t row, std::size_t column) noexcept {
    const int ri = static_cast<int>(row), ci = static_cast<int>(column);
    if (PQgetisnull(r.res, ri, ci)) return cell{nullptr, 0, true};
    return cell{PQgetvalue(r.res, ri, ci), PQgetlength(r.res, ri, ci), false};
}

conn_state::conn_state(PGconn* c, connect_options o, std::string peer_name)
    : conn(c), fd(PQsocket(c)), options(std::move(o)), peer(std::move(peer_name)) {}

conn_state::~conn_state() { finish(); }

void conn_state::finish() noexcept {
    if (conn == nullptr) return;
    // The loop must forget the descriptor before libpq closes it (a new
    // socket may get the same number).
    forget_fd(fd);
    PQfinish(conn);
    conn = nullptr;
    fd = -1;
    if (!broken) {
        broken = true;
        broken_reason = "the connection is closed";
    }
}

void conn_state::check_open(const std::string& operation) const {
    if (closing || (conn == nullptr && !broken)) throw interface_error(operation + ": the connection is closed");
    if (broken) throw_connection_error(operation, broken_reason);
}

void conn_state::throw_connection_error(const std::string& operation, const std::string& reason) const {
    throw connection_error(operation + " " + peer + ": " + reason);
}

void conn_state::break_connection(const std::string& reason) {
    if (broken) return;
    broken = true;
    broken_reason = reason.empty() ? "the connection was lost" : reason;
    // Everything queued fails; its owners wake (the driver sees `broken`).
    auto failed = std::move(pending);
    pending.clear();
    for (auto& r : failed) {
        if (!r->done) {
            r->done = true;
            if (!r->error)
                r->error = std::make_exception_ptr(connection_error(r->operation + " " + peer + ": " + broken_reason));
            r->ready.set();
        }
    }
    driver = nullptr;
    for (auto& sink : listeners) sink->ready.set();
}

std::shared_ptr<request> conn_state::enqueue(std::string operation) {
    if (PQpipelineSync(conn) != 1) {
        break_connection(trim(PQerrorMessage(conn)));
        throw_connection_error(operation, broken_reason);
    }
    auto req = std::make_shared<request>();
    req->operation = std::move(operation);
    pending.push_back(req);
    if (driver == nullptr) driver = req.get();
    return req;
}

namespace {
struct param_arrays {
    std::vector<Oid> types;
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    explicit param_arrays(const encoded_params& p) {
        const std::size_t n = p.values.size();
        types.resize(n);
        values.resize(n);
        lengths.resize(n);
        formats.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            const param& v = p.values[i];
            types[i] = v.type;
            values[i] = v.null ? nullptr : v.bytes.data();
            lengths[i] = static_cast<int>(v.bytes.size());
            formats[i] = v.format;
        }
    }
    int count() const noexcept { return static_cast<int>(values.size()); }
};

std::string cache_key_of(const std::string& sql, const encoded_params& p) {
    std::string key = sql;
    key.push_back('\0');
    for (const param& v : p.values) {
        key.append(reinterpret_cast<const char*>(&v.type), sizeof v.type);
    }
    return key;
}
}  // namespace

// Puts one statement (its Parse first when it is cached and new) into
// libpq's output buffer, without a Sync; false when libpq refused it. With
// `reset_first`, the owed session reset goes into the same segment ahead of
// it; the cache's bookkeeping (and an eviction's DEALLOCATE, a segment of its
// own) comes before both, so nothing splits the segment.
bool conn_state::send_statement(const std::string& sql, const encoded_params& params, bool cache_it,
                                std::string& new_key, std::string& hit_key, bool reset_first,
                                int& reset_results) {
    const param_arrays a(params);
    std::string name;
    bool parse = false;
    if (cache_it && options.statement_cache_size > 0) {
        std::string key = cache_key_of(sql, params);
        auto it = cache.find(key);
        if (it != cache.end()) {
            lru.splice(lru.begin(), lru, it->second);
            name = it->second->name;
            hit_key = key;
        } else {
            if (cache.size() >= options.statement_cache_size) {
                // Evict the least recently used: its DEALLOCATE goes after
                // every query already sent that still uses it.
                to_deallocate.push_back(lru.back().name);
                cache.erase(lru.back().key);
                lru.pop_back();
            }
            name = "__corio_" + std::to_string(++next_name);
            parse = true;
            lru.push_front(cached{key, name});
            cache.emplace(key, lru.begin());
            new_key = std::move(key);
        }
    }
    bool ok = send_deallocations();
    if (reset_first) {
        reset_results = ok ? send_session_reset(false, true) : -1;
        ok = ok && reset_results > 0;
    }
    if (parse) ok = ok && PQsendPrepare(conn, name.c_str(), sql.c_str(), a.count(), a.types.data()) == 1;
    if (!name.empty())
        return ok && PQsendQueryPrepared(conn, name.c_str(), a.count(), a.values.data(), a.lengths.data(),
                                         a.formats.data(), 1) == 1;
    return ok && PQsendQueryParams(conn, sql.c_str(), a.count(), a.types.data(), a.values.data(), a.lengths.data(),
                                   a.formats.data(), 1) == 1;
}

namespace {
// What a pool's release undoes (API.md section 12), wrapped in BEGIN and
// COMMIT when it shares a segment with the statement after it. Prepared once
// per connection under names of their own, outside the LRU cache: an
// eviction's DEALLOCATE would split the segment.
constexpr const char* session_reset_sql[] = {"BEGIN",    "SELECT pg_advisory_unlock_all()", "CLOSE ALL",
                                             "UNLISTEN *", "RESET ALL", "COMMIT"};
constexpr const char* session_reset_names[] = {"__corio_reset_0", "__corio_reset_1", "__corio_reset_2",
                                               "__corio_reset_3", "__corio_reset_4", "__corio_reset_5"};
}  // namespace

int conn_state::send_session_reset(bool rollback_first, bool wrapped) {
    int results = 0;
    if (rollback_first) {
        if (PQsendQueryParams(conn, "ROLLBACK", 0, nullptr, nullptr, nullptr, nullptr, 1) != 1) return -1;
        ++results;
    }
    if (!reset_prepared) {
        for (std::size_t i = 0; i < std::size(session_reset_sql); ++i)
            if (PQsendPrepare(conn, session_reset_names[i], session_reset_sql[i], 0, nullptr) != 1) return -1;
        results += static_cast<int>(std::size(session_reset_sql));
        reset_prepared = true;
    }
    // Wrapped: BEGIN and COMMIT end the reset's transaction before the next
    // statement starts, so that statement runs (fails, or opens a
    // transaction) as in a segment of its own and can never roll the reset
    // back. Alone, the segment's own implicit transaction does the same.
    const std::size_t first = wrapped ? 0 : 1;
    const std::size_t last = wrapped ? std::size(session_reset_sql) : std::size(session_reset_sql) - 1;
    for (std::size_t i = first; i < last; ++i) {
        if (PQsendQueryPrepared(conn, session_reset_names[i], 0, nullptr, nullptr, nullptr, 1) != 1) return -1;
        ++results;
    }
    return results;
}

// Open, and every parameter encoded (an encoding error is kept in the
// params until the send, so the message names the operation).
void conn_state::check_sendable(const std::string& operation, const encoded_params& params) const {
    check_open(operation);
    if (!params.error) return;
    try {
        std::rethrow_exception(params.error);
    } catch (const std::exception& e) {
        throw interface_error(operation + ": a parameter cannot be sent: " + e.what());
    }
}

std::shared_ptr<request> conn_state::submit(std::string operation, const std::string& sql,
                                            const encoded_params& params, bool cache_it) {
    check_sendable(operation, params);
    std::string new_key;
    std::string hit_key;
    const bool reset_first = std::exchange(reset_owed, false);
    int reset_results = 0;
    if (!send_statement(sql, params, cache_it, new_key, hit_key, reset_first, reset_results)) {
        break_connection(trim(PQerrorMessage(conn)));
        throw_connection_error(operation, broken_reason);
    }
    auto req = enqueue(std::move(operation));
    req->cache_key = std::move(new_key);
    req->hit_key = std::move(hit_key);
    req->reset_results = reset_results;
    return req;
}

std::shared_ptr<request> conn_state::submit_session_reset(std::string operation, bool rollback_first) {
    check_open(operation);
    reset_owed = false;
    if (!send_deallocations() || send_session_reset(rollback_first, false) < 0) {
        break_connection(trim(PQerrorMessage(conn)));
        throw_connection_error(operation, broken_reason);
    }
    auto req = enqueue(std::move(operation));
    req->break_on_error = true;
    return req;
}

void conn_state::pay_owed_reset(const std::string& operation) {
    if (!reset_owed) return;
    auto req = submit_session_reset(operation + ": the pool's session reset", false);
    req->abandoned = true;
    if (driver == req.get()) driver = nullptr;
}

namespace {
// A prepared_statement's parameter types were fixed by the server: an
// argument of another integer or float width is re-encoded (range-checked);
// text fills anything; NULL fits all.
void adapt(param& p, oid target, std::size_t index, const std::string& operation) {
    if (p.null || p.format == 0 || target == 0 || p.type == target) return;
    auto is_int = [](oid t) { return t == oids::int2 || t == oids::int4 || t == oids::int8; };
    auto fail = [&](const std::string& why) {
        throw interface_error(operation + ": parameter $" + std::to_string(index + 1) + ": " + why);
    };
    if (is_int(p.type) && is_int(target)) {
        const int from = static_cast<int>(p.bytes.size());
        auto v = static_cast<std::int64_t>(detail::get_be(p.bytes.data(), from));
        if (from == 2) v = static_cast<std::int16_t>(v);
        else if (from == 4) v = static_cast<std::int32_t>(v);
        const int to = target == oids::int2 ? 2 : target == oids::int4 ? 4 : 8;
        const std::int64_t lo = to == 2 ? INT16_MIN : to == 4 ? INT32_MIN : INT64_MIN;
        const std::int64_t hi = to == 2 ? INT16_MAX : to == 4 ? INT32_MAX : INT64_MAX;
        if (v < lo || v > hi) fail("the value " + std::to_string(v) + " does not fit in " + type_name(target));
        p.bytes.clear();
        detail::put_be(p.bytes, static_cast<std::uint64_t>(v), to);
        p.type = target;
        return;
    }
    if (p.type == oids::float4 && target == oids::float8) {
        const auto bits = static_cast<std::uint32_t>(detail::get_be(p.bytes.data(), 4));
        float f;
        std::memcpy(&f, &bits, 4);
        const double d = f;
        std::uint64_t out;
        std::memcpy(&out, &d, 8);
        p.bytes.clear();
        detail::put_be(p.bytes, out, 8);
        p.type = target;
        return;
    }
    if ((p.type == oids::text && (target == oids::varchar || target == oids::bpchar || target == oids::name)) ||
        (p.type == oids::text_array && target == oids::varchar_array))
        return;  // the same binary form
    fail("a " + type_name(p.type) + " value for a " + type_name(target) + " parameter");
}
}  // namespace

bool conn_state::send_deallocations() {
    // Each DEALLOCATE is a Sync segment of its own whose result nobody waits
    // for: in an aborted transaction it fails alone (the statement then stays
    // on the server under a name never used again) instead of taking the
    // caller's ROLLBACK down with it.
    bool ok = true;
    for (const std::string& name : to_deallocate) {
        const std::string sql = "DEALLOCATE " + name;
        ok = ok && PQsendQueryParams(conn, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 1) == 1 &&
             PQpipelineSync(conn) == 1;
        if (!ok) break;
        auto req = std::make_shared<request>();
        req->operation = "pg::connection: " + sql;
        req->abandoned = true;
        pending.push_back(std::move(req));
    }
    to_deallocate.clear();
    return ok;
}

std::shared_ptr<request> conn_state::submit_prepared(std::string operation, const std::string& name,
                                                     const encoded_params& params, const std::vector<oid>& types) {
    check_sendable(operation, params);
    if (params.values.size() != types.size())
        throw interface_error(operation + ": " + std::to_string(params.values.size()) + " arguments for " +
                              std::to_string(types.size()) + " parameters");
    encoded_params adapted = params;
    for (std::size_t i = 0; i < types.size(); ++i) adapt(adapted.values[i], types[i], i, operation);
    const param_arrays a(adapted);
    pay_owed_reset(operation);
    bool ok = send_deallocations();
    ok = ok && PQsendQueryPrepared(conn, name.c_str(), a.count(), a.values.data(), a.lengths.data(),
                                   a.formats.data(), 1) == 1;
    if (!ok) {
        break_connection(trim(PQerrorMessage(conn)));
        throw_connection_error(operation, broken_reason);
    }
    return enqueue(std::move(operation));
}

task<void> conn_state::flush(std::string operation) {
    const int r = PQflush(conn);
    if (r == 0) co_return;
    if (r < 0) {
        break_connection(trim(PQerrorMessage(conn)));
        co_return;  // the request fails with connection_error when awaited
    }
    co_await corio::shield(flush_wait(std::move(operation)));
}

task<void> conn_state::flush_wait(std::string operation) {
    auto guard = co_await flush_lock.scoped();
    while (conn != nullptr && !broken) {
        const int r = PQflush(conn);
        if (r == 0) co_return;
        if (r < 0) {
            break_connection(trim(PQerrorMessage(conn)));
            co_return;
        }
        try {
            co_await corio::detail::wait_ready(fd, POLLOUT, operation.c_str());
        } catch (const std::system_error& e) {
            break_connection(e.what());
        }
    }
}

void conn_state::handle(request& req, PGresult* r) {
    if (req.reset_results > 0 && PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
        // One of the owed session reset's results, ahead of the statement's
        // own in its segment. A failure breaks the connection (process());
        // the statement, skipped by the server, fails with connection_error.
        --req.reset_results;
        const ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !req.break_on_error) {
            const char* msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
            req.break_on_error = true;
            req.server_error = true;
            req.error = std::make_exception_ptr(connection_error(
                req.operation + " " + peer + ": the pool's session reset failed: " +
                (msg != nullptr ? std::string(msg) : trim(PQresultErrorMessage(r)))));
        }
        PQclear(r);
        return;
    }
    req.got_any = true;
    switch (PQresultStatus(r)) {
        case PGRES_PIPELINE_SYNC:
            PQclear(r);
            req.done = true;
            return;
        case PGRES_TUPLES_OK:
        case PGRES_COMMAND_OK:
        case PGRES_EMPTY_QUERY:
        case PGRES_SINGLE_TUPLE: {
            // The statement's own result comes last in its segment (after
            // DEALLOCATE's and Parse's), so the last one wins.
            req.tag = PQcmdStatus(r);
            if (req.tag == "DEALLOCATE ALL" || req.tag == "DISCARD ALL") {
                // The session's prepared statements are gone, ours too: the
                // cache and the reset's statements are prepared again.
                lru.clear();
                cache.clear();
                to_deallocate.clear();
                reset_prepared = false;
            }
            req.rows = std::make_shared<const result>(r);
            return;
        }
        case PGRES_PIPELINE_ABORTED:
            PQclear(r);
            if (!req.error)
                req.error = std::make_exception_ptr(interface_error(req.operation + ": skipped after an earlier error"));
            return;
        case PGRES_FATAL_ERROR:
        case PGRES_NONFATAL_ERROR:
        case PGRES_BAD_RESPONSE:
        default: {
            if (!req.cache_key.empty()) {
                // The Parse may be what failed: never run the name again.
                if (auto it = cache.find(req.cache_key); it != cache.end()) {
                    lru.erase(it->second);
                    cache.erase(it);
                }
                req.cache_key.clear();
            }
            // FATAL (pg_terminate_backend, a server shutdown): the session is
            // gone; the server closes the socket after this message.
            const char* severity = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
            const bool local = PQresultErrorField(r, PG_DIAG_SQLSTATE) == nullptr;  // libpq's own
            if ((severity != nullptr && (std::strcmp(severity, "FATAL") == 0 || std::strcmp(severity, "PANIC") == 0)) ||
                (local && PQstatus(conn) == CONNECTION_BAD)) {
                const char* msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
                fatal_message = msg != nullptr ? msg : trim(PQresultErrorMessage(r));
                if (fatal_message.empty()) fatal_message = "the server ended the session";
                req.error = std::make_exception_ptr(connection_error(req.operation + " " + peer + ": " + fatal_message));
                req.server_error = true;
            }
            // A cached statement whose result type changed (ALTER TABLE since
            // it was prepared): dropped from the cache; query() prepares it
            // again once, outside a transaction (asyncpg does the same).
            const char* code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            if (!req.hit_key.empty() && code != nullptr && std::strcmp(code, "0A000") == 0 && !req.server_error) {
                if (auto it = cache.find(req.hit_key); it != cache.end()) {
                    to_deallocate.push_back(it->second->name);
                    lru.erase(it->second);
                    cache.erase(it);
                }
                req.stale_statement = true;
            }
            // A server error beats the "skipped" marker of an aborted pipeline.
            if (!req.server_error) {
                req.error = make_server_error(req.operation, r);
                req.server_error = true;
            }
            PQclear(r);
            return;
        }
    }
}

void conn_state::collect_notifications() {
    while (PGnotify* n = PQnotifies(conn)) {
        for (auto& sink : listeners) {
            if (sink->channel == n->relname) {
                sink->queue.push_back(notification{n->relname, n->extra != nullptr ? n->extra : "", n->be_pid});
                sink->ready.set();
            }
        }
        PQfreemem(n);
    }
}

task<void> conn_state::drive_idle(notification_sink& sink) {
    // The caller holds the driver role (driver == &sink.idle_driver).
    while (sink.queue.empty() && conn != nullptr && !broken) {
        process();
        collect_notifications();
        if (!sink.queue.empty()) break;
        try {
            co_await corio::detail::wait_ready(fd, POLLIN, "pg::connection::listen: receiving");
        } catch (const std::system_error& e) {
            break_connection(e.what());
            break;
        }
        if (PQconsumeInput(conn) != 1) {
            const std::string why = trim(PQerrorMessage(conn));
            process();
            break_connection(why.empty() ? "the server closed the connection" : why);
            break;
        }
        collect_notifications();
    }
}

void conn_state::process() {
    int nulls = 0;
    while (!pending.empty() && conn != nullptr && !broken) {
        if (PQisBusy(conn)) return;
        PGresult* r = PQgetResult(conn);
        if (r == nullptr) {
            // The end of one statement's results; two in a row: nothing more buffered.
            if (++nulls > 1) return;
            continue;
        }
        nulls = 0;
        std::shared_ptr<request> front = pending.front();
        handle(*front, r);
        if (!fatal_message.empty()) {
            break_connection(fatal_message);
            return;
        }
        if (front->done) {
            pending.pop_front();
            if (front->break_on_error && front->error) {
                std::string why = "the session reset failed";
                try {
                    std::rethrow_exception(front->error);
                } catch (const std::exception& e) {
                    why += std::string(": ") + e.what();
                }
                if (front.get() != driver) front->ready.set();
                break_connection(why);
                return;
            }
            if (front->error && PQstatus(conn) == CONNECTION_BAD) {
                // A FATAL from the server (pg_terminate_backend): the session is gone.
                break_connection(trim(PQerrorMessage(conn)));
                return;
            }
            if (front.get() != driver) front->ready.set();
        }
    }
    if (conn != nullptr && !broken && PQstatus(conn) == CONNECTION_BAD) break_connection(trim(PQerrorMessage(conn)));
}

void conn_state::hand_over(request* req) noexcept {
    if (driver != req) return;
    driver = nullptr;
    for (auto& r : pending) {
        if (!r->abandoned && !r->done) {
            driver = r.get();
            r->ready.set();
            return;
        }
    }
    // Nobody reads the socket now: a listener waiting in next() takes over.
    for (auto& sink : listeners) sink->ready.set();
}

task<void> conn_state::drive(request& mine) {
    while (!mine.done) {
        process();
        if (mine.done || broken || conn == nullptr) break;
        int events = 0;
        try {
            events = co_await corio::detail::wait_ready(fd, POLLIN, "pg::connection: receiving");
        } catch (const std::system_error& e) {
            break_connection(e.what());
            break;
        }
        (void)events;
        if (PQconsumeInput(conn) != 1) {
            const std::string why = trim(PQerrorMessage(conn));
            process();  // what came before the end is still delivered
            break_connection(why.empty() ? "the server closed the connection" : why);
            break;
        }
        collect_notifications();
    }
}

task<void> conn_state::cancel_and_drain(std::shared_ptr<request> req) {
    auto self = shared_from_this();
    if (conn == nullptr || broken) co_return;
    if (!req->got_any && !pending.empty() && pending.front() == req) {
        // The server may be running it: ask it to stop. libpq 15 has no
        // non-blocking cancel (PQcancelStart is libpq 17), and PQcancel
        // opens its own connection and blocks, so it runs on the thread pool.
        PGcancel* handle = PQgetCancel(conn);
        if (handle != nullptr) {
            auto send = [handle] {
                char err[256];
                PQcancel(handle, err, sizeof err);
                PQfreeCancel(handle);
            };
            co_await corio::to_thread(send);
        }
    }
    bool drained = false;
    try {
        auto body = [self, req]() -> task<void> { co_await self->drive(*req); };
        co_await corio::wait_for(body(), drain_bound);
        drained = req->done;
    } catch (const corio::timeout_error&) {
        drained = false;
    }
    if (!drained && !broken)
        break_connection("a cancelled query did not give back its results within 5 s: the connection was closed");
}

task<void> conn_state::await_request(std::shared_ptr<request> req) {
    std::exception_ptr cancelled;
    try {
        while (!req->done) {
            if (driver == req.get()) {
                co_await drive(*req);
                if (broken && !req->done) break;
            } else {
                co_await req->ready.wait();
                req->ready.clear();
            }
        }
    } catch (const corio::cancelled_error&) {
        cancelled = std::current_exception();
    }
    if (cancelled) {
        if (!req->done) {
            if (driver == req.get()) co_await corio::shield(cancel_and_drain(req));
            else req->abandoned = true;
        }
        hand_over(req.get());
        std::rethrow_exception(cancelled);
    }
    hand_over(req.get());
    if (broken && !req->done) {
        req->done = true;
        req->error = std::make_exception_ptr(connection_error(req->operation + " " + peer + ": " + broken_reason));
    }
}

query_result conn_state::take(request& req) {
    if (req.error) std::rethrow_exception(req.error);
    return query_result{std::move(req.rows), std::move(req.tag)};
}

task<query_result> conn_state::finish_query(std::shared_ptr<request> req) {
    auto self = shared_from_this();
    co_await flush(req->operation);
    co_await await_request(req);
    co_return take(*req);
}

task<query_result> conn_state::with_command_timeout(std::shared_ptr<request> req) {
    auto self = shared_from_this();
    const auto limit = *options.command_timeout;
    bool expired = false;
    std::optional<query_result> out;
    try {
        auto body = [self, req]() -> task<query_result> { co_return co_await self->finish_query(req); };
        out = co_await corio::wait_for(body(), limit);
    } catch (const corio::timeout_error&) {
        expired = true;
    }
    if (expired)
        throw corio::timeout_error(req->operation + ": command_timeout (" + std::to_string(limit.count()) +
                                   " ms) expired; the query was cancelled");
    co_return std::move(*out);
}

task<query_result> conn_state::query(std::string operation, std::string sql, encoded_params params, bool cache_it) {
    auto self = shared_from_this();
    co_await wait_turn();
    for (int attempt = 0;; ++attempt) {
        auto req = submit(operation, sql, params, cache_it);
        try {
            if (options.command_timeout) co_return co_await with_command_timeout(req);
            co_return co_await finish_query(req);
        } catch (const postgres_error&) {
            const bool retry = req->stale_statement && attempt == 0 && conn != nullptr && !broken &&
                               transaction_depth == 0 && PQtransactionStatus(conn) == PQTRANS_IDLE;
            if (!retry) throw;
        }
    }
}

task<std::vector<query_result>> conn_state::query_many(std::string operation, std::string sql,
                                                       std::vector<encoded_params> rows) {
    auto self = shared_from_this();
    co_await wait_turn();
    std::vector<std::shared_ptr<request>> reqs;
    reqs.reserve(rows.size());
    for (const auto& p : rows) reqs.push_back(submit(operation, sql, p, true));
    std::vector<query_result> out;
    out.reserve(reqs.size());
    if (reqs.empty()) co_return out;
    co_await flush(operation);
    std::exception_ptr first;
    for (auto& r : reqs) {
        co_await await_request(r);
        if (r->error && !first) first = r->error;
        if (!r->error) out.push_back(take(*r));
    }
    if (first) std::rethrow_exception(first);
    co_return out;
}

task<void> conn_state::wait_turn() {
    // A COPY has the connection out of pipeline mode: queries wait for its end.
    while (copying) {
        co_await copy_idle.wait();
        copy_idle.clear();
    }
}

task<void> conn_state::barrier(std::string operation, bool during_copy) {
    auto self = shared_from_this();
    if (!during_copy) co_await wait_turn();
    check_open(operation);
    pay_owed_reset(operation);
    auto req = enqueue(operation);
    co_await flush(operation);
    co_await await_request(req);
    if (req->error) std::rethrow_exception(req->error);
}

task<std::shared_ptr<const result>> conn_state::prepare_named(std::string operation, std::string name,
                                                              std::string sql) {
    auto self = shared_from_this();
    co_await wait_turn();
    check_open(operation);
    pay_owed_reset(operation);
    bool ok = PQsendPrepare(conn, name.c_str(), sql.c_str(), 0, nullptr) == 1;
    ok = ok && PQsendDescribePrepared(conn, name.c_str()) == 1;
    if (!ok) {
        break_connection(trim(PQerrorMessage(conn)));
        throw_connection_error(operation, broken_reason);
    }
    auto req = enqueue(operation);
    co_await flush(operation);
    co_await await_request(req);
    co_return take(*req).rows;
}

task<query_result> conn_state::query_prepared(std::string operation, std::string name, encoded_params params,
                                              std::vector<oid> types) {
    auto self = shared_from_this();
    co_await wait_turn();
    auto req = submit_prepared(std::move(operation), name, params, types);
    if (options.command_timeout) co_return co_await with_command_timeout(req);
    co_return co_await finish_query(std::move(req));
}

task<void> conn_state::close() {
    auto self = shared_from_this();
    if (conn == nullptr || closing) co_return;
    if (!broken && !pending.empty()) {
        // Let what was sent come back (or be discarded), bounded.
        try {
            co_await corio::wait_for(barrier("pg::connection::close", false), drain_bound);
        } catch (const std::exception&) {
        }
    }
    closing = true;
    {
        auto guard = co_await flush_lock.scoped();
        finish();
    }
}

}  // namespace corio::pg::detail
