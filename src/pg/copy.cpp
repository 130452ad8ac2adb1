// src/pg/copy.cpp: copy_records_to_table (COPY FROM STDIN, binary) and
// copy_from_query (COPY TO STDOUT). libpq refuses COPY in pipeline mode, so
// a COPY waits for everything in flight (a barrier), leaves pipeline mode,
// runs alone (queries from other tasks wait in wait_turn), and re-enters
// pipeline mode. Cancelled half-way, it ends the COPY (PQputCopyEnd with an
// error, or reading the rest), shielded and bounded; if that fails the
// connection is closed.
#include <poll.h>

#include <chrono>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <corio/context/finally.hpp>
#include <corio/detail/socket.hpp>
#include <corio/errors.hpp>
#include <corio/pg/connection.hpp>
#include <corio/tasks/shield.hpp>
#include <corio/time/timeout.hpp>

#include "conn_state.hpp"
#include "errors_impl.hpp"

namespace corio::pg {

namespace {

constexpr auto copy_cleanup_bound = std::chrono::seconds(5);

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// Takes the connection out of pipeline mode, after everything in flight.
task<void> begin_copy(std::shared_ptr<detail::conn_state> s, const std::string& op) {
    co_await s->wait_turn();
    s->check_open(op);
    if (!s->listeners.empty())
        throw interface_error(op + ": not while a listen() generator is open on this connection");
    s->copying = true;
    s->copy_idle.clear();
    std::exception_ptr failed;
    try {
        co_await s->barrier(op, true);
    } catch (...) {
        failed = std::current_exception();
    }
    if (!failed && PQexitPipelineMode(s->conn) != 1) {
        s->break_connection(trim(PQerrorMessage(s->conn)));
        failed = std::make_exception_ptr(connection_error(op + " " + s->peer + ": " + s->broken_reason));
    }
    if (failed) {
        s->copying = false;
        s->copy_idle.set();
        std::rethrow_exception(failed);
    }
}

void end_copy(detail::conn_state& s) noexcept {
    if (s.conn != nullptr && !s.broken && PQenterPipelineMode(s.conn) != 1)
        s.break_connection("could not re-enter pipeline mode after COPY");
    s.copying = false;
    s.copy_idle.set();
}

// Outside pipeline mode: waits for the next result (nullptr: the end).
task<PGresult*> next_result(detail::conn_state& s, const std::string& op) {
    while (PQisBusy(s.conn)) {
        co_await corio::detail::wait_ready(s.fd, POLLIN, "pg::connection: COPY receiving");
        if (PQconsumeInput(s.conn) != 1) {
            s.break_connection(trim(PQerrorMessage(s.conn)));
            throw connection_error(op + " " + s.peer + ": " + s.broken_reason);
        }
    }
    co_return PQgetResult(s.conn);
}

task<void> flush_all(detail::conn_state& s, const std::string& op) {
    for (;;) {
        const int r = PQflush(s.conn);
        if (r == 0) co_return;
        if (r < 0) {
            s.break_connection(trim(PQerrorMessage(s.conn)));
            throw connection_error(op + " " + s.peer + ": " + s.broken_reason);
        }
        co_await corio::detail::wait_ready(s.fd, POLLOUT, "pg::connection: COPY sending");
    }
}

// Reads results to the end; the first error (or tag) kept.
task<std::string> finish_results(detail::conn_state& s, const std::string& op) {
    std::string tag;
    std::exception_ptr error;
    while (PGresult* r = co_await next_result(s, op)) {
        const auto st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) tag = PQcmdStatus(r);
        else if (st == PGRES_COPY_OUT) {
            // Left over: read and drop it.
            char* buf = nullptr;
            int n;
            PQclear(r);
            while ((n = PQgetCopyData(s.conn, &buf, 1)) != -1) {
                if (n == -2) break;
                if (n > 0) PQfreemem(buf);
                else {
                    co_await corio::detail::wait_ready(s.fd, POLLIN, "pg::connection: COPY receiving");
                    if (PQconsumeInput(s.conn) != 1) break;
                }
            }
            continue;
        } else if (st == PGRES_COPY_IN) {
            PQclear(r);
            PQputCopyEnd(s.conn, "abandoned");
            co_await flush_all(s, op);
            continue;
        } else if (!error) {
            error = detail::make_server_error(op, r);
        }
        PQclear(r);
        if (PQstatus(s.conn) == CONNECTION_BAD) break;
    }
    if (PQstatus(s.conn) == CONNECTION_BAD) {
        s.break_connection(trim(PQerrorMessage(s.conn)));
        throw connection_error(op + " " + s.peer + ": " + s.broken_reason);
    }
    if (error) std::rethrow_exception(error);
    co_return tag;
}

// After a cancellation or failure mid-COPY: end it, bounded, or close.
task<void> abort_copy(std::shared_ptr<detail::conn_state> s, std::string op) {
    if (s->conn == nullptr || s->broken) co_return;
    bool ok = false;
    try {
        auto end = [s, op]() -> task<void> {
            // In COPY IN: tell the server to fail it. In COPY OUT: read the rest.
            PQputCopyEnd(s->conn, "cancelled by the client");
            co_await flush_all(*s, op);
            try {
                (void)co_await finish_results(*s, op);
            } catch (const postgres_error&) {
                // "COPY from stdin failed: cancelled by the client": expected.
            }
        };
        co_await corio::wait_for(end(), copy_cleanup_bound);
        ok = true;
    } catch (const std::exception&) {
        ok = false;
    }
    if (!ok) s->break_connection("a COPY could not be ended within 5 s: the connection was closed");
}

std::string quote_ident(const std::string& name) {
    std::string out = "\"";
    for (char ch : name) {
        if (ch == '"') out.push_back('"');
        out.push_back(ch);
    }
    out.push_back('"');
    return out;
}

bool textual(oid t) { return detail::is_textual(t) || t == oids::jsonb; }

// A parameter as the binary COPY field of a column of type `target`.
void to_copy_field(std::string& out, const param& p, oid target, const std::string& column, const std::string& op) {
    if (p.null) {
        detail::put_be(out, 0xffffffffu, 4);
        return;
    }
    auto fail = [&]() {
        throw interface_error(op + ": column '" + column + "' is " + type_name(target) + ", the value is " +
                              (p.format == 0 ? std::string("text") : type_name(p.type)));
    };
    auto is_int = [](oid t) { return t == oids::int2 || t == oids::int4 || t == oids::int8; };
    if (p.format == 0) {
        if (!textual(target)) fail();
        const bool jsonb = target == oids::jsonb;
        detail::put_be(out, p.bytes.size() + (jsonb ? 1 : 0), 4);
        if (jsonb) out.push_back('\1');
        out += p.bytes;
        return;
    }
    if (p.type == target || (p.type == oids::text && textual(target) && target != oids::jsonb)) {
        detail::put_be(out, p.bytes.size(), 4);
        out += p.bytes;
        return;
    }
    if (is_int(p.type) && is_int(target)) {
        const int from = static_cast<int>(p.bytes.size());
        auto v = static_cast<std::int64_t>(detail::get_be(p.bytes.data(), from));
        if (from == 2) v = static_cast<std::int16_t>(v);
        else if (from == 4) v = static_cast<std::int32_t>(v);
        const int to = target == oids::int2 ? 2 : target == oids::int4 ? 4 : 8;
        const std::int64_t lo = to == 2 ? INT16_MIN : to == 4 ? INT32_MIN : INT64_MIN;
        const std::int64_t hi = to == 2 ? INT16_MAX : to == 4 ? INT32_MAX : INT64_MAX;
        if (v < lo || v > hi)
            throw interface_error(op + ": column '" + column + "': the value " + std::to_string(v) +
                                  " does not fit in " + type_name(target));
        detail::put_be(out, static_cast<std::uint64_t>(to), 4);
        detail::put_be(out, static_cast<std::uint64_t>(v), to);
        return;
    }
    if (p.type == oids::float4 && target == oids::float8) {
        const auto bits = static_cast<std::uint32_t>(detail::get_be(p.bytes.data(), 4));
        float f;
        std::memcpy(&f, &bits, 4);
        const double d = f;
        std::uint64_t b;
        std::memcpy(&b, &d, 8);
        detail::put_be(out, 8, 4);
        detail::put_be(out, b, 8);
        return;
    }
    fail();
}

}  // namespace

