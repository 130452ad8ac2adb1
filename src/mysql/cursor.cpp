// src/mysql/cursor.cpp: execute (plain SQL by mysql_real_query_start, %s
// arguments through a cached prepared statement), executemany (batched
// multi-row INSERTs), fetching, and stream() (rows one at a time with
// mysql_stmt_fetch_start).
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

#include <corio/mysql/cursor.hpp>

#include "placeholders.hpp"
#include "result.hpp"
#include "state.hpp"

namespace corio::mysql {

using detail::connection_state;

namespace {

[[noreturn]] void count_mismatch(const char* operation, std::string_view sql, std::size_t placeholders,
                                 std::size_t arguments) {
    throw programming_error(std::string(operation) + " " + detail::quote_sql(sql) + ": " +
                                std::to_string(placeholders) + " placeholder" + (placeholders == 1 ? "" : "s") +
                                " (%s) but " + std::to_string(arguments) + " argument" +
                                (arguments == 1 ? "" : "s"),
                            0, "HY000");
}

// A prepared statement for `sql` (already %s -> ?), from the cache or prepared now.
task<MYSQL_STMT*> prepared(connection_state& s, const std::string& sql, const char* operation, std::string_view what) {
    if (auto it = s.statements.find(sql); it != s.statements.end()) {
        s.lru.splice(s.lru.end(), s.lru, it->second.lru);
        co_return it->second.stmt;
    }
    MYSQL_STMT* stmt = mysql_stmt_init(s.mysql);
    if (stmt == nullptr) throw std::bad_alloc();
    struct closer {
        MYSQL_STMT* stmt;
        ~closer() {
            if (stmt) mysql_stmt_close(stmt);
        }
    } guard{stmt};
    int ret = 0;
    int status = mysql_stmt_prepare_start(&ret, stmt, sql.data(), sql.size());
    auto cont = [&](int ready) { return mysql_stmt_prepare_cont(&ret, stmt, ready); };
    co_await detail::drive(s, status, operation, cont);
    if (ret != 0) s.fail_stmt(stmt, operation, what);
    if (s.statements.size() >= connection_state::statement_cache_size) {
        auto oldest = s.statements.find(s.lru.front());
        if (oldest->second.stmt == s.active_stmt) s.active_stmt = nullptr;
        mysql_stmt_close(oldest->second.stmt);  // COM_STMT_CLOSE has no reply
        s.statements.erase(oldest);
        s.lru.pop_front();
    }
    s.lru.push_back(sql);
    s.statements.emplace(sql, connection_state::cached_statement{stmt, std::prev(s.lru.end())});
    guard.stmt = nullptr;
    co_return stmt;
}

struct outcome {
    detail::result_shape shape;
    std::vector<row> rows;
    std::int64_t rowcount = 0;
    std::uint64_t lastrowid = 0;
};

// Plain SQL: one round trip; the rows come as text and are converted.
task<outcome> run_text(connection_state& s, const std::string& sql, const char* operation) {
    outcome out;
    int ret = 0;
    int status = mysql_real_query_start(&ret, s.mysql, sql.data(), sql.size());
    auto cont = [&](int ready) { return mysql_real_query_cont(&ret, s.mysql, ready); };
    co_await detail::drive(s, status, operation, cont);
    if (ret != 0) s.fail(operation, detail::quote_sql(sql));
    bool first = true;
    while (true) {
        if (mysql_field_count(s.mysql) > 0) {
            MYSQL_RES* res = nullptr;
            status = mysql_store_result_start(&res, s.mysql);
            auto store = [&](int ready) { return mysql_store_result_cont(&res, s.mysql, ready); };
            co_await detail::drive(s, status, operation, store);
            if (res == nullptr) s.fail(operation, detail::quote_sql(sql));
            struct freer {
                MYSQL_RES* r;
                ~freer() { mysql_free_result(r); }
            } guard{res};
            if (first) {
                const unsigned n = mysql_num_fields(res);
                out.shape = detail::describe(mysql_fetch_fields(res), n);
                const MYSQL_FIELD* fields = mysql_fetch_fields(res);
                out.rows.reserve(mysql_num_rows(res));
                while (MYSQL_ROW r = mysql_fetch_row(res)) {  // a stored result: no I/O
                    const unsigned long* lengths = mysql_fetch_lengths(res);
                    std::vector<value> values;
                    values.reserve(n);
                    for (unsigned i = 0; i < n; ++i)
                        values.push_back(detail::text_cell(out.shape.kinds[i], fields[i], r[i], lengths[i]));
                    out.rows.emplace_back(out.shape.columns, std::move(values));
                }
                out.rowcount = static_cast<std::int64_t>(mysql_num_rows(res));
            }
        } else if (first) {
            out.rowcount = static_cast<std::int64_t>(mysql_affected_rows(s.mysql));
            out.lastrowid = mysql_insert_id(s.mysql);
        }
        first = false;
        // A CALL or a multi-result statement: later results are read and dropped.
        if (!mysql_more_results(s.mysql)) break;
        int next = 0;
        status = mysql_next_result_start(&next, s.mysql);
        auto more = [&](int ready) { return mysql_next_result_cont(&next, s.mysql, ready); };
        co_await detail::drive(s, status, operation, more);
        if (next > 0) s.fail(operation, detail::quote_sql(sql));
        if (next < 0) break;
    }
    co_return out;
}

// A prepared statement executed with `args`; the result stored and converted.
task<outcome> run_prepared(connection_state& s, const std::string& sql, const std::vector<value>& args,
                           const char* operation, std::string_view original) {
    outcome out;
    const std::string what = detail::quote_sql(original);
    MYSQL_STMT* stmt = co_await prepared(s, sql, operation, what);
    if (mysql_stmt_param_count(stmt) != args.size())
        count_mismatch(operation, original, mysql_stmt_param_count(stmt), args.size());
    detail::param_binding params(args);
    if (mysql_stmt_bind_param(stmt, params.binds()) != 0) s.fail_stmt(stmt, operation, what);
    int ret = 0;
    s.active_stmt = stmt;
    int status = mysql_stmt_execute_start(&ret, stmt);
    auto cont = [&](int ready) { return mysql_stmt_execute_cont(&ret, stmt, ready); };
    co_await detail::drive(s, status, operation, cont);
    if (ret != 0) s.fail_stmt(stmt, operation, what);
    if (mysql_stmt_field_count(stmt) == 0) {
        out.rowcount = static_cast<std::int64_t>(mysql_stmt_affected_rows(stmt));
        out.lastrowid = mysql_stmt_insert_id(stmt);
        co_return out;
    }
    int stored = 0;
    status = mysql_stmt_store_result_start(&stored, stmt);
    auto store = [&](int ready) { return mysql_stmt_store_result_cont(&stored, stmt, ready); };
    co_await detail::drive(s, status, operation, store);
    if (stored != 0) s.fail_stmt(stmt, operation, what);
    struct freer {
        MYSQL_STMT* st;
        ~freer() { mysql_stmt_free_result(st); }  // a stored result: frees memory, no I/O
    } guard{stmt};
    MYSQL_RES* meta = mysql_stmt_result_metadata(stmt);
    if (meta == nullptr) s.fail_stmt(stmt, operation, what);
    out.shape = detail::describe(mysql_fetch_fields(meta), mysql_num_fields(meta));
    mysql_free_result(meta);
    detail::result_binding binding(out.shape);
    if (mysql_stmt_bind_result(stmt, binding.binds()) != 0) s.fail_stmt(stmt, operation, what);
    out.rows.reserve(mysql_stmt_num_rows(stmt));
    while (true) {
        const int r = mysql_stmt_fetch(stmt);
        if (r == MYSQL_NO_DATA) break;
        if (r == 1) s.fail_stmt(stmt, operation, what);
        out.rows.push_back(binding.take_row(stmt, out.shape));
    }
    out.rowcount = static_cast<std::int64_t>(out.rows.size());
    co_return out;
}

}  // namespace

cursor::cursor(std::shared_ptr<connection_state> conn) noexcept : conn_(std::move(conn)) {}
cursor::cursor(cursor&&) noexcept = default;
cursor& cursor::operator=(cursor&&) noexcept = default;
cursor::~cursor() = default;

const std::vector<column>& cursor::description() const noexcept {
    static const std::vector<column> none;
    return columns_ ? *columns_ : none;
}

void cursor::set_result(std::shared_ptr<const std::vector<column>> columns, std::vector<row> rows,
                        std::int64_t rowcount, std::uint64_t lastrowid) noexcept {
    columns_ = std::move(columns);
    rows_ = std::move(rows);
    next_ = 0;
    rowcount_ = rowcount;
    lastrowid_ = lastrowid;
}

task<std::uint64_t> cursor::execute_values(std::string sql, std::vector<value> args) {
    constexpr const char* operation = "mysql::cursor::execute";
    if (!conn_) throw std::logic_error("mysql::cursor::execute: the cursor has no connection");
    auto s = conn_;
    detail::rewritten_sql rewritten = detail::rewrite_placeholders(sql);
    if (rewritten.placeholders != args.size()) count_mismatch(operation, sql, rewritten.placeholders, args.size());
    set_result(nullptr, {}, -1, 0);
    auto guard = co_await s->busy.scoped();
    s->check_usable(operation, detail::quote_sql(sql));
    outcome out;
    if (args.empty())
        out = co_await run_text(*s, sql, operation);
    else
        out = co_await run_prepared(*s, rewritten.sql, args, operation, sql);
    s->reset_needed = true;
    set_result(std::move(out.shape.columns), std::move(out.rows), out.rowcount, out.lastrowid);
    co_return static_cast<std::uint64_t>(rowcount_ < 0 ? 0 : rowcount_);
}

task<std::uint64_t> cursor::executemany_values(std::string sql, std::vector<std::vector<value>> rows) {
    constexpr const char* operation = "mysql::cursor::executemany";
    if (!conn_) throw std::logic_error("mysql::cursor::executemany: the cursor has no connection");
    auto s = conn_;
    detail::rewritten_sql rewritten = detail::rewrite_placeholders(sql);
    for (const auto& r : rows)
        if (r.size() != rewritten.placeholders) count_mismatch(operation, sql, rewritten.placeholders, r.size());
    set_result(nullptr, {}, -1, 0);
    if (rows.empty()) {
        rowcount_ = 0;
        co_return 0;
    }
    auto guard = co_await s->busy.scoped();
    s->check_usable(operation, detail::quote_sql(sql));
    s->reset_needed = true;
    std::int64_t total = 0;
    std::uint64_t lastrowid = 0;
    const bool batch = rewritten.values_open != std::string::npos && rewritten.placeholders > 0;
    if (!batch) {
        // One prepared statement, executed once per row (PyMySQL does the same).
        for (const auto& r : rows) {
            outcome out = co_await run_prepared(*s, rewritten.sql, r, operation, sql);
            total += out.rowcount;
            lastrowid = out.lastrowid;
        }
    } else {
        // INSERT ... VALUES (...): up to `per_batch` rows per statement, within
        // the server's 65 535 placeholders.
        const std::string head = rewritten.sql.substr(0, rewritten.values_open);
        const std::string tuple =
            rewritten.sql.substr(rewritten.values_open, rewritten.values_close - rewritten.values_open);
        const std::size_t per_batch = std::max<std::size_t>(1, std::min<std::size_t>(1000, 65535 / rewritten.placeholders));
        std::size_t i = 0;
        while (i < rows.size()) {
            const std::size_t n = std::min(per_batch, rows.size() - i);
            std::string batch_sql = head;
            std::vector<value> args;
            args.reserve(n * rewritten.placeholders);
            for (std::size_t k = 0; k < n; ++k) {
                if (k) batch_sql += ',';
                batch_sql += tuple;
                for (auto& v : rows[i + k]) args.push_back(std::move(v));
            }
            outcome out = co_await run_prepared(*s, batch_sql, args, operation, sql);
            total += out.rowcount;
            if (lastrowid == 0) lastrowid = out.lastrowid;  // the first id of the first batch, as MySQL reports
            i += n;
        }
    }
    rowcount_ = total;
    lastrowid_ = lastrowid;
    co_return static_cast<std::uint64_t>(total);
}

task<std::optional<row>> cursor::fetchone() {
    if (next_ >= rows_.size()) co_return std::nullopt;
    co_return std::move(rows_[next_++]);
}

task<std::vector<row>> cursor::fetchmany(std::size_t n) {
    std::vector<row> out;
    while (n-- > 0 && next_ < rows_.size()) out.push_back(std::move(rows_[next_++]));
    co_return out;
}

task<std::vector<row>> cursor::fetchall() {
    std::vector<row> out;
    if (next_ == 0) {
        out = std::move(rows_);
    } else {
        for (; next_ < rows_.size(); ++next_) out.push_back(std::move(rows_[next_]));
    }
    rows_.clear();
    next_ = 0;
    co_return out;
}

task<> cursor::close() {
    rows_.clear();
    next_ = 0;
    co_return;
}

async_generator<row> cursor::stream_values(std::string sql, std::vector<value> args) {
    constexpr const char* operation = "mysql::cursor::stream";
    if (!conn_) throw std::logic_error("mysql::cursor::stream: the cursor has no connection");
    auto s = conn_;
    detail::rewritten_sql rewritten = detail::rewrite_placeholders(sql);
    if (rewritten.placeholders != args.size()) count_mismatch(operation, sql, rewritten.placeholders, args.size());
    set_result(nullptr, {}, -1, 0);
    auto guard = co_await s->busy.scoped();
    s->check_usable(operation, detail::quote_sql(sql));
    s->reset_needed = true;
    const std::string what = detail::quote_sql(sql);
    // Plain SQL goes through a prepared statement too: the binary protocol's
    // row-by-row fetch (mysql_stmt_fetch_start) is what streams.
    MYSQL_STMT* stmt = co_await prepared(*s, rewritten.sql, operation, what);
    if (mysql_stmt_param_count(stmt) != args.size())
        count_mismatch(operation, sql, mysql_stmt_param_count(stmt), args.size());
    detail::param_binding params(args);
    if (mysql_stmt_bind_param(stmt, params.binds()) != 0) s->fail_stmt(stmt, operation, what);
    int ret = 0;
    s->active_stmt = stmt;
    int status = mysql_stmt_execute_start(&ret, stmt);
    auto cont = [&](int ready) { return mysql_stmt_execute_cont(&ret, stmt, ready); };
    co_await detail::drive(*s, status, operation, cont);
    if (ret != 0) s->fail_stmt(stmt, operation, what);
    if (mysql_stmt_field_count(stmt) == 0) {
        rowcount_ = static_cast<std::int64_t>(mysql_stmt_affected_rows(stmt));
        lastrowid_ = mysql_stmt_insert_id(stmt);
        co_return;
    }
    // Until the last row is read, the connection is in the middle of a
    // result: a generator destroyed there closes it (it cannot be reused).
    struct mid_result {
        connection_state* s;
        bool done = false;
        ~mid_result() {
            if (!done) s->close_now();
        }
    } in_result{s.get()};
    MYSQL_RES* meta = mysql_stmt_result_metadata(stmt);
    if (meta == nullptr) s->fail_stmt(stmt, operation, what);
    detail::result_shape shape = detail::describe(mysql_fetch_fields(meta), mysql_num_fields(meta));
    mysql_free_result(meta);
    columns_ = shape.columns;
    detail::result_binding binding(shape);
    if (mysql_stmt_bind_result(stmt, binding.binds()) != 0) s->fail_stmt(stmt, operation, what);
    std::int64_t count = 0;
    bool closing = false;
    while (!closing) {
        int r = 0;
        status = mysql_stmt_fetch_start(&r, stmt);
        auto fetch = [&](int ready) { return mysql_stmt_fetch_cont(&r, stmt, ready); };
        co_await detail::drive(*s, status, operation, fetch);
        if (r == MYSQL_NO_DATA) break;
        if (r == 1) s->fail_stmt(stmt, operation, what);
        row current = binding.take_row(stmt, shape);
        ++count;
        rowcount_ = count;
        try {
            co_yield std::move(current);
        } catch (const generator_exit&) {
            closing = true;
        }
    }
    if (closing) {
        // Closed early: read and drop the rest of the result so the connection
        // can take the next statement.
        while (true) {
            int r = 0;
            status = mysql_stmt_fetch_start(&r, stmt);
            auto fetch = [&](int ready) { return mysql_stmt_fetch_cont(&r, stmt, ready); };
            co_await detail::drive(*s, status, operation, fetch);
            if (r == MYSQL_NO_DATA || r == 1) break;
        }
        in_result.done = true;
        mysql_stmt_free_result(stmt);
        throw generator_exit{};
    }
    in_result.done = true;
    mysql_stmt_free_result(stmt);
}

task<cursor&> cursor_manager::aenter() {
    if (!conn_) throw std::logic_error("mysql::connection::cursor: the connection was moved from or never connected");
    cursor_.emplace(conn_);
    co_return *cursor_;
}

task<> cursor_manager::aexit(std::exception_ptr) {
    if (cursor_) co_await cursor_->close();
}

}  // namespace corio::mysql
