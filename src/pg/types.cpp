// src/pg/types.cpp: type names for messages, type_error, record's
// out-of-line members, and numeric/uuid binary values as their text.
#include <cstdint>
#include <string>

#include <corio/pg/record.hpp>
#include <corio/pg/types.hpp>

namespace corio::pg {

std::string type_name(oid type) {
    switch (type) {
        case oids::bool_: return "bool";
        case oids::bytea: return "bytea";
        case oids::char_: return "char";
        case oids::name: return "name";
        case oids::int8: return "int8";
        case oids::int2: return "int2";
        case oids::int4: return "int4";
        case oids::text: return "text";
        case oids::oid_: return "oid";
        case oids::json: return "json";
        case oids::xml: return "xml";
        case oids::float4: return "float4";
        case oids::float8: return "float8";
        case oids::unknown: return "unknown";
        case oids::bpchar: return "bpchar";
        case oids::varchar: return "varchar";
        case oids::date: return "date";
        case oids::time: return "time";
        case oids::timestamp: return "timestamp";
        case oids::timestamptz: return "timestamptz";
        case oids::interval: return "interval";
        case oids::numeric: return "numeric";
        case oids::uuid: return "uuid";
        case oids::jsonb: return "jsonb";
        case oids::void_: return "void";
        case oids::bool_array: return "bool[]";
        case oids::bytea_array: return "bytea[]";
        case oids::int2_array: return "int2[]";
        case oids::int4_array: return "int4[]";
        case oids::int8_array: return "int8[]";
        case oids::text_array: return "text[]";
        case oids::varchar_array: return "varchar[]";
        case oids::float4_array: return "float4[]";
        case oids::float8_array: return "float8[]";
        case oids::timestamp_array: return "timestamp[]";
        case oids::timestamptz_array: return "timestamptz[]";
        case oids::date_array: return "date[]";
        case oids::interval_array: return "interval[]";
        case oids::numeric_array: return "numeric[]";
        case oids::uuid_array: return "uuid[]";
        case oids::json_array: return "json[]";
        case oids::jsonb_array: return "jsonb[]";
        default: return "oid " + std::to_string(type);
    }
}

namespace detail {

void throw_type_error(const column_ref& col, std::string_view reason) {
    std::string what = "pg::record::get<" + std::string(col.cpp) + "> column '" + std::string(col.name) + "': ";
    if (reason.empty()) what += "the column is " + type_name(col.type);
    else what += std::string(reason) + " (the column is " + type_name(col.type) + ")";
    throw type_error(what);
}

std::string uuid_to_text(const char* p, int n, const column_ref& col) {
    if (n != 16) throw_type_error(col, "a uuid of " + std::to_string(n) + " bytes");
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        const auto b = static_cast<unsigned char>(p[i]);
        out.push_back(hex[b >> 4]);
        out.push_back(hex[b & 15]);
    }
    return out;
}

// numeric's binary form: ndigits, weight, sign, dscale (int16 each), then
// ndigits base-10000 digits; the first digit's weight is `weight` (10000^weight).
std::string numeric_to_text(const char* p, int n, const column_ref& col) {
    if (n < 8) throw_type_error(col, "a truncated numeric");
    const auto ndigits = static_cast<std::int16_t>(get_be(p, 2));
    const auto weight = static_cast<std::int16_t>(get_be(p + 2, 2));
    const auto sign = static_cast<std::uint16_t>(get_be(p + 4, 2));
    const auto dscale = static_cast<std::int16_t>(get_be(p + 6, 2));
    if (n < 8 + 2 * ndigits || ndigits < 0) throw_type_error(col, "a truncated numeric");
    if (sign == 0xC000) return "NaN";
    if (sign == 0xD000) return "Infinity";
    if (sign == 0xF000) return "-Infinity";
    if (sign != 0 && sign != 0x4000) throw_type_error(col, "a numeric with the sign word " + std::to_string(sign));
    for (int i = 0; i < ndigits; ++i) {
        const auto d = static_cast<std::int16_t>(get_be(p + 8 + 2 * i, 2));
        if (d < 0 || d > 9999) throw_type_error(col, "a numeric digit " + std::to_string(d) + " (base 10000)");
    }
    auto digit = [&](int i) -> int {
        if (i < 0 || i >= ndigits) return 0;
        return static_cast<int>(static_cast<std::int16_t>(get_be(p + 8 + 2 * i, 2)));
    };
    std::string out;
    if (sign == 0x4000) out.push_back('-');
    // Integer part: digits 0..weight.
    if (weight < 0) {
        out.push_back('0');
    } else {
        for (int i = 0; i <= weight; ++i) {
            const int d = digit(i);
            std::string s = std::to_string(d);
            if (i > 0) s.insert(0, 4 - s.size(), '0');
            out += s;
        }
    }
    if (dscale > 0) {
        out.push_back('.');
        std::string frac;
        for (int i = weight + 1; static_cast<int>(frac.size()) < dscale; ++i) {
            std::string s = std::to_string(digit(i));
            s.insert(0, 4 - s.size(), '0');
            frac += s;
        }
        frac.resize(static_cast<std::size_t>(dscale));
        out += frac;
    }
    return out;
}

}  // namespace detail

std::vector<std::string> record::names() const {
    std::vector<std::string> out;
    const std::size_t n = size();
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.push_back(detail::result_column_name(*result_, i));
    return out;
}

std::size_t record::index_of(std::string_view name) const {
    const std::size_t n = size();
    for (std::size_t i = 0; i < n; ++i)
        if (detail::result_column_name(*result_, i) == name) return i;
    throw interface_error("pg::record: no column named '" + std::string(name) + "'");
}

cell record::cell_at(std::size_t column, const char* operation) const {
    if (column >= size())
        throw interface_error("pg::record::" + std::string(operation) + ": column " + std::to_string(column) +
                              " is out of range (the record has " + std::to_string(size()) + ")");
    return detail::result_cell(*result_, row_, column);
}

void record::throw_width(std::size_t wanted) const {
    throw type_error("pg::record::as: a tuple of " + std::to_string(wanted) + " for a record of " +
                     std::to_string(size()) + " columns");
}

}  // namespace corio::pg
