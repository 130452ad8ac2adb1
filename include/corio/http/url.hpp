// corio/http/url.hpp: the URLs an HTTP client meets, through Boost.URL (kept
// inside src/http): an absolute http or https URL taken apart for a request,
// a reference joined to a base (base_url, a redirect's Location), query
// parameters appended, and the origin that redirects compare.
//
//   auto u = corio::http::url::parse("https://Example.com/a/b?x=1#top");
//   u.host();      // "example.com"     u.port();  // 443
//   u.target();    // "/a/b?x=1"        (what the request line carries)
//   u.join("../c").str();                          // "https://example.com/c"
//   u.with_params({{"q", "a b&c"}}).target();      // "/a/b?x=1&q=a%20b%26c"
//
// What is checked: the scheme is http or https, there is a host (a name of
// letters, digits, '-', '.', '_', or an IPv4 or IPv6 address), the port is
// 1..65535; a control character anywhere is refused (no request line can be
// smuggled through a URL). Spaces, non-ASCII bytes and the few characters
// browsers also accept unencoded (" < > \ ^ ` { | }) are percent-encoded
// first, as browsers and yarl do. Anything else is a url_error naming the
// URL and the reason, for the client's invalid_url. Names are lowercased and
// the URL normalized (RFC 3986 6.2.2), so equal origins compare equal.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corio::http {

/// A URL that cannot be used: what() is "<operation> <url>: <reason>".
class url_error : public std::invalid_argument {
public:
    url_error(const std::string& operation, std::string url, std::string reason)
        : std::invalid_argument(operation + " " + url + ": " + reason), url_(std::move(url)), reason_(std::move(reason)) {}
    const std::string& url() const noexcept { return url_; }
    const std::string& reason() const noexcept { return reason_; }

private:
    std::string url_;
    std::string reason_;
};

/// (scheme, host, port): what a redirect must keep for Authorization to follow.
struct origin {
    std::string scheme;
    std::string host;
    std::uint16_t port = 0;
    friend bool operator==(const origin&, const origin&) = default;
};

class url {
public:
    using params_type = std::vector<std::pair<std::string, std::string>>;

    /// An absolute http or https URL (url_error otherwise).
    static url parse(std::string_view text);

    /// `reference`, absolute or relative ("/x", "../y", "?q=1", "//host/p"),
    /// resolved against this URL by RFC 3986 5.2; the result must be http(s).
    url join(std::string_view reference) const;

    /// This URL with `params` appended to its query, in order, each name and
    /// value percent-encoded (all but A-Z a-z 0-9 - . _ ~; a space as %20).
    url with_params(const params_type& params) const;

    /// The whole URL, normalized (its fragment kept).
    const std::string& str() const noexcept { return text_; }
    /// "http" or "https".
    const std::string& scheme() const noexcept { return scheme_; }
    bool secure() const noexcept { return scheme_ == "https"; }
    /// The host as a connection needs it: "example.com", "127.0.0.1", "::1".
    const std::string& host() const noexcept { return host_; }
    /// The port given, or 80 / 443.
    std::uint16_t port() const noexcept { return port_; }
    bool default_port() const noexcept { return port_ == (secure() ? 443 : 80); }
    /// The request target: the path ("/" when empty) and the query.
    const std::string& target() const noexcept { return target_; }
    /// The Host header: the host, bracketed when IPv6, with the port unless default.
    std::string host_header() const;
    /// Percent-decoded user and password of "http://user:pass@host/" (for basic auth).
    const std::optional<std::string>& user() const noexcept { return user_; }
    const std::optional<std::string>& password() const noexcept { return password_; }

    http::origin origin() const { return {scheme_, host_, port_}; }

    friend bool operator==(const url& a, const url& b) noexcept { return a.text_ == b.text_; }

private:
    std::string text_;
    std::string scheme_;
    std::string host_;
    std::uint16_t port_ = 0;
    bool ipv6_ = false;
    std::string target_;
    std::optional<std::string> user_;
    std::optional<std::string> password_;
};

}  // namespace corio::http
