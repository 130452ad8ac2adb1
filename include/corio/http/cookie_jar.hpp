// corio/http/cookie_jar.hpp: the client session's cookies (aiohttp's
// CookieJar), by the storage and retrieval rules of RFC 6265.
//
//   jar.update(response_set_cookie_value, "example.com", "/login", /*secure=*/true);
//   std::string header = jar.header_for("www.example.com", "/account", true);  // "a=1; b=2"
//
// Storing (section 5.3): a Set-Cookie value that does not parse is ignored,
// as browsers do; the Domain attribute must domain-match the request's host
// (else the cookie is ignored) and makes the cookie apply to subdomains, its
// absence makes it host-only; a Domain of one label with no dot ("com") is
// refused (corio has no public-suffix list: this is the one rule it keeps
// of it); the Path attribute, or the request path's directory, scopes it;
// Max-Age wins over Expires, and one in the past deletes the cookie; a
// Secure cookie is stored only from a secure request; one replacing an
// existing cookie keeps its creation time. At most 50 cookies per domain
// and 3000 in all, the oldest dropped first (the RFC's minimums are 50 and
// 3000).
// Sending (section 5.4): the cookies whose domain and path match the
// request, not expired, Secure ones only over https; longer paths first,
// then earlier created, as "name=value" joined by "; ".
// Not thread-safe; one session owns a jar.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corio::http {

struct cookie {
    std::string name;
    std::string value;
    std::string domain;  // lower case, no leading dot
    std::string path;
    std::optional<std::chrono::system_clock::time_point> expires;  // none: a session cookie
    std::chrono::system_clock::time_point created;
    bool host_only = true;  // no Domain attribute: only this exact host
    bool secure = false;
    bool http_only = false;
};

class cookie_jar {
public:
    using time_point = std::chrono::system_clock::time_point;

    /// Applies one Set-Cookie header value received in a response to a
    /// request for `host` and `request_path` (the URL's path, without the
    /// query), over a secure channel or not. Gives whether it was stored
    /// (or deleted a cookie); false when it was ignored.
    bool update(std::string_view set_cookie, std::string_view host, std::string_view request_path, bool secure,
                time_point now = std::chrono::system_clock::now());

    /// The value of the Cookie header for a request (empty: send none).
    std::string header_for(std::string_view host, std::string_view path, bool secure,
                           time_point now = std::chrono::system_clock::now()) const;

    /// The cookies held (expired ones included until the next update).
    const std::vector<cookie>& cookies() const noexcept { return cookies_; }
    std::size_t size() const noexcept { return cookies_.size(); }
    void clear() noexcept { cookies_.clear(); }

    static constexpr std::size_t max_per_domain = 50;
    static constexpr std::size_t max_total = 3000;

private:
    void evict(const std::string& domain);
    std::vector<cookie> cookies_;
};

/// RFC 6265 section 5.1.1's date parser (what Expires holds); nullopt when it
/// is not a date by those rules.
std::optional<std::chrono::system_clock::time_point> parse_cookie_date(std::string_view text);

}  // namespace corio::http
