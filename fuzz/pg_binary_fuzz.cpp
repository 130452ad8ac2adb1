// libFuzzer target: corio::pg's decoders of PostgreSQL's binary format (what
// a server, or whatever answers in its place, sends for each column): every
// scalar type of API.md section 12, numeric and uuid as text, json/jsonb,
// the date/time types, and one-dimensional arrays of them, NULLs included.
// A decoder may give a value or throw pg::type_error naming the column;
// anything else (another exception, a crash, a sanitizer report, an
// allocation the input's size does not justify) is a bug.
//
// Input: byte 0 picks the C++ type and the column's type (oid); the rest is
// the cell's bytes.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "corio/pg/errors.hpp"
#include "corio/pg/types.hpp"

namespace pg = corio::pg;
namespace d = corio::pg::detail;
namespace oids = corio::pg::oids;

namespace {

template <class T>
void decode(const pg::cell& c, pg::oid type) {
    const d::column_ref col{"c", type, "T"};
    try {
        (void)d::decode<T>(c, col);
    } catch (const pg::type_error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const pg::cell c{reinterpret_cast<const char*>(data + 1), static_cast<int>(size - 1), false};
    using tz = d::timestamptz_t;
    using local = d::timestamp_t;
    switch (data[0] % 32) {
        case 0: decode<bool>(c, oids::bool_); break;
        case 1: decode<std::int16_t>(c, oids::int2); break;
        case 2: decode<std::int32_t>(c, oids::int8); break;
        case 3: decode<std::uint16_t>(c, oids::int4); break;
        case 4: decode<std::int64_t>(c, oids::int8); break;
        case 5: decode<float>(c, oids::float8); break;
        case 6: decode<double>(c, oids::float4); break;
        case 7: decode<std::string>(c, oids::text); break;
        case 8: decode<std::string>(c, oids::numeric); break;
        case 9: decode<std::string>(c, oids::uuid); break;
        case 10: decode<std::string>(c, oids::jsonb); break;
        case 11: decode<std::vector<std::byte>>(c, oids::bytea); break;
        case 12: decode<nlohmann::json>(c, oids::jsonb); break;
        case 13: decode<nlohmann::json>(c, oids::json); break;
        case 14: decode<tz>(c, oids::timestamptz); break;
        case 15: decode<local>(c, oids::timestamp); break;
        case 16: decode<std::chrono::year_month_day>(c, oids::date); break;
        case 17: decode<std::chrono::microseconds>(c, oids::interval); break;
        case 18: decode<std::vector<std::int32_t>>(c, oids::int4_array); break;
        case 19: decode<std::vector<std::optional<std::int64_t>>>(c, oids::int8_array); break;
        case 20: decode<std::vector<std::string>>(c, oids::text_array); break;
        case 21: decode<std::vector<std::optional<std::string>>>(c, oids::numeric_array); break;
        case 22: decode<std::vector<std::string>>(c, oids::uuid_array); break;
        case 23: decode<std::vector<double>>(c, oids::float8_array); break;
        case 24: decode<std::vector<float>>(c, oids::float8_array); break;
        case 25: decode<std::vector<bool>>(c, oids::bool_array); break;
        case 26: decode<std::vector<nlohmann::json>>(c, oids::jsonb_array); break;
        case 27: decode<std::vector<tz>>(c, oids::timestamptz_array); break;
        case 28: decode<std::vector<std::chrono::year_month_day>>(c, oids::date_array); break;
        case 29: decode<std::vector<std::chrono::microseconds>>(c, oids::interval_array); break;
        case 30: decode<std::vector<std::vector<std::byte>>>(c, oids::bytea_array); break;
        default: decode<std::optional<std::int16_t>>(c, oids::int2); break;
    }
    return 0;
}
