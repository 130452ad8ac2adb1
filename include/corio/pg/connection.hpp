// corio/pg/connection.hpp: connect() and connection, one PostgreSQL session
// (asyncpg.connect and asyncpg.Connection) over libpq in non-blocking
// pipeline mode.
//
//   auto c = co_await pg::connect("postgresql://app:secret@127.0.0.1/app");
//   std::string tag = co_await c.execute("INSERT INTO t VALUES ($1, $2)", 1, "one");
//   std::vector<pg::record> rows = co_await c.fetch("SELECT * FROM t WHERE id > $1", 0);
//   std::optional<pg::record> row = co_await c.fetchrow("SELECT ...");
//   auto n = co_await c.fetchval<std::int64_t>("SELECT count(*) FROM t");
//   co_await c.close();                        // or corio::with(pg::connect(...), body)
//
// Parameters are $1..$n, sent as typed binary values (corio/pg/types.hpp),
// never spliced into the SQL. Each statement is prepared once and kept per
// connection (LRU, statement_cache_size, 100 by default). One statement per
// call (the extended protocol: "a; b" is a syntax error from the server).
// Queries from several tasks on one connection are sent at once, in the
// order they were called, each with its own Sync (pipelining): one failing
// leaves the others alone; results come back in that order.
// Query calls take the SQL and the arguments by value (encoded when called),
// so temporaries are safe even when the task is awaited later.
// Cancel safety: a query cancelled while the server runs it sends a
// CancelRequest and drains its results, shielded and bounded (5 s); a query
// cancelled before its turn has its results discarded when they come. If the
// drain does not finish in time the connection is closed (connection_error
// for what was queued behind it). Either way the cancellation propagates.
// command_timeout (connect_options) does the same on expiry and throws
// corio::timeout_error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <corio/async_generator.hpp>
#include <corio/pg/errors.hpp>
#include <corio/pg/notification.hpp>
#include <corio/pg/options.hpp>
#include <corio/pg/prepared_statement.hpp>
#include <corio/pg/record.hpp>
#include <corio/pg/types.hpp>
#include <corio/task.hpp>

namespace corio::pg {

namespace detail {
struct conn_state;  // src/pg/conn_state.hpp

/// What a statement gave: its rows (maybe none) and its command tag.
struct query_result {
    std::shared_ptr<const result> rows;
    std::string tag;
};
}  // namespace detail

class transaction;
class prepared_statement;

class connection {
public:
    explicit connection(std::shared_ptr<detail::conn_state> state) noexcept : state_(std::move(state)) {}
    connection(connection&&) noexcept = default;
    connection& operator=(connection&& other) noexcept;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    /// Closes the connection at once (no Terminate wait) if still open.
    ~connection();

    // An async context manager: aenter gives the connection, aexit closes it.
    task<connection&> aenter();
    task<void> aexit(std::exception_ptr error);

    /// The command tag ("INSERT 0 1", "CREATE TABLE", ...).
    template <class... A>
    task<std::string> execute(std::string sql, const A&... args) {
        return execute_encoded(std::move(sql), detail::encode_params(args...));
    }
    template <class... A>
    task<std::vector<record>> fetch(std::string sql, const A&... args) {
        return fetch_encoded(std::move(sql), detail::encode_params(args...));
    }
    template <class... A>
    task<std::optional<record>> fetchrow(std::string sql, const A&... args) {
        return fetchrow_encoded(std::move(sql), detail::encode_params(args...));
    }
    /// The first column of the first row. No row: nullopt for an optional T,
    /// else pg::interface_error.
    template <class T, class... A>
    task<T> fetchval(std::string sql, const A&... args) {
        return fetchval_encoded<T>(std::move(sql), detail::encode_params(args...));
    }
    /// Runs `sql` once per row (a tuple of its arguments), pipelined, in one
    /// implicit transaction when none is open: the first failure throws and
    /// nothing of the batch remains.
    template <class Row>
    task<void> executemany(std::string sql, std::vector<Row> rows) {
        std::vector<detail::encoded_params> encoded;
        encoded.reserve(rows.size());
        for (const Row& r : rows)
            encoded.push_back(std::apply([](const auto&... a) { return detail::encode_params(a...); }, r));
        return executemany_encoded(std::move(sql), std::move(encoded));
    }

    /// BEGIN (or SAVEPOINT inside another) at aenter; COMMIT (RELEASE) when
    /// the body succeeds, ROLLBACK (TO SAVEPOINT) when it throws or is cancelled.
    pg::transaction transaction();
    pg::transaction transaction(transaction_options options);

    /// A statement prepared on the server now, with the same query calls.
    task<prepared_statement> prepare(std::string sql);

