// corio/mysql/row.hpp: a result row and its columns' description.
//
//   for (const corio::mysql::row& r : co_await cur.fetchall())
//       std::printf("%lld %s\n", (long long)r.get<std::int64_t>("id"), r.get<std::string>(1).c_str());
//
// get<T>(index or name) converts the cell (see value.hpp):
//   bool, integers      an integer column (range-checked: a value T cannot hold throws)
//   float, double       FLOAT, DOUBLE (and integer columns)
//   std::string         text, DECIMAL (its exact text), and binary columns' bytes
//   std::vector<std::byte>  BLOB/BINARY/BIT (and text columns' bytes)
//   std::chrono::year_month_day                    DATE (DATETIME: its date)
//   std::chrono::local_time<std::chrono::microseconds>  DATETIME, TIMESTAMP (the session's time zone), DATE
//   std::chrono::microseconds                      TIME
//   nlohmann::json      a JSON (text) column, parsed
//   std::optional<T>    any of those, nullopt for NULL
//   value               the cell as it is
// A NULL into a non-optional T or a column of another type throws type_error
// naming the column and both types. Every row can be read by name (the
// dict_cursor of aiomysql is the same cursor); names are matched exactly,
// the first column of that name wins. A row owns its values; the columns are
// shared by the rows of one result. No allocation in get<T> besides T's own.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <corio/mysql/value.hpp>

namespace corio::mysql {

/// One column of a result (aiomysql's description 7-tuple, and more).
struct column {
    std::string name;        // the alias (AS ...) or the column's name
    std::string table;       // the table alias, empty for an expression
    unsigned type_code = 0;  // MYSQL_TYPE_* (aiomysql's type_code: FIELD_TYPE.*)
    std::string type_name;   // "INT", "BIGINT UNSIGNED", "VARCHAR", "BLOB", "DECIMAL", "DATETIME", ...
    unsigned long display_size = 0;  // the column's length
    unsigned decimals = 0;
    bool nullable = true;
    bool is_unsigned = false;
    bool is_binary = false;  // binary charset: BLOB, BINARY, VARBINARY, BIT
};

class row {
public:
    row() = default;
    row(std::shared_ptr<const std::vector<column>> columns, std::vector<value> values)
        : columns_(std::move(columns)), values_(std::move(values)) {}

    std::size_t size() const noexcept { return values_.size(); }
    const std::vector<column>& columns() const;
    const value& at(std::size_t index) const;
    const value& at(std::string_view name) const { return values_[index_of(name)]; }
    bool is_null(std::size_t index) const { return std::holds_alternative<std::monostate>(at(index)); }
    bool is_null(std::string_view name) const { return is_null(index_of(name)); }
    /// The index of the column named `name`; type_error naming it when there is none.
    std::size_t index_of(std::string_view name) const;

    template <class T>
    T get(std::size_t index) const {
        return convert<T>(index, at(index));
    }
    template <class T>
    T get(std::string_view name) const {
        const std::size_t i = index_of(name);
        return convert<T>(i, values_[i]);
    }
    const std::vector<value>& values() const noexcept { return values_; }

private:
    template <class T>
    T convert(std::size_t index, const value& v) const;

    // The non-template parts (row.cpp); `cpp` is T's name for messages.
    [[noreturn]] void mismatch(std::size_t index, const char* cpp) const;
    [[noreturn]] void out_of_range(std::size_t index, const char* cpp) const;
    std::int64_t signed_integer(std::size_t index, const value& v, const char* cpp) const;
    std::uint64_t unsigned_integer(std::size_t index, const value& v, const char* cpp) const;
    double floating(std::size_t index, const value& v, const char* cpp) const;
    std::string text(std::size_t index, const value& v) const;
    std::vector<std::byte> bytes(std::size_t index, const value& v) const;
    std::chrono::year_month_day date(std::size_t index, const value& v) const;
    std::chrono::local_time<std::chrono::microseconds> datetime(std::size_t index, const value& v) const;
    std::chrono::microseconds time(std::size_t index, const value& v) const;
    nlohmann::json json(std::size_t index, const value& v) const;