task<std::string> connection::copy_records_encoded(std::string table, std::vector<detail::encoded_params> rows,
                                                   std::vector<std::string> columns) {
    if (!state_) throw interface_error("pg::connection::copy_records_to_table: the connection was moved from");
    auto s = state_;
    const std::string op = "pg::connection::copy_records_to_table '" + table + "'";
    for (const auto& r : rows) {
        if (r.error) {
            try {
                std::rethrow_exception(r.error);
            } catch (const std::exception& e) {
                throw interface_error(op + ": a value cannot be sent: " + e.what());
            }
        }
    }
    // The columns' types, in the order given (or the table's).
    std::vector<std::string> names;
    std::vector<oid> types;
    {
        auto cols = co_await fetch(
            "SELECT a.attname::text, a.atttypid::int8 FROM pg_attribute a WHERE a.attrelid = $1::regclass "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            table);
        for (const std::string& want : columns) {
            bool found = false;
            for (const record& c : cols) {
                if (c.get<std::string>(0) == want) {
                    names.push_back(want);
                    types.push_back(static_cast<oid>(c.get<std::int64_t>(1)));
                    found = true;
                    break;
                }
            }
            if (!found) throw interface_error(op + ": no column '" + want + "'");
        }
        if (columns.empty()) {
            for (const record& c : cols) {
                names.push_back(c.get<std::string>(0));
                types.push_back(static_cast<oid>(c.get<std::int64_t>(1)));
            }
        }
    }
    // The whole binary COPY stream, built before the connection is taken.
    std::string data("PGCOPY\n\377\r\n\0", 11);
    detail::put_be(data, 0, 4);  // flags
    detail::put_be(data, 0, 4);  // header extension
    for (const auto& r : rows) {
        if (r.values.size() != names.size())
            throw interface_error(op + ": a row of " + std::to_string(r.values.size()) + " values for " +
                                  std::to_string(names.size()) + " columns");
        detail::put_be(data, names.size(), 2);
        for (std::size_t i = 0; i < names.size(); ++i) to_copy_field(data, r.values[i], types[i], names[i], op);
    }
    detail::put_be(data, 0xffff, 2);  // trailer

    std::string sql = "COPY " + table + " (";
    for (std::size_t i = 0; i < names.size(); ++i) sql += (i ? ", " : "") + quote_ident(names[i]);
    sql += ") FROM STDIN (FORMAT binary)";

    co_await begin_copy(s, op);
    std::exception_ptr failed;
    bool cancelled = false;
    std::string tag;
    try {
        if (PQsendQuery(s->conn, sql.c_str()) != 1) {
            s->break_connection(trim(PQerrorMessage(s->conn)));
            throw connection_error(op + " " + s->peer + ": " + s->broken_reason);
        }
        co_await flush_all(*s, op);
        PGresult* r = co_await next_result(*s, op);
        const bool copy_in = r != nullptr && PQresultStatus(r) == PGRES_COPY_IN;
        std::exception_ptr start_error;
        if (!copy_in && r != nullptr) start_error = detail::make_server_error(op, r);
        if (r != nullptr) PQclear(r);
        if (!copy_in) {
            (void)co_await finish_results(*s, op);
            if (start_error) std::rethrow_exception(start_error);
            throw interface_error(op + ": the server did not start the COPY");
        }
        std::size_t sent = 0;
        while (sent < data.size()) {
            const std::size_t chunk = std::min<std::size_t>(data.size() - sent, 64 * 1024);
            const int put = PQputCopyData(s->conn, data.data() + sent, static_cast<int>(chunk));
            if (put < 0) {
                s->break_connection(trim(PQerrorMessage(s->conn)));
                throw connection_error(op + " " + s->peer + ": " + s->broken_reason);
            }
            if (put == 0) {
                co_await corio::detail::wait_ready(s->fd, POLLOUT, "pg::connection: COPY sending");
                continue;
            }
            sent += chunk;
            co_await flush_all(*s, op);
        }
        while (PQputCopyEnd(s->conn, nullptr) == 0)
            co_await corio::detail::wait_ready(s->fd, POLLOUT, "pg::connection: COPY sending");
        co_await flush_all(*s, op);
        tag = co_await finish_results(*s, op);
    } catch (const corio::cancelled_error&) {
        cancelled = true;
        failed = std::current_exception();
    } catch (...) {
        failed = std::current_exception();
    }
    if (cancelled || (failed && s->conn != nullptr && !s->broken && PQisBusy(s->conn)))
        co_await corio::shield(abort_copy(s, op));
    end_copy(*s);
    if (failed) std::rethrow_exception(failed);
    co_return tag;
}

