// RFC 6265 storage and retrieval (corio/http/cookie_jar.hpp).
#include <corio/http/cookie_jar.hpp>
#include <corio/http/headers.hpp>

#include "text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace corio::http {

namespace {

using detail::trim_ows;


bool is_ip_literal(std::string_view host) {
    if (host.find(':') != std::string_view::npos) return true;  // IPv6
    return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; });
}

// Section 5.1.3: `host` domain-matches `domain`.
bool domain_match(std::string_view host, std::string_view domain) {
    if (host == domain) return true;
    if (is_ip_literal(host)) return false;
    return host.size() > domain.size() && host.ends_with(domain) && host[host.size() - domain.size() - 1] == '.';
}

// Section 5.1.4: the default path is the request path's directory.
std::string default_path(std::string_view request_path) {
    if (request_path.empty() || request_path.front() != '/') return "/";
    const std::size_t last = request_path.rfind('/');
    if (last == 0) return "/";
    return std::string(request_path.substr(0, last));
}

bool path_match(std::string_view request_path, std::string_view cookie_path) {
    if (request_path.empty()) request_path = "/";
    if (request_path == cookie_path) return true;
    if (!request_path.starts_with(cookie_path)) return false;
    return cookie_path.back() == '/' || request_path[cookie_path.size()] == '/';
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
long days_from_civil(long y, unsigned m, unsigned d) {
    y -= m <= 2;
    const long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<long>(doe) - 719468;
}

bool is_delimiter(char c) {
    const unsigned char u = static_cast<unsigned char>(c);
    return u == 0x09 || (u >= 0x20 && u <= 0x2F) || (u >= 0x3B && u <= 0x40) || (u >= 0x5B && u <= 0x60) ||
           (u >= 0x7B && u <= 0x7E);
}

// Leading digits of `token` (at least `min`, at most `max`), else -1.
int leading_number(std::string_view token, std::size_t min, std::size_t max, std::size_t* used = nullptr) {
    std::size_t n = 0;
    while (n < token.size() && std::isdigit(static_cast<unsigned char>(token[n]))) ++n;
    if (n < min || n > max) return -1;
    int v = 0;
    std::from_chars(token.data(), token.data() + n, v);
    if (used != nullptr) *used = n;
    return v;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_cookie_date(std::string_view text) {
    bool have_time = false, have_day = false, have_month = false, have_year = false;
    int hour = 0, minute = 0, second = 0, day = 0, month = 0, year = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_delimiter(text[i])) ++i;
        std::size_t j = i;
        while (j < text.size() && !is_delimiter(text[j])) ++j;
        std::string_view token = text.substr(i, j - i);
        i = j;
        if (token.empty()) continue;
        if (!have_time) {  // hms-time: 1*2DIGIT ":" 1*2DIGIT ":" 1*2DIGIT
            std::size_t a = 0, b = 0, c = 0;
            const int h = leading_number(token, 1, 2, &a);
            if (h >= 0 && a < token.size() && token[a] == ':') {
                std::string_view rest = token.substr(a + 1);
                const int m = leading_number(rest, 1, 2, &b);
                if (m >= 0 && b < rest.size() && rest[b] == ':') {
                    const int s = leading_number(rest.substr(b + 1), 1, 2, &c);
                    if (s >= 0) {
                        have_time = true;
                        hour = h, minute = m, second = s;
                        continue;
                    }
                }
            }
        }
        if (!have_day) {
            const int d = leading_number(token, 1, 2);
            if (d >= 0) {
                have_day = true;
                day = d;
                continue;
            }
        }
        if (!have_month && token.size() >= 3) {
            static constexpr std::string_view months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                           "jul", "aug", "sep", "oct", "nov", "dec"};
            const std::string prefix = detail::lower_ascii(token.substr(0, 3));
            auto it = std::find(std::begin(months), std::end(months), prefix);
            if (it != std::end(months)) {
                have_month = true;
                month = static_cast<int>(it - std::begin(months)) + 1;
                continue;
            }
        }
        if (!have_year) {
            const int y = leading_number(token, 2, 4);
            if (y >= 0) {
                have_year = true;
                year = y;
                continue;
            }
        }
    }
    if (have_year && year >= 70 && year <= 99) year += 1900;
    if (have_year && year >= 0 && year <= 69) year += 2000;
    if (!have_time || !have_day || !have_month || !have_year) return std::nullopt;
    if (day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
    static constexpr int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > month_days[month - 1] || (month == 2 && day == 29 && !leap)) return std::nullopt;
    const long days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    return std::chrono::system_clock::time_point(std::chrono::seconds(days * 86400L + hour * 3600L + minute * 60L + second));
}

