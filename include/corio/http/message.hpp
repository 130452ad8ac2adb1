// corio/http/message.hpp: the heads of HTTP/1.1 messages, their wire form,
// and the two rules every peer must agree on: whether the connection stays
// open (keep_alive) and where the body ends (RFC 9112 section 6.3, framing).
//
//   corio::http::request_head req{"GET", "/index.html", 11, {{"Host", "example.com"}}};
//   std::string wire;
//   corio::http::serialize(req, wire);   // "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n"
//
// Versions are numbers as Beast writes them: 10 is HTTP/1.0, 11 is HTTP/1.1.
// serialize checks what headers cannot: the method is a token, the target and
// the reason hold no CR, LF, NUL or (target) space, the status has 3 digits,
// the version is 10 or 11 (std::invalid_argument otherwise), so a head never
// writes a line its fields did not say. The framing functions refuse what
// request smuggling is made of (protocol_error, kind bad_framing or
// bad_header): Content-Length with Transfer-Encoding, several differing
// Content-Lengths (a request: several at all, even equal, as aiohttp.web and
// nginx refuse them), a value that is not a plain decimal number, and a
// request whose Transfer-Encoding does not end in chunked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "corio/http/headers.hpp"
#include "corio/http/protocol_error.hpp"

namespace corio::http {

struct request_head {
    std::string method = "GET";
    std::string target = "/";
    int version = 11;
    http::headers headers;
};

struct response_head {
    int version = 11;
    int status = 200;
    /// As sent; serialize writes reason_phrase(status) when it is empty.
    std::string reason;
    http::headers headers;
};

/// Appends the head, ending with the blank line, to `out`.
void serialize(const request_head& head, std::string& out);
void serialize(const response_head& head, std::string& out);
std::string serialize(const request_head& head);
std::string serialize(const response_head& head);

/// The standard reason phrase of a status ("Not Found"), "" for one without.
std::string_view reason_phrase(int status) noexcept;

/// Whether the sender of this head keeps the connection open after the
/// message, by the Connection header: HTTP/1.1 unless "close", HTTP/1.0 only
/// with "keep-alive" ("close" wins when both are listed). A connection is
/// reused only when the request and the response both say so and the
/// response's body does not end with the close (framing until_close).
bool keep_alive(const request_head& head) noexcept;
bool keep_alive(const response_head& head) noexcept;

/// Where a body ends.
enum class body_kind {
    none,            // no body: a request without length, a HEAD response, 1xx, 204, 304
    content_length,  // exactly `length` bytes
    chunked,         // Transfer-Encoding ending in chunked
    until_close      // a response with neither: the body ends when the peer closes
};

struct body_framing {
    body_kind kind = body_kind::none;
    std::uint64_t length = 0;  // for content_length
    friend bool operator==(const body_framing&, const body_framing&) = default;
};

/// RFC 9112 6.3 for a response to a request of `request_method` (HEAD gets
/// no body, a 2xx to CONNECT is a tunnel).
body_framing response_framing(const response_head& head, std::string_view request_method = "GET");
/// RFC 9112 6.3 for a request: Content-Length, chunked, or no body.
body_framing request_framing(const request_head& head);

/// The comma-separated elements of a list header value ("gzip, chunked"),
/// without surrounding spaces or empty elements, in order.
void for_each_list_element(std::string_view value, const auto& visit) {
    while (!value.empty()) {
        auto comma = value.find(',');
        auto element = value.substr(0, comma);
        while (!element.empty() && (element.front() == ' ' || element.front() == '\t')) element.remove_prefix(1);
        while (!element.empty() && (element.back() == ' ' || element.back() == '\t')) element.remove_suffix(1);
        if (!element.empty()) visit(element);
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
}

}  // namespace corio::http