    std::shared_ptr<const std::vector<column>> columns_;
    std::vector<value> values_;
};

namespace detail {
template <class T>
constexpr const char* cpp_type_name() {
    if constexpr (std::is_same_v<T, bool>) return "bool";
    else if constexpr (std::is_same_v<T, char>) return "char";
    else if constexpr (std::is_same_v<T, signed char>) return "signed char";
    else if constexpr (std::is_same_v<T, unsigned char>) return "unsigned char";
    else if constexpr (std::is_same_v<T, short>) return "short";
    else if constexpr (std::is_same_v<T, unsigned short>) return "unsigned short";
    else if constexpr (std::is_same_v<T, int>) return "int";
    else if constexpr (std::is_same_v<T, unsigned>) return "unsigned";
    else if constexpr (std::is_same_v<T, long>) return "long";
    else if constexpr (std::is_same_v<T, unsigned long>) return "unsigned long";
    else if constexpr (std::is_same_v<T, long long>) return "long long";
    else if constexpr (std::is_same_v<T, unsigned long long>) return "unsigned long long";
    else if constexpr (std::is_same_v<T, float>) return "float";
    else if constexpr (std::is_same_v<T, double>) return "double";
    else if constexpr (std::is_same_v<T, std::string>) return "std::string";
    else if constexpr (std::is_same_v<T, std::vector<std::byte>>) return "std::vector<std::byte>";
    else if constexpr (std::is_same_v<T, std::chrono::year_month_day>) return "std::chrono::year_month_day";
    else if constexpr (std::is_same_v<T, std::chrono::local_time<std::chrono::microseconds>>)
        return "std::chrono::local_time<std::chrono::microseconds>";
    else if constexpr (std::is_same_v<T, std::chrono::microseconds>) return "std::chrono::microseconds";
    else if constexpr (std::is_same_v<T, nlohmann::json>) return "nlohmann::json";
    else return "?";
}
}  // namespace detail

template <class T>
T row::convert(std::size_t index, const value& v) const {
    if constexpr (detail::is_optional<T>::value) {
        if (std::holds_alternative<std::monostate>(v)) return std::nullopt;
        return convert<typename T::value_type>(index, v);
    } else if constexpr (std::is_same_v<T, value>) {
        return v;
    } else {
        constexpr const char* cpp = detail::cpp_type_name<T>();
        if (std::holds_alternative<std::monostate>(v)) mismatch(index, cpp);
        if constexpr (std::is_same_v<T, bool>) {
            return signed_integer(index, v, cpp) != 0;
        } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
            const std::int64_t n = signed_integer(index, v, cpp);
            if (n < std::numeric_limits<T>::min() || n > std::numeric_limits<T>::max()) out_of_range(index, cpp);
            return static_cast<T>(n);
        } else if constexpr (std::is_integral_v<T>) {
            const std::uint64_t n = unsigned_integer(index, v, cpp);
            if (n > std::numeric_limits<T>::max()) out_of_range(index, cpp);
            return static_cast<T>(n);
        } else if constexpr (std::is_floating_point_v<T>) {
            return static_cast<T>(floating(index, v, cpp));
        } else if constexpr (std::is_same_v<T, std::string>) {
            return text(index, v);
        } else if constexpr (std::is_same_v<T, std::vector<std::byte>>) {
            return bytes(index, v);
        } else if constexpr (std::is_same_v<T, std::chrono::year_month_day>) {
            return date(index, v);
        } else if constexpr (std::is_same_v<T, std::chrono::local_time<std::chrono::microseconds>>) {
            return datetime(index, v);
        } else if constexpr (std::is_same_v<T, std::chrono::microseconds>) {
            return time(index, v);
        } else if constexpr (std::is_same_v<T, nlohmann::json>) {
            return json(index, v);
        } else {
            static_assert(sizeof(T) == 0, "corio::mysql::row::get<T>: T is not a supported type (see corio/mysql/row.hpp)");
        }
    }
}

}  // namespace corio::mysql
