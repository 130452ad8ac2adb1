// src/pg/statements.cpp: prepare (prepared_statement), cursor, listen and
// notify: the calls built on conn_state's pipeline beyond a plain query.
#include <string>
#include <utility>
#include <vector>

#include <corio/context/finally.hpp>
#include <corio/errors.hpp>
#include <corio/pg/connection.hpp>
#include <corio/pg/prepared_statement.hpp>

#include "conn_state.hpp"

namespace corio::pg {

namespace {
std::shared_ptr<detail::conn_state> need(const std::shared_ptr<detail::conn_state>& s, const char* op) {
    if (!s) throw interface_error(std::string(op) + ": the connection was moved from");
    return s;
}

std::vector<record> records_of(const std::shared_ptr<const detail::result>& rows) {
    std::vector<record> out;
    if (!rows) return out;
    const std::size_t n = detail::result_rows(*rows);
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.emplace_back(rows, i);
    return out;
}

// A channel name as an SQL identifier: double-quoted, quotes doubled.
std::string quote_ident(const std::string& name) {
    std::string out = "\"";
    for (char ch : name) {
        if (ch == '"') out.push_back('"');
        out.push_back(ch);
    }
    out.push_back('"');
    return out;
}
}  // namespace

// ---- prepare

task<prepared_statement> connection::prepare(std::string sql) {
    auto s = need(state_, "pg::connection::prepare");
    std::string name = "__corio_stmt_" + std::to_string(++s->next_name);
    auto described = co_await s->prepare_named(detail::describe("pg::connection::prepare", sql), name, sql);
    std::vector<oid> types;
    std::vector<std::string> columns;
    if (described) {
        const int n = PQnparams(described->res);
        for (int i = 0; i < n; ++i) types.push_back(PQparamtype(described->res, i));
        columns = described->names;
    }
    co_return prepared_statement(s, std::move(name), std::move(sql), std::move(types), std::move(columns));
}

prepared_statement::prepared_statement(std::shared_ptr<detail::conn_state> state, std::string name, std::string sql,
                                       std::vector<oid> parameter_types, std::vector<std::string> column_names) noexcept
    : state_(std::move(state)),
      name_(std::move(name)),
      sql_(std::move(sql)),
      parameter_types_(std::move(parameter_types)),
      column_names_(std::move(column_names)) {}

prepared_statement& prepared_statement::operator=(prepared_statement&& other) noexcept {
    if (this != &other) {
        if (state_ && state_->usable()) state_->to_deallocate.push_back(name_);
        state_ = std::move(other.state_);
        name_ = std::move(other.name_);
        sql_ = std::move(other.sql_);
        parameter_types_ = std::move(other.parameter_types_);
        column_names_ = std::move(other.column_names_);
    }
    return *this;
}

prepared_statement::~prepared_statement() {
    // No await here: the DEALLOCATE goes out with the connection's next query.
    if (state_ && state_->usable()) state_->to_deallocate.push_back(name_);
}

void prepared_statement::throw_no_row() const {
    throw interface_error(detail::describe("pg::prepared_statement::fetchval", sql_) + ": the query gave no row");
}

task<std::string> prepared_statement::execute_encoded(detail::encoded_params params) {
    auto s = need(state_, "pg::prepared_statement::execute");
    auto r = co_await s->query_prepared(detail::describe("pg::prepared_statement::execute", sql_), name_,
                                        std::move(params), parameter_types_);
    co_return std::move(r.tag);
}

task<std::vector<record>> prepared_statement::fetch_encoded(detail::encoded_params params) {
    auto s = need(state_, "pg::prepared_statement::fetch");
    auto r = co_await s->query_prepared(detail::describe("pg::prepared_statement::fetch", sql_), name_,
                                        std::move(params), parameter_types_);
    co_return records_of(r.rows);
}

task<std::optional<record>> prepared_statement::fetchrow_encoded(detail::encoded_params params) {
    auto s = need(state_, "pg::prepared_statement::fetchrow");
    auto r = co_await s->query_prepared(detail::describe("pg::prepared_statement::fetchrow", sql_), name_,
                                        std::move(params), parameter_types_);
    if (!r.rows || detail::result_rows(*r.rows) == 0) co_return std::nullopt;
    co_return record(r.rows, 0);
}

// ---- cursor

async_generator<record> connection::cursor_encoded(std::string sql, detail::encoded_params params) {
    auto s = need(state_, "pg::connection::cursor");
    const std::string op = detail::describe("pg::connection::cursor", sql);
    if (!in_transaction()) throw interface_error(op + ": a cursor needs a transaction (open one with transaction())");
    const std::string name = "__corio_cursor_" + std::to_string(++s->next_name);
    co_await s->query(op, "DECLARE " + name + " NO SCROLL CURSOR FOR " + sql, std::move(params), false);
    const std::string fetch_sql = "FETCH 50 FROM " + name;
    for (;;) {
        detail::query_result batch = co_await s->query(op, fetch_sql, detail::encoded_params(), true);
        const std::size_t n = batch.rows ? detail::result_rows(*batch.rows) : 0;
        for (std::size_t i = 0; i < n; ++i) co_yield record(batch.rows, i);
        if (n < 50) break;
    }
    // An abandoned cursor (the generator closed early) ends with its transaction.
    co_await s->query(op, "CLOSE " + name, detail::encoded_params(), false);
}

// ---- listen / notify

async_generator<notification> connection::listen(std::string channel) {
    auto s = need(state_, "pg::connection::listen");
    const std::string op = "pg::connection::listen '" + channel + "'";
    auto sink = std::make_shared<detail::notification_sink>();
    sink->channel = channel;
    s->listeners.push_back(sink);
    // Unregistered and UNLISTENed however the generator ends.
    auto unlisten = [s, sink, op, channel]() -> task<void> {
        std::erase(s->listeners, sink);
        if (s->driver == &sink->idle_driver) s->hand_over(&sink->idle_driver);
        if (!s->usable()) co_return;
        try {
            co_await s->query(op, "UNLISTEN " + quote_ident(channel), detail::encoded_params(), false);
        } catch (const std::exception&) {
            // The connection broke: nothing is listening any more anyway.
        }
    };
    co_await corio::finally(unlisten);
    co_await s->query(op, "LISTEN " + quote_ident(channel), detail::encoded_params(), false);
    for (;;) {
        while (sink->queue.empty()) {
            s->check_open(op);
            if (s->driver == nullptr) {
                // The socket is idle: read it here until something comes.
                s->driver = &sink->idle_driver;
                std::exception_ptr cancelled;
                try {
                    co_await s->drive_idle(*sink);
                } catch (const corio::cancelled_error&) {
                    cancelled = std::current_exception();
                }
                s->hand_over(&sink->idle_driver);
                if (cancelled) std::rethrow_exception(cancelled);
            } else {
                co_await sink->ready.wait();
                sink->ready.clear();
            }
        }
        notification n = std::move(sink->queue.front());
        sink->queue.pop_front();
        co_yield n;
    }
}

task<void> connection::notify(std::string channel, std::string payload) {
    auto s = need(state_, "pg::connection::notify");
    const std::string op = "pg::connection::notify '" + channel + "'";
    auto params = detail::encode_params(channel, payload);
    co_await s->query(op, "SELECT pg_notify($1, $2)", std::move(params), true);
}

}  // namespace corio::pg