    /// The rows of `sql` one at a time, fetched in batches of 50 through a
    /// server-side cursor (DECLARE ... NO SCROLL CURSOR; FETCH 50); it must
    /// run inside a transaction (interface_error otherwise), as asyncpg's.
    template <class... A>
    async_generator<record> cursor(std::string sql, const A&... args) {
        return cursor_encoded(std::move(sql), detail::encode_params(args...));
    }

    /// COPY `table` (`columns`; empty: all, in table order) FROM STDIN in
    /// binary: each tuple is a row (asyncpg's copy_records_to_table). The
    /// column types are read from the catalog first; integer and float
    /// widths are converted, text fills text-like and json columns; another
    /// mismatch is interface_error naming the column. Gives the tag ("COPY n").
    /// The connection leaves pipeline mode meanwhile: other queries wait.
    template <class Row>
    task<std::string> copy_records_to_table(std::string table, std::vector<Row> rows,
                                            std::vector<std::string> columns) {
        std::vector<detail::encoded_params> encoded;
        encoded.reserve(rows.size());
        for (const Row& r : rows)
            encoded.push_back(std::apply([](const auto&... a) { return detail::encode_params(a...); }, r));
        return copy_records_encoded(std::move(table), std::move(encoded), std::move(columns));
    }
    /// COPY (`sql`) TO STDOUT: the output (text format, one row per line) as
    /// chunks as they come (asyncpg's copy_from_query). Closing the generator
    /// early drains the rest (bounded; else the connection is closed).
    async_generator<std::string> copy_from_query(std::string sql);

    /// LISTEN `channel`: its notifications as an async generator
    /// (corio/pg/notification.hpp).
    async_generator<notification> listen(std::string channel);
    /// NOTIFY `channel` with `payload` (pg_notify).
    task<void> notify(std::string channel, std::string payload);

    /// Sends Terminate and closes; queries queued fail with connection_error.
    /// Idempotent.
    task<void> close();
    bool is_closed() const noexcept;
    /// Inside a transaction() block (or BEGIN sent by hand and seen by libpq).
    bool in_transaction() const noexcept;
    /// The server process serving this connection (pg_backend_pid()).
    int backend_pid() const noexcept;
    /// "127.0.0.1:5432" (or the socket folder) for messages.
    std::string peer() const;

    detail::conn_state& state() const noexcept { return *state_; }
    /// Queries sent and not yet answered (for tests and diagnostics).
    std::size_t state_pending() const noexcept;

    // The non-template cores of the calls above.
    task<std::string> execute_encoded(std::string sql, detail::encoded_params params);
    task<std::vector<record>> fetch_encoded(std::string sql, detail::encoded_params params);
    task<std::optional<record>> fetchrow_encoded(std::string sql, detail::encoded_params params);
    template <class T>
    task<T> fetchval_encoded(std::string sql, detail::encoded_params params) {
        std::optional<record> row = co_await fetchrow_encoded(std::move(sql), std::move(params));
        if (!row) {
            if constexpr (detail::is_optional<T>::value) co_return std::nullopt;
            else throw_no_row();
        }
        co_return row->get<T>(std::size_t{0});
    }
    task<void> executemany_encoded(std::string sql, std::vector<detail::encoded_params> rows);
    async_generator<record> cursor_encoded(std::string sql, detail::encoded_params params);
    task<std::string> copy_records_encoded(std::string table, std::vector<detail::encoded_params> rows,
                                           std::vector<std::string> columns);

private:
    [[noreturn]] void throw_no_row() const;
    std::shared_ptr<detail::conn_state> state_;
};

namespace detail {
task<connection> open_connection(connect_options options);
}

/// What connect() gives: awaited, the connection (close it yourself); or an
/// async context manager whose aenter gives connection& and whose aexit
/// closes it (`co_await corio::with(pg::connect(dsn), body)`).
class [[nodiscard]] connector {
public:
    explicit connector(connect_options options) : options_(std::move(options)) {}

    task<connection&> aenter();
    task<void> aexit(std::exception_ptr error);

    auto operator co_await() && {
        pending_.emplace(detail::open_connection(std::move(options_)));
        return pending_->operator co_await();
    }

private:
    connect_options options_;
    std::optional<connection> conn_;
    std::optional<task<connection>> pending_;
};

/// Connects (asyncpg.connect): the connection, or connection_error naming
/// host and port (never the password), for a refused connection, a wrong
/// password or an unknown database alike. Cancellable; an abandoned attempt
/// frees its socket. connect_timeout (the DSN's or the options') is enforced.
connector connect(std::string dsn);
connector connect(connect_options options);

}  // namespace corio::pg
