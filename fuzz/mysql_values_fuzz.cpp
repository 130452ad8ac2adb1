// libFuzzer target: what corio::mysql parses itself. Connector/C speaks the
// protocol; the text of a value in a text-protocol row (integers, floating
// point, DATE, DATETIME, TIME) is parsed here, then converted by
// row::get<T>; and the `%s` placeholders of a query are rewritten to `?`.
// A value either converts or throws mysql::type_error (a parse of a value
// the server should never send: std::runtime_error naming the column);
// anything else (another exception, a crash, a sanitizer report) is a bug.
// The rewrite must keep its own invariants.
//
// Input: byte 0 picks the column's type (or, from 16 up, the placeholder
// rewrite); the rest is the value's text (or the SQL).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <mysql.h>
#include <nlohmann/json.hpp>

#include "corio/mysql/errors.hpp"
#include "corio/mysql/row.hpp"
#include "../src/mysql/placeholders.hpp"
#include "../src/mysql/result.hpp"

namespace mysql = corio::mysql;

namespace {

template <class T>
void get(const mysql::row& r) {
    try {
        (void)r.get<T>(0);
    } catch (const mysql::type_error&) {
    }
}

void check_rewrite(std::string_view sql) {
    const auto out = mysql::detail::rewrite_placeholders(sql);
    if (out.sql.size() > sql.size()) std::abort();  // %s -> ? and %% -> % only shrink
    if (out.values_open != std::string::npos &&
        (out.values_close == std::string::npos || out.values_close <= out.values_open || out.values_close > out.sql.size()))
        std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const char* text = reinterpret_cast<const char*>(data + 1);
    const std::size_t n = size - 1;
    if (data[0] >= 16) {
        check_rewrite(std::string_view(text, n));
        return 0;
    }
    static constexpr enum_field_types types[] = {
        MYSQL_TYPE_LONGLONG, MYSQL_TYPE_LONGLONG, MYSQL_TYPE_DOUBLE, MYSQL_TYPE_DATE,
        MYSQL_TYPE_DATETIME, MYSQL_TYPE_TIME, MYSQL_TYPE_NEWDECIMAL, MYSQL_TYPE_JSON,
        MYSQL_TYPE_TIMESTAMP, MYSQL_TYPE_TINY, MYSQL_TYPE_FLOAT, MYSQL_TYPE_BLOB,
        MYSQL_TYPE_VAR_STRING, MYSQL_TYPE_YEAR, MYSQL_TYPE_BIT, MYSQL_TYPE_NEWDATE};
    MYSQL_FIELD f{};
    char name[] = "c";
    f.name = name;
    f.name_length = 1;
    f.org_name = name;
    f.table = name;
    f.org_table = name;
    f.db = name;
    f.catalog = name;
    f.def = name;
    f.type = types[data[0] % 16];
    if (data[0] == 1) f.flags |= UNSIGNED_FLAG;
    if (data[0] == 11) f.charsetnr = 63;  // binary
    const auto shape = mysql::detail::describe(&f, 1);
    mysql::value v;
    try {
        v = mysql::detail::text_cell(shape.kinds[0], f, text, static_cast<unsigned long>(n));
    } catch (const mysql::type_error&) {
        return 0;
    } catch (const std::runtime_error&) {
        return 0;  // "the server sent 'x' for the BIGINT column 'c'"
    }
    const mysql::row r(shape.columns, std::vector<mysql::value>{std::move(v)});
    get<std::int64_t>(r);
    get<std::uint64_t>(r);
    get<std::int8_t>(r);
    get<double>(r);
    get<float>(r);
    get<bool>(r);
    get<std::string>(r);
    get<std::vector<std::byte>>(r);
    get<std::chrono::year_month_day>(r);
    get<std::chrono::local_time<std::chrono::microseconds>>(r);
    get<std::chrono::microseconds>(r);
    get<nlohmann::json>(r);
    get<std::optional<std::int32_t>>(r);
    return 0;
}