async_generator<std::string> connection::copy_from_query(std::string sql) {
    if (!state_) throw interface_error("pg::connection::copy_from_query: the connection was moved from");
    auto s = state_;
    const std::string op = detail::describe("pg::connection::copy_from_query", sql);
    co_await begin_copy(s, op);
    // However the generator ends: the COPY is finished (the rest read and
    // dropped when the consumer stopped early) and pipeline mode restored.
    auto done = std::make_shared<bool>(false);
    auto cleanup = [s, op, done]() -> task<void> {
        if (!*done) co_await abort_copy(s, op);
        end_copy(*s);
    };
    co_await corio::finally(cleanup);
    const std::string copy = "COPY (" + sql + ") TO STDOUT";
    if (PQsendQuery(s->conn, copy.c_str()) != 1) {
        s->break_connection(trim(PQerrorMessage(s->conn)));
        throw connection_error(op + " " + s->peer + ": " + s->broken_reason);
    }
    co_await flush_all(*s, op);
    PGresult* r = co_await next_result(*s, op);
    const bool copy_out = r != nullptr && PQresultStatus(r) == PGRES_COPY_OUT;
    std::exception_ptr start_error;
    if (!copy_out && r != nullptr) start_error = detail::make_server_error(op, r);
    if (r != nullptr) PQclear(r);
    if (!copy_out) {
        (void)co_await finish_results(*s, op);
        *done = true;
        if (start_error) std::rethrow_exception(start_error);
        throw interface_error(op + ": the server did not start the COPY");
    }
    for (;;) {
        char* buf = nullptr;
        const int n = PQgetCopyData(s->conn, &buf, 1);
        if (n > 0) {
            std::string chunk(buf, static_cast<std::size_t>(n));
            PQfreemem(buf);
            co_yield chunk;
            continue;
        }
        if (n == 0) {
            co_await corio::detail::wait_ready(s->fd, POLLIN, "pg::connection: COPY receiving");
            if (PQconsumeInput(s->conn) != 1) {
                s->break_connection(trim(PQerrorMessage(s->conn)));
                *done = true;
                throw connection_error(op + " " + s->peer + ": " + s->broken_reason);
            }
            continue;
        }
        break;  // -1: the end (-2: an error, reported by the result)
    }
    *done = true;
    (void)co_await finish_results(*s, op);
}

}  // namespace corio::pg