bool cookie_jar::update(std::string_view set_cookie, std::string_view host_in, std::string_view request_path,
                        bool secure, time_point now) {
    const std::string host = detail::lower_ascii(host_in);
    // Section 5.2: name=value, then attributes separated by ';'.
    std::string_view pair = set_cookie.substr(0, set_cookie.find(';'));
    std::string_view attributes =
        pair.size() < set_cookie.size() ? set_cookie.substr(pair.size() + 1) : std::string_view();
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return false;
    cookie c;
    c.name = std::string(trim_ows(pair.substr(0, eq)));
    c.value = std::string(trim_ows(pair.substr(eq + 1)));
    if (c.name.empty()) return false;
    // Control characters in a name or value would end up in our Cookie header.
    for (char ch : c.name + c.value)
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) return false;

    std::optional<time_point> expires_attr;
    std::optional<std::chrono::seconds> max_age;
    std::string domain_attr;
    std::string path_attr;
    while (!attributes.empty()) {
        std::string_view av = attributes.substr(0, attributes.find(';'));
        attributes = av.size() < attributes.size() ? attributes.substr(av.size() + 1) : std::string_view();
        const std::size_t aeq = av.find('=');
        const std::string_view key = trim_ows(av.substr(0, aeq));
        const std::string_view val = aeq == std::string_view::npos ? std::string_view() : trim_ows(av.substr(aeq + 1));
        if (iequals(key, "expires")) {
            if (auto t = parse_cookie_date(val)) expires_attr = t;
        } else if (iequals(key, "max-age")) {
            if (val.empty() || !(std::isdigit(static_cast<unsigned char>(val[0])) || val[0] == '-')) continue;
            long long secs = 0;
            auto [end, ec] = std::from_chars(val.data(), val.data() + val.size(), secs);
            if (end != val.data() + val.size()) continue;
            if (ec == std::errc::result_out_of_range) secs = val[0] == '-' ? -1 : (1LL << 40);
            max_age = std::chrono::seconds(std::max(secs, -1LL));
        } else if (iequals(key, "domain")) {
            std::string_view d = val;
            if (!d.empty() && d.front() == '.') d.remove_prefix(1);
            domain_attr = detail::lower_ascii(d);
        } else if (iequals(key, "path")) {
            path_attr = (!val.empty() && val.front() == '/') ? std::string(val) : std::string();
        } else if (iequals(key, "secure")) {
            c.secure = true;
        } else if (iequals(key, "httponly")) {
            c.http_only = true;
        }
    }
    if (max_age) c.expires = *max_age <= std::chrono::seconds(0) ? time_point::min() : now + *max_age;
    else if (expires_attr) c.expires = expires_attr;

    if (!domain_attr.empty()) {
        if (domain_attr.find('.') == std::string::npos && domain_attr != host) return false;  // "com": a public suffix
        if (!domain_match(host, domain_attr)) return false;
        c.domain = domain_attr;
        c.host_only = false;
    } else {
        c.domain = host;
    }
    c.path = path_attr.empty() ? default_path(request_path) : path_attr;
    if (c.secure && !secure) return false;  // RFC 6265bis: only a secure origin sets Secure cookies

    const auto same = std::find_if(cookies_.begin(), cookies_.end(), [&](const cookie& o) {
        return o.name == c.name && o.domain == c.domain && o.path == c.path;
    });
    c.created = same != cookies_.end() ? same->created : now;
    const bool expired = c.expires && *c.expires <= now;
    if (same != cookies_.end()) {
        if (expired) cookies_.erase(same);
        else *same = std::move(c);
        return true;
    }
    if (expired) return false;  // nothing to delete, nothing to store
    const std::string domain = c.domain;
    cookies_.push_back(std::move(c));
    evict(domain);
    return true;
}

// Drops the oldest cookies of `domain` over max_per_domain, then the oldest
// of all over max_total (section 5.3 lets a user agent bound its store).
void cookie_jar::evict(const std::string& domain) {
    auto oldest_of = [&](auto pred) {
        auto best = cookies_.end();
        for (auto it = cookies_.begin(); it != cookies_.end(); ++it)
            if (pred(*it) && (best == cookies_.end() || it->created < best->created)) best = it;
        return best;
    };
    while (std::count_if(cookies_.begin(), cookies_.end(), [&](const cookie& c) { return c.domain == domain; }) >
           static_cast<std::ptrdiff_t>(max_per_domain))
        cookies_.erase(oldest_of([&](const cookie& c) { return c.domain == domain; }));
    while (cookies_.size() > max_total) cookies_.erase(oldest_of([](const cookie&) { return true; }));
}

std::string cookie_jar::header_for(std::string_view host_in, std::string_view path, bool secure, time_point now) const {
    const std::string host = detail::lower_ascii(host_in);
    std::vector<const cookie*> matched;
    for (const cookie& c : cookies_) {
        if (c.expires && *c.expires <= now) continue;
        if (c.host_only ? host != c.domain : !domain_match(host, c.domain)) continue;
        if (!path_match(path, c.path)) continue;
        if (c.secure && !secure) continue;
        matched.push_back(&c);
    }
    // Pointers into one vector: their order is the store's, the last tie-break.
    std::sort(matched.begin(), matched.end(), [](const cookie* a, const cookie* b) {
        if (a->path.size() != b->path.size()) return a->path.size() > b->path.size();
        if (a->created != b->created) return a->created < b->created;
        return a < b;
    });
    std::string header;
    for (const cookie* c : matched) {
        if (!header.empty()) header += "; ";
        header += c->name;
        header += '=';
        header += c->value;
    }
    return header;
}

}  // namespace corio::http
