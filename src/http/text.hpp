// Private to src/http: the small text helpers the HTTP layer and the client
// share: ASCII lower case, trimming optional whitespace (RFC 9110's OWS), and
// showing untrusted bytes inside an error message safely.
#pragma once

#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>

namespace corio::http::detail {

inline std::string lower_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

inline std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// At most `max` bytes of `s` for an error message, control bytes as \xNN
/// (a peer's bytes must not reach a log as a line break or an escape
/// sequence), "..." when cut. `quote`: inside double quotes, with '"', '\'
/// and non-ASCII bytes escaped too.
inline std::string shown_in_message(std::string_view s, std::size_t max, bool quote) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    if (quote) out += '"';
    for (char c : s.substr(0, max)) {
        const unsigned char u = static_cast<unsigned char>(c);
        const bool escape = u < 0x20 || u == 0x7f || (quote && (u >= 0x80 || c == '"' || c == '\\'));
        if (escape) {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    if (s.size() > max) out += "...";
    if (quote) out += '"';
    return out;
}

}  // namespace corio::http::detail
