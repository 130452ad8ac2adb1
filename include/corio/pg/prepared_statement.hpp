// corio/pg/prepared_statement.hpp: prepared_statement, what
// connection::prepare gives (asyncpg's PreparedStatement).
//
//   pg::prepared_statement st = co_await c.prepare("SELECT name FROM users WHERE id = $1");
//   std::string name = co_await st.fetchval<std::string>(42);
//
// Prepared on the server once, under its own name, with the parameter types
// the server inferred (parameter_types()) and the result's column names
// (column_names()). Arguments are converted to those types where that is
// lossless (an int64 argument for an int4 parameter, range-checked; a float
// for a float8); text arguments fill any type. Any other mismatch is
// pg::interface_error naming the parameter and both types. Pipelined and
// cancellable like the connection's calls. Destroying it deallocates the
// statement on the server with the connection's next query (no await in a
// destructor). Only valid while its connection is open.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <corio/pg/record.hpp>
#include <corio/pg/types.hpp>
#include <corio/task.hpp>

namespace corio::pg {

namespace detail {
struct conn_state;
}

class prepared_statement {
public:
    prepared_statement(std::shared_ptr<detail::conn_state> state, std::string name, std::string sql,
                       std::vector<oid> parameter_types, std::vector<std::string> column_names) noexcept;
    prepared_statement(prepared_statement&&) noexcept = default;
    prepared_statement& operator=(prepared_statement&&) noexcept;
    prepared_statement(const prepared_statement&) = delete;
    prepared_statement& operator=(const prepared_statement&) = delete;
    ~prepared_statement();

    const std::string& sql() const noexcept { return sql_; }
    const std::vector<oid>& parameter_types() const noexcept { return parameter_types_; }
    const std::vector<std::string>& column_names() const noexcept { return column_names_; }

    template <class... A>
    task<std::string> execute(const A&... args) {
        return execute_encoded(detail::encode_params(args...));
    }
    template <class... A>
    task<std::vector<record>> fetch(const A&... args) {
        return fetch_encoded(detail::encode_params(args...));
    }
    template <class... A>
    task<std::optional<record>> fetchrow(const A&... args) {
        return fetchrow_encoded(detail::encode_params(args...));
    }
    template <class T, class... A>
    task<T> fetchval(const A&... args) {
        std::optional<record> row = co_await fetchrow_encoded(detail::encode_params(args...));
        if (!row) {
            if constexpr (detail::is_optional<T>::value) co_return std::nullopt;
            else throw_no_row();
        }
        co_return row->get<T>(std::size_t{0});
    }

    task<std::string> execute_encoded(detail::encoded_params params);
    task<std::vector<record>> fetch_encoded(detail::encoded_params params);
    task<std::optional<record>> fetchrow_encoded(detail::encoded_params params);

private:
    [[noreturn]] void throw_no_row() const;
    std::shared_ptr<detail::conn_state> state_;
    std::string name_;
    std::string sql_;
    std::vector<oid> parameter_types_;
    std::vector<std::string> column_names_;
};

}  // namespace corio::pg
