// HTTP dates (RFC 9110 IMF-fixdate) for Date, Last-Modified and
// If-Modified-Since; the Date header's text is made once a second per thread.
#include <ctime>
#include <string>

#include "server_state.hpp"

namespace corio::web::detail {

std::string http_date(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[40];
    const std::size_t n = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(text, n);
}

std::string_view http_date_now() {
    thread_local std::time_t made_for = 0;
    thread_local std::string text;
    const std::time_t now = std::time(nullptr);
    if (now != made_for) {
        text = http_date(now);
        made_for = now;
    }
    return text;
}

std::optional<std::time_t> parse_http_date(std::string_view text) {
    std::tm tm{};
    const std::string copy(text);
    const char* end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == nullptr || *end != '\0') return std::nullopt;
    return timegm(&tm);
}

}  // namespace corio::web::detail
