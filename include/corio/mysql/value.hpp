// corio/mysql/value.hpp: one SQL value as corio::mysql holds it, both ways:
// a query parameter (converted from the C++ argument when execute() is
// called, so the arguments may be temporaries) and a cell of a result row.
//
//   NULL                 std::monostate   (std::nullopt, nullptr, an empty std::optional)
//   integers             std::int64_t / std::uint64_t (bool is 0 or 1)
//   FLOAT, DOUBLE        double
//   text, DECIMAL        std::string      (DECIMAL as its exact text)
//   BLOB, BINARY, BIT    std::vector<std::byte>
//   DATE, DATETIME,      date_time        (std::chrono::year_month_day,
//   TIMESTAMP, TIME                       local_time<microseconds>, microseconds)
//   JSON                 nlohmann::json as a parameter (sent as its text); a
//                        cell of a JSON column is text, parsed by get<nlohmann::json>
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace corio::mysql {

/// A DATE, DATETIME/TIMESTAMP or TIME as the server sends it (zero dates
/// such as 0000-00-00 included, which std::chrono cannot hold).
struct date_time {
    enum class kind : std::uint8_t { date, datetime, time };
    kind type = kind::datetime;
    bool negative = false;  // TIME only
    int year = 0;
    unsigned month = 0, day = 0;
    unsigned hour = 0, minute = 0, second = 0;  // hour up to 838 for TIME
    unsigned microsecond = 0;
    friend bool operator==(const date_time&, const date_time&) = default;
};

using value = std::variant<std::monostate, std::int64_t, std::uint64_t, double, std::string, std::vector<std::byte>,
                           date_time>;

namespace detail {
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
}  // namespace detail

/// The parameter value of a C++ argument (see the table above). Unsupported
/// types do not compile.
template <class T>
value to_value(T&& v) {
    using U = std::remove_cvref_t<T>;
    if constexpr (std::is_same_v<U, value>) {
        return std::forward<T>(v);
    } else if constexpr (std::is_same_v<U, std::nullopt_t> || std::is_same_v<U, std::nullptr_t> ||
                         std::is_same_v<U, std::monostate>) {
        return std::monostate{};
    } else if constexpr (detail::is_optional<U>::value) {
        if (!v) return std::monostate{};
        return to_value(*std::forward<T>(v));
    } else if constexpr (std::is_same_v<U, bool>) {
        return std::int64_t(v ? 1 : 0);
    } else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) {
        return std::int64_t(v);
    } else if constexpr (std::is_integral_v<U>) {
        return std::uint64_t(v);
    } else if constexpr (std::is_floating_point_v<U>) {
        return double(v);
    } else if constexpr (std::is_same_v<U, std::vector<std::byte>>) {
        return std::vector<std::byte>(std::forward<T>(v));
    } else if constexpr (std::is_convertible_v<const U&, std::string_view>) {
        return std::string(std::string_view(v));
    } else if constexpr (std::is_same_v<U, nlohmann::json>) {
        return v.dump();
    } else if constexpr (std::is_same_v<U, std::chrono::year_month_day>) {
        date_time d;
        d.type = date_time::kind::date;
        d.year = int(v.year());
        d.month = unsigned(v.month());
        d.day = unsigned(v.day());
        return d;
    } else if constexpr (std::is_same_v<U, std::chrono::microseconds>) {
        date_time d;
        d.type = date_time::kind::time;
        auto us = v.count();
        d.negative = us < 0;
        if (us < 0) us = -us;
        d.microsecond = unsigned(us % 1'000'000);
        auto s = us / 1'000'000;
        d.second = unsigned(s % 60);
        d.minute = unsigned(s / 60 % 60);
        d.hour = unsigned(s / 3600);
        return d;
    } else if constexpr (requires { std::chrono::floor<std::chrono::days>(v); typename U::clock; }) {
        // local_time<...> (DATETIME) or sys_time<...> (TIMESTAMP in UTC), to the microsecond.
        const auto us = std::chrono::floor<std::chrono::microseconds>(v);
        const auto day = std::chrono::floor<std::chrono::days>(us);
        const std::chrono::year_month_day ymd{std::chrono::sys_days(day.time_since_epoch())};
        const std::chrono::hh_mm_ss<std::chrono::microseconds> tod{us - day};
        date_time d;
        d.type = date_time::kind::datetime;
        d.year = int(ymd.year());
        d.month = unsigned(ymd.month());
        d.day = unsigned(ymd.day());
        d.hour = unsigned(tod.hours().count());
        d.minute = unsigned(tod.minutes().count());
        d.second = unsigned(tod.seconds().count());
        d.microsecond = unsigned(tod.subseconds().count());
        return d;
    } else if constexpr (std::is_same_v<U, date_time>) {
        return v;
    } else {
        static_assert(sizeof(U) == 0, "corio::mysql: no SQL value for this argument type (see corio/mysql/value.hpp)");
    }
}

}  // namespace corio::mysql
