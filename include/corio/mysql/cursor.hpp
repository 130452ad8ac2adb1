// corio/mysql/cursor.hpp: aiomysql's Cursor: execute a statement, then fetch
// its rows.
//
//   co_await corio::with(conn.cursor(), [](corio::mysql::cursor& cur) -> corio::task<> {
//       co_await cur.execute("SELECT id, name FROM users WHERE id > %s", 10);
//       while (auto r = co_await cur.fetchone()) use(*r);
//   });
//
// Parameters: `%s` placeholders (outside string literals, quoted names and
// comments; `%%` is a literal `%` when there are arguments) become `?` of a
// server-side prepared statement and the arguments go as its typed values,
// never spliced into the SQL text, so nothing in them can change the
// statement. Prepared statements are cached per connection (100, least
// recently used closed first). A statement without arguments goes as plain
// SQL (one round trip). A placeholder count that does not match the
// arguments throws programming_error naming both counts before anything is
// sent. execute() and executemany() take the SQL and the arguments by value:
// temporaries are safe even when the task is awaited later.
// Rows: execute() reads the whole result into memory (aiomysql's Cursor);
// fetchone/fetchmany/fetchall and next() (the async iterator) hand them out.
// stream() gives the rows of a query one at a time as the server sends them
// (aiomysql's SSCursor), holding only one in memory; it always uses a
// prepared statement (the binary protocol's row-by-row fetch), so the
// statement must be one the server can prepare.
// One statement runs at a time on a connection; a second waits its turn
// (FIFO). Cancellation (a scope, a timeout) of a statement the server is
// running kills it on the server (KILL QUERY from a fresh connection) and
// drains the connection, or closes it when that is not done within 2 s; a
// connection is never left in the middle of a result.
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
#include <corio/mysql/row.hpp>
#include <corio/mysql/value.hpp>
#include <corio/task.hpp>

namespace corio::mysql {

namespace detail {
struct connection_state;
}

class cursor {
public:
    explicit cursor(std::shared_ptr<detail::connection_state> conn) noexcept;
    cursor(cursor&&) noexcept;
    cursor& operator=(cursor&&) noexcept;
    cursor(const cursor&) = delete;
    cursor& operator=(const cursor&) = delete;
    ~cursor();

    /// Runs `sql` with `args` for its %s placeholders; gives the affected
    /// rows (rowcount()): changed rows for INSERT/UPDATE/DELETE, the row count for a SELECT.
    template <class... Args>
    task<std::uint64_t> execute(std::string sql, Args&&... args) {
        std::vector<value> values;
        values.reserve(sizeof...(Args));
        (values.push_back(to_value(std::forward<Args>(args))), ...);
        return execute_values(std::move(sql), std::move(values));
    }
    task<std::uint64_t> execute_values(std::string sql, std::vector<value> args);

    /// Runs `sql` for every element of `rows` (each a std::tuple, or a
    /// std::vector<value>): an INSERT ... VALUES (%s, ...) whose row tuple
    /// ends the statement goes as multi-row INSERTs of up to 1000 rows (and
    /// at most 65 535 placeholders) each, as PyMySQL batches; any other
    /// statement is executed once per row on one prepared statement. Every
    /// row's argument count is checked before anything is sent. Gives the
    /// total affected rows; lastrowid() is the first id of the first batch.
    template <class Rows>
    task<std::uint64_t> executemany(std::string sql, Rows rows) {
        std::vector<std::vector<value>> all;
        all.reserve(rows.size());
        for (auto& r : rows) all.push_back(row_values(std::move(r)));
        return executemany_values(std::move(sql), std::move(all));
    }
    task<std::uint64_t> executemany_values(std::string sql, std::vector<std::vector<value>> rows);

    /// The next row, nullopt after the last.
    task<std::optional<row>> fetchone();
    /// Up to `n` rows (fewer at the end).
    task<std::vector<row>> fetchmany(std::size_t n = 1);
    /// Every row not fetched yet.
    task<std::vector<row>> fetchall();
    /// The async iterator (`while (auto r = co_await cur.next())`): fetchone.
    task<std::optional<row>> next() { return fetchone(); }

    /// The rows of `sql` one at a time as the server sends them (aiomysql's
    /// SSCursor); the connection is busy until the generator ends or is
    /// closed (closing it early reads and drops the rest of the result).
    template <class... Args>
    async_generator<row> stream(std::string sql, Args&&... args) {
        std::vector<value> values;
        (values.push_back(to_value(std::forward<Args>(args))), ...);
        return stream_values(std::move(sql), std::move(values));
    }
    async_generator<row> stream_values(std::string sql, std::vector<value> args);

    /// Rows affected or found by the last execute; -1 before any.
    std::int64_t rowcount() const noexcept { return rowcount_; }
    /// The AUTO_INCREMENT id the last INSERT made (0 when none).
    std::uint64_t lastrowid() const noexcept { return lastrowid_; }
    /// The columns of the last result; empty for a statement without one.
    const std::vector<column>& description() const noexcept;
    /// Drops the rows not fetched; the cursor can execute again afterwards.
    task<> close();

private:
    template <class Tuple>
    static std::vector<value> row_values(Tuple&& t) {
        if constexpr (std::is_same_v<std::remove_cvref_t<Tuple>, std::vector<value>>) {
            return std::forward<Tuple>(t);
        } else {
            std::vector<value> v;
            std::apply([&](auto&&... x) { (v.push_back(to_value(std::forward<decltype(x)>(x))), ...); },
                       std::forward<Tuple>(t));
            return v;
        }
    }
    void set_result(std::shared_ptr<const std::vector<column>> columns, std::vector<row> rows, std::int64_t rowcount,
                    std::uint64_t lastrowid) noexcept;

    std::shared_ptr<detail::connection_state> conn_;
    std::shared_ptr<const std::vector<column>> columns_;
    std::vector<row> rows_;
    std::size_t next_ = 0;
    std::int64_t rowcount_ = -1;
    std::uint64_t lastrowid_ = 0;
};

/// connection::cursor() and dict_cursor(): an async context manager whose
/// aenter gives the cursor and whose aexit closes it.
class cursor_manager {
public:
    explicit cursor_manager(std::shared_ptr<detail::connection_state> conn) noexcept : conn_(std::move(conn)) {}
    task<cursor&> aenter();
    task<> aexit(std::exception_ptr error);

private:
    std::shared_ptr<detail::connection_state> conn_;
    std::optional<cursor> cursor_;
};

}  // namespace corio::mysql
