// src/mysql/result.cpp: see result.hpp.
#include "result.hpp"

#include <charconv>
#include <cstring>
#include <stdexcept>

namespace corio::mysql::detail {

namespace {

constexpr unsigned binary_charset = 63;

bool is_string_type(enum_field_types t) {
    switch (t) {
    case MYSQL_TYPE_STRING:
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB:
        return true;
    default:
        return false;
    }
}

std::string type_name(const MYSQL_FIELD& f) {
    const bool binary = f.charsetnr == binary_charset;
    std::string name;
    switch (f.type) {
    case MYSQL_TYPE_TINY: name = "TINYINT"; break;
    case MYSQL_TYPE_SHORT: name = "SMALLINT"; break;
    case MYSQL_TYPE_INT24: name = "MEDIUMINT"; break;
    case MYSQL_TYPE_LONG: name = "INT"; break;
    case MYSQL_TYPE_LONGLONG: name = "BIGINT"; break;
    case MYSQL_TYPE_YEAR: name = "YEAR"; break;
    case MYSQL_TYPE_FLOAT: name = "FLOAT"; break;
    case MYSQL_TYPE_DOUBLE: name = "DOUBLE"; break;
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL: name = "DECIMAL"; break;
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE: name = "DATE"; break;
    case MYSQL_TYPE_DATETIME: name = "DATETIME"; break;
    case MYSQL_TYPE_TIMESTAMP: name = "TIMESTAMP"; break;
    case MYSQL_TYPE_TIME: name = "TIME"; break;
    case MYSQL_TYPE_BIT: name = "BIT"; break;
    case MYSQL_TYPE_JSON: name = "JSON"; break;
    case MYSQL_TYPE_GEOMETRY: name = "GEOMETRY"; break;
    case MYSQL_TYPE_NULL: name = "NULL"; break;
    case MYSQL_TYPE_ENUM: name = "ENUM"; break;
    case MYSQL_TYPE_SET: name = "SET"; break;
    case MYSQL_TYPE_STRING:
        name = (f.flags & ENUM_FLAG) ? "ENUM" : (f.flags & SET_FLAG) ? "SET" : binary ? "BINARY" : "CHAR";
        break;
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_VARCHAR: name = binary ? "VARBINARY" : "VARCHAR"; break;
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB: name = binary ? "BLOB" : "TEXT"; break;
    default: name = "type " + std::to_string(static_cast<int>(f.type)); break;
    }
    if ((f.flags & UNSIGNED_FLAG) && f.type != MYSQL_TYPE_YEAR && !is_string_type(f.type) && f.type != MYSQL_TYPE_BIT)
        name += " UNSIGNED";
    return name;
}

cell_kind kind_of(const MYSQL_FIELD& f) {
    switch (f.type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_YEAR:
        return (f.flags & UNSIGNED_FLAG) && f.type != MYSQL_TYPE_YEAR ? cell_kind::unsigned_integer
                                                                      : cell_kind::signed_integer;
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
        return cell_kind::floating;
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE:
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP:
    case MYSQL_TYPE_TIME:
        return cell_kind::temporal;
    case MYSQL_TYPE_BIT:
    case MYSQL_TYPE_GEOMETRY:
        return cell_kind::bytes;
    default:
        return is_string_type(f.type) && f.charsetnr == binary_charset ? cell_kind::bytes : cell_kind::text;
    }
}

date_time::kind temporal_kind(enum_field_types t) {
    if (t == MYSQL_TYPE_DATE || t == MYSQL_TYPE_NEWDATE) return date_time::kind::date;
    if (t == MYSQL_TYPE_TIME) return date_time::kind::time;
    return date_time::kind::datetime;
}

template <class T>
T parse_number(const char* p, const char* end, const MYSQL_FIELD& f) {
    T v{};
    auto [ptr, ec] = std::from_chars(p, end, v);
    if (ec != std::errc() || ptr != end)
        throw std::runtime_error("mysql: the server sent '" + std::string(p, end) + "' for the " + type_name(f) +
                                 " column '" + f.name + "'");
    return v;
}

// "YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS[.ffffff]", "[-]HHH:MM:SS[.ffffff]".
date_time parse_temporal(date_time::kind kind, const char* p, const char* end) {
    date_time d;
    d.type = kind;
    auto number = [&](unsigned& out) {
        unsigned v = 0;
        while (p < end && *p >= '0' && *p <= '9') v = v * 10 + unsigned(*p++ - '0');
        out = v;
        if (p < end && (*p == '-' || *p == ':' || *p == ' ' || *p == 'T')) ++p;
    };
    auto fraction = [&] {
        if (p < end && *p == '.') {
            ++p;
            unsigned v = 0, digits = 0;
            while (p < end && *p >= '0' && *p <= '9' && digits < 6) {
                v = v * 10 + unsigned(*p++ - '0');
                ++digits;
            }
            while (digits++ < 6) v *= 10;
            d.microsecond = v;
        }
    };
    if (kind == date_time::kind::time) {
        if (p < end && *p == '-') {
            d.negative = true;
            ++p;
        }
        number(d.hour);
        number(d.minute);
        number(d.second);
        fraction();
        return d;
    }
    unsigned year = 0;
    number(year);
    d.year = int(year);
    number(d.month);
    number(d.day);
    if (kind == date_time::kind::datetime) {
        number(d.hour);
        number(d.minute);
        number(d.second);
        fraction();
    }
    return d;
}

date_time from_mysql_time(const MYSQL_TIME& t, enum_field_types type) {
    date_time d;
    d.type = temporal_kind(type);
    d.negative = t.neg != 0;
    d.year = int(t.year);
    d.month = t.month;
    d.day = t.day;
    d.hour = t.hour;
    d.minute = t.minute;
    d.second = t.second;
    d.microsecond = unsigned(t.second_part);
    return d;
}

}  // namespace

result_shape describe(const MYSQL_FIELD* fields, unsigned count) {
    auto columns = std::make_shared<std::vector<column>>();
    result_shape shape;
    columns->reserve(count);
    shape.kinds.reserve(count);
    for (unsigned i = 0; i < count; ++i) {
        const MYSQL_FIELD& f = fields[i];
        column c;
        c.name.assign(f.name, f.name_length);
        c.table.assign(f.table, f.table_length);
        c.type_code = static_cast<unsigned>(f.type);
        c.type_name = type_name(f);
        c.display_size = f.length;
        c.decimals = f.decimals;
        c.nullable = (f.flags & NOT_NULL_FLAG) == 0;
        c.is_unsigned = (f.flags & UNSIGNED_FLAG) != 0;
        c.is_binary = f.charsetnr == binary_charset && (is_string_type(f.type) || f.type == MYSQL_TYPE_BIT);
        columns->push_back(std::move(c));
        shape.kinds.push_back(kind_of(f));
    }
    shape.columns = std::move(columns);
    return shape;
}

value text_cell(cell_kind kind, const MYSQL_FIELD& field, const char* data, unsigned long length) {
    if (data == nullptr) return std::monostate{};
    const char* end = data + length;
    switch (kind) {
    case cell_kind::signed_integer: return parse_number<std::int64_t>(data, end, field);
    case cell_kind::unsigned_integer: return parse_number<std::uint64_t>(data, end, field);
    case cell_kind::floating: return parse_number<double>(data, end, field);
    case cell_kind::temporal: return parse_temporal(temporal_kind(field.type), data, end);
    case cell_kind::bytes: {
        std::vector<std::byte> b(length);
        if (length) std::memcpy(b.data(), data, length);
        return b;
    }
    case cell_kind::text: break;
    }
    return std::string(data, length);
}

result_binding::result_binding(const result_shape& shape) {
    const std::size_t n = shape.kinds.size();
    binds_.assign(n, MYSQL_BIND{});
    lengths_.assign(n, 0);
    nulls_.assign(n, 0);
    errors_.assign(n, 0);
    ints_.assign(n, 0);
    doubles_.assign(n, 0);
    times_.assign(n, MYSQL_TIME{});
    buffers_.assign(n, std::string());
    for (std::size_t i = 0; i < n; ++i) {
        MYSQL_BIND& b = binds_[i];
        b.length = &lengths_[i];
        b.is_null = &nulls_[i];
        b.error = &errors_[i];
        const column& c = (*shape.columns)[i];
        switch (shape.kinds[i]) {
        case cell_kind::signed_integer:
        case cell_kind::unsigned_integer:
            b.buffer_type = MYSQL_TYPE_LONGLONG;
            b.buffer = &ints_[i];
            b.is_unsigned = shape.kinds[i] == cell_kind::unsigned_integer;
            break;
        case cell_kind::floating:
            b.buffer_type = MYSQL_TYPE_DOUBLE;
            b.buffer = &doubles_[i];
            break;
        case cell_kind::temporal:
            b.buffer_type = static_cast<enum_field_types>(c.type_code);
            b.buffer = &times_[i];
            break;
        case cell_kind::text:
        case cell_kind::bytes:
            // Most values fit here; a longer one is re-read at its length.
            buffers_[i].resize(c.display_size > 0 && c.display_size < 256 ? c.display_size + 1 : 256);
            b.buffer_type = shape.kinds[i] == cell_kind::bytes ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
            b.buffer = buffers_[i].data();
            b.buffer_length = buffers_[i].size();
            break;
        }
    }
}

row result_binding::take_row(MYSQL_STMT* stmt, const result_shape& shape) {
    const std::size_t n = binds_.size();
    std::vector<value> values;
    values.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (nulls_[i]) {
            values.emplace_back(std::monostate{});
            continue;
        }
        switch (shape.kinds[i]) {
        case cell_kind::signed_integer: values.emplace_back(std::int64_t(ints_[i])); break;
        case cell_kind::unsigned_integer: values.emplace_back(std::uint64_t(ints_[i])); break;
        case cell_kind::floating: values.emplace_back(doubles_[i]); break;
        case cell_kind::temporal:
            values.emplace_back(from_mysql_time(times_[i], static_cast<enum_field_types>((*shape.columns)[i].type_code)));
            break;
        case cell_kind::text:
        case cell_kind::bytes: {
            const unsigned long length = lengths_[i];
            std::string data;
            if (length > binds_[i].buffer_length) {
                data.resize(length);
                MYSQL_BIND whole{};
                unsigned long got = 0;
                whole.buffer_type = binds_[i].buffer_type;
                whole.buffer = data.data();
                whole.buffer_length = length;
                whole.length = &got;
                if (mysql_stmt_fetch_column(stmt, &whole, static_cast<unsigned>(i), 0) != 0)
                    throw std::runtime_error("mysql: reading column '" + (*shape.columns)[i].name + "' failed: " +
                                             mysql_stmt_error(stmt));
            } else {
                data.assign(buffers_[i].data(), length);
            }
            if (shape.kinds[i] == cell_kind::text) {
                values.emplace_back(std::move(data));
            } else {
                std::vector<std::byte> b(data.size());
                if (!data.empty()) std::memcpy(b.data(), data.data(), data.size());
                values.emplace_back(std::move(b));
            }
            break;
        }
        }
    }
    return row(shape.columns, std::move(values));
}

