// corio/pg/record.hpp: record, one row of a query's result (asyncpg.Record).
//
//   for (const pg::record& r : co_await c.fetch("SELECT id, name FROM users"))
//       use(r.get<int>("id"), r.get<std::string>(1));
//   auto [id, name] = r.as<std::tuple<int, std::optional<std::string>>>();
//
// A record shares its result's storage (the rows stay in libpq's buffer, one
// allocation per result, none per row); copying a record is cheap and it may
// outlive the connection. get<T> by index or by name decodes the binary value
// (corio/pg/types.hpp); a wrong type, NULL into a non-optional, an index out
// of range or an unknown name is pg::type_error (names: pg::interface_error)
// naming the column and both types.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <corio/pg/types.hpp>

namespace corio::pg {

namespace detail {
/// A result (a PGresult with its column names); defined in src/pg.
struct result;
std::size_t result_columns(const result& r) noexcept;
std::size_t result_rows(const result& r) noexcept;
const std::string& result_column_name(const result& r, std::size_t column) noexcept;
oid result_column_type(const result& r, std::size_t column) noexcept;
cell result_cell(const result& r, std::size_t row, std::size_t column) noexcept;
}  // namespace detail

class record {
public:
    record(std::shared_ptr<const detail::result> result, std::size_t row) noexcept
        : result_(std::move(result)), row_(row) {}

    /// The number of columns.
    std::size_t size() const noexcept { return detail::result_columns(*result_); }
    std::vector<std::string> names() const;
    /// The index of the column called `name` (the first one, as asyncpg);
    /// pg::interface_error when there is none.
    std::size_t index_of(std::string_view name) const;

    bool is_null(std::size_t column) const { return cell_at(column, "is_null").null; }
    bool is_null(std::string_view name) const { return is_null(index_of(name)); }

    template <class T>
    T get(std::size_t column) const {
        const cell c = cell_at(column, "get");
        const std::string cpp = detail::cpp_name<T>();
        const detail::column_ref col{detail::result_column_name(*result_, column),
                                     detail::result_column_type(*result_, column), cpp};
        return detail::decode<T>(c, col);
    }
    template <class T>
    T get(std::string_view name) const {
        return get<T>(index_of(name));
    }

    /// The whole row as a tuple; the tuple's size must be the column count.
    template <class Tuple>
    Tuple as() const {
        constexpr std::size_t n = std::tuple_size_v<Tuple>;
        if (n != size()) throw_width(n);
        return as_impl<Tuple>(std::make_index_sequence<n>{});
    }

private:
    cell cell_at(std::size_t column, const char* operation) const;
    [[noreturn]] void throw_width(std::size_t wanted) const;
    template <class Tuple, std::size_t... I>
    Tuple as_impl(std::index_sequence<I...>) const {
        return Tuple(get<std::tuple_element_t<I, Tuple>>(I)...);
    }

    std::shared_ptr<const detail::result> result_;
    std::size_t row_;
};

}  // namespace corio::pg
