// src/mysql/row.cpp: row::get<T>'s conversions and their type_error messages
// ("mysql::row::get<int> column 'name': the column is a string (VARCHAR)").
#include <cmath>
#include <stdexcept>
#include <string>

#include <corio/mysql/errors.hpp>
#include <corio/mysql/row.hpp>

namespace corio::mysql {

namespace {
const char* kind_word(const value& v) {
    switch (v.index()) {
    case 0: return "NULL";
    case 1:
    case 2: return "an integer";
    case 3: return "a floating-point number";
    case 4: return "a string";
    case 5: return "bytes";
    default: {
        const auto& d = std::get<date_time>(v);
        return d.type == date_time::kind::date ? "a date" : d.type == date_time::kind::time ? "a time" : "a datetime";
    }
    }
}
}  // namespace

const std::vector<column>& row::columns() const {
    static const std::vector<column> none;
    return columns_ ? *columns_ : none;
}

const value& row::at(std::size_t index) const {
    if (index >= values_.size())
        throw std::out_of_range("mysql::row::get: column index " + std::to_string(index) + " is out of range (the row has " +
                                std::to_string(values_.size()) + " columns)");
    return values_[index];
}

std::size_t row::index_of(std::string_view name) const {
    const auto& cols = columns();
    for (std::size_t i = 0; i < cols.size(); ++i)
        if (cols[i].name == name) return i;
    std::string known;
    for (const auto& c : cols) known += (known.empty() ? "'" : ", '") + c.name + "'";
    throw type_error("mysql::row::get: no column named '" + std::string(name) + "' (the columns are " +
                     (known.empty() ? std::string("none") : known) + ")");
}

void row::mismatch(std::size_t index, const char* cpp) const {
    const value& v = values_[index];
    std::string name = index < columns().size() ? columns()[index].name : std::to_string(index);
    std::string text = std::string("mysql::row::get<") + cpp + "> column '" + name + "': ";
    if (std::holds_alternative<std::monostate>(v)) {
        text += "the value is NULL (read it as std::optional<" + std::string(cpp) + ">)";
    } else {
        text += std::string("the column is ") + kind_word(v);
        if (index < columns().size()) text += " (" + columns()[index].type_name + ")";
    }
    throw type_error(text);
}

void row::out_of_range(std::size_t index, const char* cpp) const {
    std::string name = index < columns().size() ? columns()[index].name : std::to_string(index);
    std::string shown;
    if (auto* s = std::get_if<std::int64_t>(&values_[index])) shown = std::to_string(*s);
    if (auto* u = std::get_if<std::uint64_t>(&values_[index])) shown = std::to_string(*u);
    throw type_error(std::string("mysql::row::get<") + cpp + "> column '" + name + "': the value " + shown +
                     " does not fit");
}

std::int64_t row::signed_integer(std::size_t index, const value& v, const char* cpp) const {
    if (auto* s = std::get_if<std::int64_t>(&v)) return *s;
    if (auto* u = std::get_if<std::uint64_t>(&v)) {
        if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) out_of_range(index, cpp);
        return static_cast<std::int64_t>(*u);
    }
    mismatch(index, cpp);
}

std::uint64_t row::unsigned_integer(std::size_t index, const value& v, const char* cpp) const {
    if (auto* u = std::get_if<std::uint64_t>(&v)) return *u;
    if (auto* s = std::get_if<std::int64_t>(&v)) {
        if (*s < 0) out_of_range(index, cpp);
        return static_cast<std::uint64_t>(*s);
    }
    mismatch(index, cpp);
}

double row::floating(std::size_t index, const value& v, const char* cpp) const {
    if (auto* d = std::get_if<double>(&v)) return *d;
    if (auto* s = std::get_if<std::int64_t>(&v)) return static_cast<double>(*s);
    if (auto* u = std::get_if<std::uint64_t>(&v)) return static_cast<double>(*u);
    mismatch(index, cpp);
}

std::string row::text(std::size_t index, const value& v) const {
    if (auto* s = std::get_if<std::string>(&v)) return *s;
    if (auto* b = std::get_if<std::vector<std::byte>>(&v))
        return std::string(reinterpret_cast<const char*>(b->data()), b->size());
    mismatch(index, "std::string");
}