param_binding::param_binding(const std::vector<value>& args) {
    const std::size_t n = args.size();
    binds_.assign(n, MYSQL_BIND{});
    lengths_.assign(n, 0);
    times_.assign(n, MYSQL_TIME{});
    for (std::size_t i = 0; i < n; ++i) {
        MYSQL_BIND& b = binds_[i];
        const value& v = args[i];
        if (std::holds_alternative<std::monostate>(v)) {
            b.buffer_type = MYSQL_TYPE_NULL;
        } else if (auto* s = std::get_if<std::int64_t>(&v)) {
            b.buffer_type = MYSQL_TYPE_LONGLONG;
            b.buffer = const_cast<std::int64_t*>(s);
        } else if (auto* u = std::get_if<std::uint64_t>(&v)) {
            b.buffer_type = MYSQL_TYPE_LONGLONG;
            b.buffer = const_cast<std::uint64_t*>(u);
            b.is_unsigned = 1;
        } else if (auto* d = std::get_if<double>(&v)) {
            b.buffer_type = MYSQL_TYPE_DOUBLE;
            b.buffer = const_cast<double*>(d);
        } else if (auto* str = std::get_if<std::string>(&v)) {
            b.buffer_type = MYSQL_TYPE_STRING;
            b.buffer = const_cast<char*>(str->data());
            lengths_[i] = str->size();
            b.buffer_length = str->size();
            b.length = &lengths_[i];
        } else if (auto* bytes = std::get_if<std::vector<std::byte>>(&v)) {
            b.buffer_type = MYSQL_TYPE_BLOB;
            static char empty = 0;
            b.buffer = bytes->empty() ? &empty : reinterpret_cast<char*>(const_cast<std::byte*>(bytes->data()));
            lengths_[i] = bytes->size();
            b.buffer_length = bytes->size();
            b.length = &lengths_[i];
        } else if (auto* t = std::get_if<date_time>(&v)) {
            MYSQL_TIME& m = times_[i];
            m.year = unsigned(t->year);
            m.month = t->month;
            m.day = t->day;
            m.hour = t->hour;
            m.minute = t->minute;
            m.second = t->second;
            m.second_part = t->microsecond;
            m.neg = t->negative;
            switch (t->type) {
            case date_time::kind::date:
                m.time_type = MYSQL_TIMESTAMP_DATE;
                b.buffer_type = MYSQL_TYPE_DATE;
                break;
            case date_time::kind::time:
                m.time_type = MYSQL_TIMESTAMP_TIME;
                b.buffer_type = MYSQL_TYPE_TIME;
                break;
            case date_time::kind::datetime:
                m.time_type = MYSQL_TIMESTAMP_DATETIME;
                b.buffer_type = MYSQL_TYPE_DATETIME;
                break;
            }
            b.buffer = &m;
        }
    }
}

}  // namespace corio::mysql::detail
