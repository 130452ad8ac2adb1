// corio/http/response.hpp: what a client request gives (aiohttp's
// ClientResponse): the status line and headers at once, the body read when
// asked: whole (read, text, json) or as a stream (content()).
//
//   co_await corio::with(session.get(url), [](corio::http::response& r) -> corio::task<> {
//       if (!r.ok()) co_return;
//       nlohmann::json j = co_await r.json();
//   });
//
// The response holds its connection until the body has been read to its end
// (the connection then goes back to the pool when both sides keep it alive),
// release() is called, or it is destroyed: a body not read to its end closes
// the connection, which is never handed out half-read. A response may be
// kept and read later, even after its session is closed: it keeps the
// session's pool alive (a closed pool closes the connection it gets back).
// Bodies are decoded by their Content-Encoding (gzip, deflate, br; with the
// session's auto_decompress). Every read waits at most the request's
// sock_read timeout and the rest of its total one (timeout_error naming
// which); a body cut short, bad chunked framing, a decoding failure or a
// decoded size past max_decompressed_size is client_payload_error naming
// the method and URL. Cancel safety: a read cancelled in flight leaves the
// response unusable (its connection is closed, never pooled); reading it
// again throws client_payload_error.
// One task reads a response at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <corio/async_generator.hpp>
#include <corio/http/errors.hpp>
#include <corio/http/headers.hpp>
#include <corio/task.hpp>

namespace corio::http {

/// raise_for_status() and the session's raise_for_status option: a status
/// of 400 or more (aiohttp's ClientResponseError).
class client_response_error : public client_error {
public:
    client_response_error(const std::string& what, int status, http::headers headers)
        : client_error(what), status_(status), headers_(std::move(headers)) {}
    int status() const noexcept { return status_; }
    const http::headers& headers() const noexcept { return headers_; }

private:
    int status_;
    http::headers headers_;
};

/// One more redirect than max_redirects allows.
class too_many_redirects : public client_response_error {
public:
    using client_response_error::client_response_error;
};

/// json() of a response whose Content-Type is not JSON.
class content_type_error : public client_response_error {
public:
    using client_response_error::client_response_error;
};

struct http_version {
    int major = 1;
    int minor = 1;
    friend bool operator==(const http_version&, const http_version&) = default;
};

namespace detail {
struct response_state;
struct request_runner;
}

class response;

/// The body as a stream (aiohttp's response.content, a StreamReader).
class body_reader {
public:
    /// Up to `n` bytes (what has arrived, or the next piece); "" at the end.
    task<std::string> read(std::size_t n);
    /// Everything left.
    task<std::string> read();
    /// A line with its '\n' (the last one may lack it); "" at the end.
    /// client_payload_error past 64 KiB without a '\n'.
    task<std::string> readline();
    /// Exactly `n` bytes; corio::incomplete_read_error (with what came) at
    /// the end first.
    task<std::string> read_exactly(std::size_t n);
    /// Pieces of at most `n` bytes until the end.
    async_generator<std::string> iter_chunked(std::size_t n);
    /// Each piece as it arrives until the end.
    async_generator<std::string> iter_any();
    /// True once the whole body has been read.
    bool at_eof() const noexcept;

private:
    friend class response;
    friend struct detail::response_state;
    explicit body_reader(detail::response_state* state) noexcept : state_(state) {}
    detail::response_state* state_;
};

class response {
public:
    response() noexcept;
    response(response&& other) noexcept;
    response& operator=(response&& other) noexcept;
    response(const response&) = delete;
    response& operator=(const response&) = delete;
    ~response();

    int status() const noexcept;
    std::string_view reason() const noexcept;
    /// status() < 400.
    bool ok() const noexcept;
    const http::headers& headers() const noexcept;
    /// The URL this response came from (after redirects).
    const std::string& url() const noexcept;
    /// The request's method (after redirects: a 303 made it GET).
    const std::string& method() const noexcept;
    /// The redirect responses that led here, first first (their bodies read
    /// and dropped).
    const std::vector<response>& history() const noexcept;
    http_version version() const noexcept;
    /// The media type without parameters, lower case ("text/html");
    /// "application/octet-stream" when the response has none.
    std::string content_type() const;
    std::optional<std::string> charset() const;
    std::optional<std::uint64_t> content_length() const;

    /// The whole body, decoded by its Content-Encoding.
    task<std::string> read();
    /// The body as UTF-8, converted from its declared charset.
    task<std::string> text();
    /// The body as JSON; content_type_error when the Content-Type is not
    /// JSON (application/json or a +json type), client_payload_error when
    /// the body does not parse.
    task<nlohmann::json> json();
    /// The body as a stream.
    body_reader& content();

    /// client_response_error when status() >= 400.
    void raise_for_status() const;
    /// Gives the connection back (to the pool when the body was read to its
    /// end, else it is closed). Reading afterwards reads nothing.
    void release() noexcept;

    /// "GET http://host/path", how errors name this request.
    std::string describe() const;

private:
    friend struct detail::response_state;
    friend struct detail::request_runner;
    explicit response(std::unique_ptr<detail::response_state> state) noexcept;
    std::unique_ptr<detail::response_state> state_;
};

}  // namespace corio::http
