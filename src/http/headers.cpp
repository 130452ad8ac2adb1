// corio::http::headers (include/corio/http/headers.hpp): validation on the way
// in, so that serializing a message never needs to look at a field again.
#include "corio/http/headers.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace corio::http {
namespace {

unsigned char lower(unsigned char c) noexcept { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

// RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-"
// / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
bool is_tchar(unsigned char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

void check_field(const char* operation, std::string_view name, std::string_view value) {
    if (!is_token(name)) {
        throw std::invalid_argument(std::string(operation) + " '" + std::string(name) +
                                    "': not a valid header name (a token of letters, digits and !#$%&'*+-.^_`|~)");
    }
    // CR or LF would end the field early and start a line of the caller's
    // choosing (header injection); NUL is cut short by many peers.
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
        throw std::invalid_argument(std::string(operation) + " '" + std::string(name) +
                                    "': the value holds a CR, LF or NUL byte (header injection)");
    }
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(static_cast<unsigned char>(a[i])) != lower(static_cast<unsigned char>(b[i]))) return false;
    }
    return true;
}

bool is_token(std::string_view name) noexcept {
    if (name.empty()) return false;
    return std::all_of(name.begin(), name.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

headers::headers(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
    fields_.reserve(fields.size());
    for (const auto& [name, value] : fields) add(name, value);
}

headers::headers(const std::vector<std::pair<std::string, std::string>>& fields) {
    fields_.reserve(fields.size());
    for (const auto& [name, value] : fields) add(name, value);
}

headers& headers::add(std::string_view name, std::string_view value) {
    check_field("http::headers::add", name, value);
    fields_.emplace_back(std::string(name), std::string(value));
    return *this;
}

headers& headers::set(std::string_view name, std::string_view value) {
    check_field("http::headers::set", name, value);
    auto first = std::find_if(fields_.begin(), fields_.end(), [&](const field& f) { return iequals(f.first, name); });
    if (first == fields_.end()) {
        fields_.emplace_back(std::string(name), std::string(value));
        return *this;
    }
    first->first.assign(name);
    first->second.assign(value);
    fields_.erase(std::remove_if(first + 1, fields_.end(), [&](const field& f) { return iequals(f.first, name); }),
                  fields_.end());
    return *this;
}

std::size_t headers::remove(std::string_view name) {
    auto before = fields_.size();
    fields_.erase(
        std::remove_if(fields_.begin(), fields_.end(), [&](const field& f) { return iequals(f.first, name); }),
        fields_.end());
    return before - fields_.size();
}

std::optional<std::string_view> headers::get(std::string_view name) const noexcept {
    for (const auto& f : fields_) {
        if (iequals(f.first, name)) return std::string_view(f.second);
    }
    return std::nullopt;
}

std::vector<std::string_view> headers::get_all(std::string_view name) const {
    std::vector<std::string_view> values;
    for (const auto& f : fields_) {
        if (iequals(f.first, name)) values.emplace_back(f.second);
    }
    return values;
}

bool headers::contains(std::string_view name) const noexcept { return get(name).has_value(); }

std::size_t headers::count(std::string_view name) const noexcept {
    return static_cast<std::size_t>(
        std::count_if(fields_.begin(), fields_.end(), [&](const field& f) { return iequals(f.first, name); }));
}

bool operator==(const headers& a, const headers& b) noexcept {
    return std::equal(a.fields_.begin(), a.fields_.end(), b.fields_.begin(), b.fields_.end(),
                      [](const headers::field& x, const headers::field& y) {
                          return iequals(x.first, y.first) && x.second == y.second;
                      });
}

}  // namespace corio::http
