// corio/pg/types.hpp: the binary codecs between C++ values and PostgreSQL's
// binary wire format (asyncpg's type map).
//
//   bool            bool                 integers     int2 / int4 / int8
//   float, double   float4 / float8      std::string  text, varchar, name, json
//   std::vector<std::byte>  bytea        nlohmann::json  json, jsonb
//   sys_time<microseconds>  timestamptz  local_time<microseconds>  timestamp
//   year_month_day  date                 microseconds interval (a month is 30 days)
//   std::string     uuid and numeric, read as their text (decoded here from binary)
//   std::vector<T>  one-dimensional arrays of the above; std::optional<T>  NULL
//
// Parameters go out in binary with the OID their C++ type fixes, except text
// (strings, string views, json): those go as text with OID 0 so the server
// infers the type from the SQL, as asyncpg does (a string can fill a uuid,
// numeric, date or enum parameter). Reading checks the column's OID: a wrong
// type, a value out of the C++ type's range or NULL into a non-optional is
// pg::type_error naming the column and both types. No allocation beyond the
// value itself.
#pragma once

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <corio/pg/errors.hpp>

namespace corio::pg {

/// A PostgreSQL type OID.
using oid = std::uint32_t;

namespace oids {
inline constexpr oid bool_ = 16, bytea = 17, char_ = 18, name = 19, int8 = 20, int2 = 21, int4 = 23, text = 25,
                     oid_ = 26, json = 114, xml = 142, float4 = 700, float8 = 701, unknown = 705, bpchar = 1042,
                     varchar = 1043, date = 1082, time = 1083, timestamp = 1114, timestamptz = 1184,
                     interval = 1186, numeric = 1700, uuid = 2950, jsonb = 3802, void_ = 2278;
inline constexpr oid bool_array = 1000, bytea_array = 1001, int2_array = 1005, int4_array = 1007,
                     text_array = 1009, varchar_array = 1015, int8_array = 1016, float4_array = 1021,
                     float8_array = 1022, timestamp_array = 1115, date_array = 1182, timestamptz_array = 1185,
                     interval_array = 1187, numeric_array = 1231, uuid_array = 2951, json_array = 199,
                     jsonb_array = 3807;
}  // namespace oids

/// "int4", "text", ... for messages; "oid N" for a type this file does not know.
std::string type_name(oid type);

/// A parameter ready to send: its OID (0: let the server infer), format
/// (1 binary, 0 text) and bytes; `null` for SQL NULL.
struct param {
    oid type = 0;
    int format = 1;
    bool null = false;
    std::string bytes;
};

/// A value as it came from the server: binary bytes, or null.
struct cell {
    const char* data = nullptr;
    int size = 0;
    bool null = false;
};

namespace detail {

// Big-endian helpers of the binary format.
inline std::uint64_t get_be(const char* p, int n) noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}
inline void put_be(std::string& out, std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

/// What a failed decode needs to name: the column and its type.
struct column_ref {
    std::string_view name;
    oid type = 0;
    std::string_view cpp;  // the C++ type asked for
};

[[noreturn]] void throw_type_error(const column_ref& col, std::string_view reason);

// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
inline constexpr std::int64_t pg_epoch_us = 946'684'800'000'000;
inline constexpr std::int32_t pg_epoch_days = 10'957;

/// A timestamp's microseconds since PostgreSQL's epoch as microseconds since
/// the Unix epoch; infinity (the int64 extremes) and what would overflow are
/// type_errors, not wrapped values.
inline std::int64_t unix_us_of(std::int64_t pg_us, const column_ref& col) {
    if (pg_us == std::numeric_limits<std::int64_t>::max() || pg_us == std::numeric_limits<std::int64_t>::min())
        throw_type_error(col, "infinity has no time_point");
    std::int64_t out;
    if (__builtin_add_overflow(pg_us, pg_epoch_us, &out)) throw_type_error(col, "the timestamp is out of range");
    return out;
}

/// numeric and uuid binary values as their text.
std::string numeric_to_text(const char* p, int n, const column_ref& col);
std::string uuid_to_text(const char* p, int n, const column_ref& col);

template <class T>
struct codec;  // specialized below: oid, array_oid, name, encode(value, param&), decode(cell, column_ref)

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
inline constexpr bool is_integer_v = std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>;

template <>
struct codec<bool> {
    static constexpr oid type = oids::bool_, array_type = oids::bool_array;
    static constexpr std::string_view name = "bool";
    static void encode(bool v, param& p) { p.bytes.assign(1, v ? '\1' : '\0'); }
    static bool decode(const cell& c, const column_ref& col) {
        if (col.type != oids::bool_) throw_type_error(col, {});
        return c.size == 1 && c.data[0] != 0;
    }
};

template <class T>
    requires is_integer_v<T>
struct codec<T> {
    // The narrowest of int2/int4/int8 that holds every value of T.
    static constexpr int width = std::is_signed_v<T> ? (sizeof(T) <= 2 ? 2 : sizeof(T) <= 4 ? 4 : 8)
                                                     : (sizeof(T) < 2 ? 2 : sizeof(T) < 4 ? 4 : 8);
    static constexpr oid type = width == 2 ? oids::int2 : width == 4 ? oids::int4 : oids::int8;
    static constexpr oid array_type = width == 2 ? oids::int2_array : width == 4 ? oids::int4_array : oids::int8_array;
    static constexpr std::string_view name = std::is_same_v<T, short>            ? "short"
                                             : std::is_same_v<T, int>            ? "int"
                                             : std::is_same_v<T, long>           ? "long"
                                             : std::is_same_v<T, long long>      ? "long long"
                                             : std::is_same_v<T, unsigned>       ? "unsigned"
                                             : std::is_same_v<T, unsigned long>  ? "unsigned long"
                                             : std::is_same_v<T, std::int8_t>    ? "std::int8_t"
                                             : std::is_same_v<T, std::uint8_t>   ? "std::uint8_t"
                                             : std::is_same_v<T, std::uint16_t>  ? "std::uint16_t"
                                                                                 : "an integer";
    static void encode(T v, param& p) {
        if constexpr (std::is_unsigned_v<T> && sizeof(T) >= 8) {
            if (v > static_cast<T>(std::numeric_limits<std::int64_t>::max()))
                throw std::out_of_range("pg: " + std::to_string(v) + " does not fit in int8");
        }
        p.bytes.clear();
        put_be(p.bytes, static_cast<std::uint64_t>(static_cast<std::int64_t>(v)), width);
    }
    static T decode(const cell& c, const column_ref& col) {
        std::int64_t v;
        if (col.type == oids::int2 && c.size == 2) v = static_cast<std::int16_t>(get_be(c.data, 2));
        else if (col.type == oids::int4 && c.size == 4) v = static_cast<std::int32_t>(get_be(c.data, 4));
        else if ((col.type == oids::int8 && c.size == 8)) v = static_cast<std::int64_t>(get_be(c.data, 8));
        else if (col.type == oids::oid_ && c.size == 4) v = static_cast<std::uint32_t>(get_be(c.data, 4));
        else throw_type_error(col, {});
        if constexpr (std::is_signed_v<T>) {
            if (v < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
                v > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
                throw_type_error(col, "the value " + std::to_string(v) + " is out of range");
        } else {
            if (v < 0 || static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max())
                throw_type_error(col, "the value " + std::to_string(v) + " is out of range");
        }
        return static_cast<T>(v);
    }
};

template <class T>
    requires std::is_floating_point_v<T>
struct codec<T> {
    static constexpr oid type = sizeof(T) == 4 ? oids::float4 : oids::float8;
    static constexpr oid array_type = sizeof(T) == 4 ? oids::float4_array : oids::float8_array;
    static constexpr std::string_view name = sizeof(T) == 4 ? "float" : "double";
    static void encode(T v, param& p) {
        p.bytes.clear();
        if constexpr (sizeof(T) == 4) {
            std::uint32_t bits;
            std::memcpy(&bits, &v, 4);
            put_be(p.bytes, bits, 4);
        } else {
            std::uint64_t bits;
            std::memcpy(&bits, &v, 8);
            put_be(p.bytes, bits, 8);
        }
    }
    static T decode(const cell& c, const column_ref& col) {
        if (col.type == oids::float4 && c.size == 4) {
            const auto bits = static_cast<std::uint32_t>(get_be(c.data, 4));
            float f;
            std::memcpy(&f, &bits, 4);
            return static_cast<T>(f);
        }
        if (col.type == oids::float8 && c.size == 8) {
            const std::uint64_t bits = get_be(c.data, 8);
            double d;
            std::memcpy(&d, &bits, 8);
            if constexpr (sizeof(T) < sizeof(double)) {
                if (std::isfinite(d) && (d > std::numeric_limits<T>::max() || d < std::numeric_limits<T>::lowest()))
                    throw_type_error(col, "the value does not fit in a float");
            }
            return static_cast<T>(d);
        }
        throw_type_error(col, {});
    }
};

/// Columns whose binary form is their text.
inline bool is_textual(oid t) noexcept {
    return t == oids::text || t == oids::varchar || t == oids::bpchar || t == oids::name || t == oids::unknown ||
           t == oids::json || t == oids::xml || t == oids::char_;
}

template <>
struct codec<std::string> {
    static constexpr oid type = oids::text, array_type = oids::text_array;
    static constexpr std::string_view name = "std::string";
    static void encode(std::string_view v, param& p) {
        // libpq sends text parameters as C strings: a NUL would cut the value.
        if (v.find('\0') != std::string_view::npos)
            throw std::invalid_argument("a text value cannot hold a NUL byte (bytea is std::vector<std::byte>)");
        p.type = 0;  // unknown: the server infers it from the SQL
        p.format = 0;
        p.bytes.assign(v.data(), v.size());
    }
    static std::string decode(const cell& c, const column_ref& col) {
        if (is_textual(col.type)) return std::string(c.data, static_cast<std::size_t>(c.size));
        if (col.type == oids::jsonb && c.size >= 1) return std::string(c.data + 1, static_cast<std::size_t>(c.size - 1));
        if (col.type == oids::numeric) return numeric_to_text(c.data, c.size, col);
        if (col.type == oids::uuid) return uuid_to_text(c.data, c.size, col);
        throw_type_error(col, {});
    }
};
template <>
struct codec<std::string_view> : codec<std::string> {};
template <>
struct codec<const char*> : codec<std::string> {};
template <>
struct codec<char*> : codec<std::string> {};
template <std::size_t N>
struct codec<char[N]> : codec<std::string> {};

template <>
struct codec<std::vector<std::byte>> {
    static constexpr oid type = oids::bytea, array_type = oids::bytea_array;
    static constexpr std::string_view name = "std::vector<std::byte>";
    static void encode(const std::vector<std::byte>& v, param& p) {
        p.bytes.assign(reinterpret_cast<const char*>(v.data()), v.size());
    }
    static std::vector<std::byte> decode(const cell& c, const column_ref& col) {
        if (col.type != oids::bytea) throw_type_error(col, {});
        const auto* b = reinterpret_cast<const std::byte*>(c.data);
        return std::vector<std::byte>(b, b + c.size);
    }
};

template <>
struct codec<nlohmann::json> {
    static constexpr oid type = oids::jsonb, array_type = oids::jsonb_array;
    static constexpr std::string_view name = "nlohmann::json";
    static void encode(const nlohmann::json& v, param& p) {
        p.type = 0;  // json or jsonb, as the SQL says
        p.format = 0;
        p.bytes = v.dump();
    }
    static nlohmann::json decode(const cell& c, const column_ref& col) {
        std::string_view text(c.data, static_cast<std::size_t>(c.size));
        if (col.type == oids::jsonb && !text.empty()) text.remove_prefix(1);  // the format version byte
        else if (col.type != oids::json && col.type != oids::text && col.type != oids::varchar)
            throw_type_error(col, {});
        try {
            return nlohmann::json::parse(text);
        } catch (const nlohmann::json::exception& e) {
            throw_type_error(col, std::string("not JSON: ") + e.what());
        }
    }
};

using timestamptz_t = std::chrono::sys_time<std::chrono::microseconds>;
using timestamp_t = std::chrono::local_time<std::chrono::microseconds>;

template <>
struct codec<timestamptz_t> {
    static constexpr oid type = oids::timestamptz, array_type = oids::timestamptz_array;
    static constexpr std::string_view name = "std::chrono::sys_time<std::chrono::microseconds>";
    static void encode(timestamptz_t v, param& p) {
        p.bytes.clear();
        put_be(p.bytes, static_cast<std::uint64_t>(v.time_since_epoch().count() - pg_epoch_us), 8);
    }
    static timestamptz_t decode(const cell& c, const column_ref& col) {
        if (col.type != oids::timestamptz || c.size != 8) throw_type_error(col, {});
        return timestamptz_t(std::chrono::microseconds(unix_us_of(static_cast<std::int64_t>(get_be(c.data, 8)), col)));
    }
};

template <>
struct codec<timestamp_t> {
    static constexpr oid type = oids::timestamp, array_type = oids::timestamp_array;
    static constexpr std::string_view name = "std::chrono::local_time<std::chrono::microseconds>";
    static void encode(timestamp_t v, param& p) {
        p.bytes.clear();
        put_be(p.bytes, static_cast<std::uint64_t>(v.time_since_epoch().count() - pg_epoch_us), 8);
    }
    static timestamp_t decode(const cell& c, const column_ref& col) {
        if (col.type != oids::timestamp || c.size != 8) throw_type_error(col, {});
        return timestamp_t(std::chrono::microseconds(unix_us_of(static_cast<std::int64_t>(get_be(c.data, 8)), col)));
    }
};

template <>
struct codec<std::chrono::year_month_day> {
    static constexpr oid type = oids::date, array_type = oids::date_array;
    static constexpr std::string_view name = "std::chrono::year_month_day";
    static void encode(std::chrono::year_month_day v, param& p) {
        if (!v.ok()) throw std::invalid_argument("pg: the date is not valid");
        p.bytes.clear();
        const auto days = std::chrono::sys_days(v).time_since_epoch().count() - pg_epoch_days;
        put_be(p.bytes, static_cast<std::uint32_t>(static_cast<std::int32_t>(days)), 4);
    }
    static std::chrono::year_month_day decode(const cell& c, const column_ref& col) {
        if (col.type != oids::date || c.size != 4) throw_type_error(col, {});
        const auto days = static_cast<std::int32_t>(get_be(c.data, 4));
        if (days == std::numeric_limits<std::int32_t>::max() || days == std::numeric_limits<std::int32_t>::min())
            throw_type_error(col, "infinity has no year_month_day");
        // PostgreSQL's dates reach year 5874897; std::chrono::year stops at 32767.
        const std::int64_t unix_days = static_cast<std::int64_t>(days) + pg_epoch_days;
        constexpr std::int64_t first = std::chrono::sys_days(std::chrono::year(-32767) / 1 / 1).time_since_epoch().count();
        constexpr std::int64_t last = std::chrono::sys_days(std::chrono::year(32767) / 12 / 31).time_since_epoch().count();
        if (unix_days < first || unix_days > last) throw_type_error(col, "the date is beyond std::chrono::year's range");
        return std::chrono::year_month_day(std::chrono::sys_days(std::chrono::days(unix_days)));
    }
};

template <>
struct codec<std::chrono::microseconds> {
    static constexpr oid type = oids::interval, array_type = oids::interval_array;
    static constexpr std::string_view name = "std::chrono::microseconds";
    static void encode(std::chrono::microseconds v, param& p) {
        p.bytes.clear();
        put_be(p.bytes, static_cast<std::uint64_t>(v.count()), 8);  // time
        put_be(p.bytes, 0, 4);                                        // days
        put_be(p.bytes, 0, 4);                                        // months
    }
    static std::chrono::microseconds decode(const cell& c, const column_ref& col) {
        if (col.type != oids::interval || c.size != 16) throw_type_error(col, {});
        const auto us = static_cast<std::int64_t>(get_be(c.data, 8));
        const auto days = static_cast<std::int32_t>(get_be(c.data + 8, 4));
        const auto months = static_cast<std::int32_t>(get_be(c.data + 12, 4));
        // As asyncpg's timedelta: a month counts 30 days.
        const std::int64_t all_days = static_cast<std::int64_t>(days) + 30LL * months;
        std::int64_t day_us;
        std::int64_t out;
        if (__builtin_mul_overflow(all_days, 86'400'000'000LL, &day_us) || __builtin_add_overflow(us, day_us, &out))
            throw_type_error(col, "the interval is out of std::chrono::microseconds' range");
        return std::chrono::microseconds(out);
    }
};

template <class T>
struct codec<std::vector<T>> {
    using elem = codec<T>;
    static constexpr oid type = elem::array_type, array_type = 0;
    static constexpr std::string_view name = "std::vector<...>";
    static void encode(const std::vector<T>& v, param& p) {
        p.type = elem::array_type;
        p.format = 1;
        p.bytes.clear();
        put_be(p.bytes, 1, 4);  // one dimension
        bool any_null = false;
        if constexpr (is_optional<T>::value)
            for (const auto& e : v) any_null = any_null || !e;
        put_be(p.bytes, any_null ? 1 : 0, 4);
        put_be(p.bytes, elem::type, 4);
        put_be(p.bytes, v.size(), 4);
        put_be(p.bytes, 1, 4);  // lower bound
        param one;
        for (const auto& e : v) {
            one = param{};
            elem::encode(e, one);
            if (one.null) {
                put_be(p.bytes, 0xffffffffu, 4);
                continue;
            }
            put_be(p.bytes, one.bytes.size(), 4);
            p.bytes += one.bytes;
        }
    }
    static std::vector<T> decode(const cell& c, const column_ref& col) {
        if (c.size < 12) throw_type_error(col, {});
        const auto ndim = static_cast<std::int32_t>(get_be(c.data, 4));
        const auto elem_type = static_cast<oid>(get_be(c.data + 8, 4));
        std::vector<T> out;
        if (ndim == 0) return out;
        if (ndim != 1) throw_type_error(col, "a " + std::to_string(ndim) + "-dimensional array");
        if (c.size < 20) throw_type_error(col, "a truncated array");
        const auto n = static_cast<std::int32_t>(get_be(c.data + 12, 4));
        const char* p = c.data + 20;
        const char* end = c.data + c.size;
        // Each element takes at least its 4-byte length: a count the bytes
        // cannot hold is refused before anything is reserved for it.
        if (n < 0 || n > (end - p) / 4) throw_type_error(col, "an array of " + std::to_string(n) + " elements in " +
                                                                  std::to_string(c.size) + " bytes");
        out.reserve(static_cast<std::size_t>(n));
        const column_ref elem_col{col.name, elem_type, col.cpp};
        for (std::int32_t i = 0; i < n; ++i) {
            if (end - p < 4) throw_type_error(col, "a truncated array");
            const auto len = static_cast<std::int32_t>(get_be(p, 4));
            p += 4;
            cell e;
            if (len < 0) e.null = true;
            else {
                if (end - p < len) throw_type_error(col, "a truncated array");
                e.data = p;
                e.size = len;
                p += len;
            }
            out.push_back(decode_cell<T>(e, elem_col));
        }
        return out;
    }
    template <class U>
    static U decode_cell(const cell& e, const column_ref& elem_col);
};

template <class T>
struct codec<std::optional<T>> {
    static constexpr oid type = codec<T>::type, array_type = codec<T>::array_type;
    static constexpr std::string_view name = codec<T>::name;
    static void encode(const std::optional<T>& v, param& p) {
        if (!v) {
            p.null = true;
            p.type = codec<T>::type;
            if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view> ||
                          std::is_same_v<T, nlohmann::json>)
                p.type = 0;
            return;
        }
        codec<T>::encode(*v, p);
    }
};

template <>
struct codec<std::nullptr_t> {
    static constexpr oid type = 0, array_type = 0;
    static constexpr std::string_view name = "nullptr";
    static void encode(std::nullptr_t, param& p) {
        p.null = true;
        p.type = 0;
    }
};

/// One value from a cell: NULL only into std::optional.
template <class T>
T decode(const cell& c, const column_ref& col) {
    if constexpr (is_optional<T>::value) {
        if (c.null) return std::nullopt;
        return decode<typename T::value_type>(c, col);
    } else {
        if (c.null) throw_type_error(col, "the value is NULL (read it as std::optional)");
        return codec<T>::decode(c, col);
    }
}

template <class T>
template <class U>
U codec<std::vector<T>>::decode_cell(const cell& e, const column_ref& elem_col) {
    return detail::decode<U>(e, elem_col);  // qualified: the member decode would hide it
}

/// The C++ name of T for messages.
template <class T>
std::string cpp_name() {
    if constexpr (is_optional<T>::value) return "std::optional<" + cpp_name<typename T::value_type>() + ">";
    else if constexpr (requires { typename codec<T>::elem; } && !std::is_same_v<T, std::string>)
        return "std::vector<" + cpp_name<typename T::value_type>() + ">";
    else return std::string(codec<T>::name);
}

template <class T>
using param_codec = codec<std::remove_cvref_t<std::decay_t<T>>>;

/// Encodes one argument as a parameter.
template <class A>
param encode_param(const A& a) {
    param p;
    using C = param_codec<A>;
    p.type = C::type;
    p.format = 1;
    if constexpr (std::is_same_v<std::decay_t<A>, const char*> || std::is_same_v<std::decay_t<A>, char*>)
        C::encode(std::string_view(a), p);
    else if constexpr (std::is_array_v<A>)
        C::encode(std::string_view(a), p);
    else
        C::encode(a, p);
    return p;
}

/// Encoded arguments, or the exception encoding threw (rethrown when the
/// query is awaited, so a call never throws before its task runs).
struct encoded_params {
    std::vector<param> values;
    std::exception_ptr error;
};

template <class... A>
encoded_params encode_params(const A&... args) {
    encoded_params out;
    try {
        out.values.reserve(sizeof...(A));
        (out.values.push_back(encode_param(args)), ...);
    } catch (...) {
        out.error = std::current_exception();
    }
    return out;
}

}  // namespace detail
}  // namespace corio::pg