std::vector<std::byte> row::bytes(std::size_t index, const value& v) const {
    if (auto* b = std::get_if<std::vector<std::byte>>(&v)) return *b;
    if (auto* s = std::get_if<std::string>(&v)) {
        const auto* p = reinterpret_cast<const std::byte*>(s->data());
        return std::vector<std::byte>(p, p + s->size());
    }
    mismatch(index, "std::vector<std::byte>");
}

static std::string shown_date(const date_time& d) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", d.year, d.month, d.day);
    return buf;
}

// A time of day (max_hour 23) or a TIME (MariaDB's range: 838 hours) whose
// fields are in range; what no server sends is a type_error, never an
// overflowing sum.
static void check_clock(const row& r, std::size_t index, const date_time& d, const char* cpp, unsigned max_hour) {
    if (d.hour <= max_hour && d.minute <= 59 && d.second <= 59 && d.microsecond <= 999'999) return;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%u:%02u:%02u.%06u", d.hour, d.minute, d.second, d.microsecond);
    std::string name = index < r.columns().size() ? r.columns()[index].name : std::to_string(index);
    throw type_error(std::string("mysql::row::get<") + cpp + "> column '" + name + "': " + buf +
                     " is not a valid " + (max_hour == 23 ? "time of day" : "TIME"));
}

std::chrono::year_month_day row::date(std::size_t index, const value& v) const {
    constexpr const char* cpp = "std::chrono::year_month_day";
    auto* d = std::get_if<date_time>(&v);
    if (d == nullptr || d->type == date_time::kind::time) mismatch(index, cpp);
    const std::chrono::year_month_day ymd{std::chrono::year(d->year), std::chrono::month(d->month),
                                          std::chrono::day(d->day)};
    if (d->year < 0 || d->year > 9999 || !ymd.ok()) {  // MySQL's years: 0 to 9999
        std::string name = index < columns().size() ? columns()[index].name : std::to_string(index);
        throw type_error(std::string("mysql::row::get<") + cpp + "> column '" + name + "': " + shown_date(*d) +
                         " is not a valid date");
    }
    return ymd;
}

std::chrono::local_time<std::chrono::microseconds> row::datetime(std::size_t index, const value& v) const {
    constexpr const char* cpp = "std::chrono::local_time<std::chrono::microseconds>";
    auto* d = std::get_if<date_time>(&v);
    if (d == nullptr || d->type == date_time::kind::time) mismatch(index, cpp);
    const std::chrono::year_month_day ymd{std::chrono::year(d->year), std::chrono::month(d->month),
                                          std::chrono::day(d->day)};
    if (d->year < 0 || d->year > 9999 || !ymd.ok()) {  // MySQL's years: 0 to 9999
        std::string name = index < columns().size() ? columns()[index].name : std::to_string(index);
        throw type_error(std::string("mysql::row::get<") + cpp + "> column '" + name + "': " + shown_date(*d) +
                         " is not a valid date");
    }
    check_clock(*this, index, *d, cpp, 23);
    using namespace std::chrono;
    return local_days(ymd) + hours(d->hour) + minutes(d->minute) + seconds(d->second) + microseconds(d->microsecond);
}

std::chrono::microseconds row::time(std::size_t index, const value& v) const {
    auto* d = std::get_if<date_time>(&v);
    if (d == nullptr || d->type != date_time::kind::time) mismatch(index, "std::chrono::microseconds");
    check_clock(*this, index, *d, "std::chrono::microseconds", 838);
    using namespace std::chrono;
    const microseconds t = hours(d->hour) + minutes(d->minute) + seconds(d->second) + microseconds(d->microsecond);
    return d->negative ? -t : t;
}

nlohmann::json row::json(std::size_t index, const value& v) const {
    const std::string* s = std::get_if<std::string>(&v);
    std::string from_bytes;
    if (s == nullptr) {
        if (!std::holds_alternative<std::vector<std::byte>>(v)) mismatch(index, "nlohmann::json");
        from_bytes = text(index, v);
        s = &from_bytes;
    }
    try {
        return nlohmann::json::parse(*s);
    } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number too big
        std::string name = index < columns().size() ? columns()[index].name : std::to_string(index);
        throw type_error("mysql::row::get<nlohmann::json> column '" + name + "': the value is not JSON: " + e.what());
    }
}

}  // namespace corio::mysql
