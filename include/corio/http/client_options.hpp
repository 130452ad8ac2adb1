// corio/http/client_options.hpp: what a client_session and each of its
// requests can be told (aiohttp's ClientSession arguments, ClientTimeout,
// BasicAuth and a request's keyword arguments).
//
// Defaults are aiohttp's: a total timeout of 5 minutes and no other; 100
// connections in use at once, no limit per host, kept alive 15 s; TLS
// verified against the system's CAs; cookies kept; responses decoded (gzip,
// deflate, br); up to 10 redirects followed; status lines and header fields
// of at most 8190 bytes; decoded bodies of at most 1 GiB.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <corio/async_generator.hpp>
#include <corio/http/headers.hpp>
#include <corio/net/tls.hpp>

namespace corio::http {

/// aiohttp's ClientTimeout: each bound is optional (unset: none). `total`
/// covers the whole request, redirects and the reading of the body
/// included; `connect` covers waiting for a pooled connection and making a
/// new one; `sock_connect` one connection attempt; `sock_read` each wait
/// for bytes from the server. A timeout throws corio::timeout_error whose
/// message names the timeout, its value, the method and the URL.
struct client_timeout {
    std::optional<std::chrono::milliseconds> total = std::chrono::minutes(5);
    std::optional<std::chrono::milliseconds> connect;
    std::optional<std::chrono::milliseconds> sock_connect;
    std::optional<std::chrono::milliseconds> sock_read;
};

/// HTTP Basic authentication (RFC 7617): sent as `Authorization: Basic ...`,
/// and dropped when a redirect leaves the origin.
struct basic_auth {
    std::string user;
    std::string password;
};

using query_params = std::vector<std::pair<std::string, std::string>>;

struct session_options {
    /// Joined to relative URLs (RFC 3986), e.g. "https://api.example.com/v1/".
    std::string base_url;
    /// Sent with every request (a request's own headers of the same name win).
    http::headers headers;
    client_timeout timeout;
    std::size_t limit = 100;         // connections in use at once; 0: no limit
    std::size_t limit_per_host = 0;  // per (scheme, host, port); 0: no limit
    std::chrono::milliseconds keepalive_timeout{15'000};
    /// For https URLs; default tls_context::client() (verification on).
    std::optional<tls_context> tls;
    bool raise_for_status = false;
    std::size_t max_redirects = 10;
    bool auto_decompress = true;
    /// Keep cookies the servers set (RFC 6265) and send them back.
    bool cookie_jar = true;
    /// Default "corio/<version>".
    std::string user_agent;
    std::size_t max_line_size = 8190;
    std::size_t max_field_size = 8190;
    /// A body decoded (gzip, deflate, br) past this is client_payload_error.
    std::uint64_t max_decompressed_size = std::uint64_t(1) << 30;
};

struct request_options {
    /// Appended to the URL's query in order, percent-encoded (space: %20).
    query_params params;
    http::headers headers;
    /// At most one body: bytes, JSON, a form, or chunks sent as they come.
    std::optional<std::string> data;
    std::optional<nlohmann::json> json;
    std::optional<query_params> form;  // application/x-www-form-urlencoded
    std::optional<async_generator<std::string>> body;  // sent chunked
    /// This request's timeouts instead of the session's.
    std::optional<client_timeout> timeout;
    bool allow_redirects = true;
    std::optional<std::size_t> max_redirects;
    std::optional<basic_auth> auth;
    /// Unset: the session's.
    std::optional<bool> raise_for_status;
};

}  // namespace corio::http
