// corio/web/response.hpp: what a handler gives back (aiohttp's web.Response,
// json_response, FileResponse and StreamResponse).
//
//   co_return corio::web::response::text("hello");                     // 200 text/plain
//   co_return corio::web::json_response({{"id", 7}});                  // application/json
//   co_return corio::web::response(201, "made", corio::http::headers{{"Location", "/items/7"}});
//   co_return corio::web::file_response("static/report.pdf");          // sendfile, Range, ETag
//
//   corio::web::stream_response out;                                   // a body as it is made
//   co_await out.prepare(req);                                         // sends the head
//   co_await out.write("part 1\n");                                    // chunked without a length
//   co_await out.write_eof();
//   co_return out;
//
// Guarantees: headers are checked when set (a CR or LF in a value set by a
// handler throws std::invalid_argument; nothing is sent); Content-Length,
// Date, Server and Connection are the server's to write. A file response is
// sent with sendfile(2) without TLS (read and written in 64 KiB pieces with
// TLS), answers If-Modified-Since and If-None-Match with 304, a single
// "bytes=" Range with 206 (416 when unsatisfiable), and a missing or
// unreadable file with 404. enable_compression() compresses the body with
// gzip or deflate when the request accepts one (buffered bodies of 512 bytes
// or more; a file or stream response is sent as is).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <corio/http/headers.hpp>
#include <corio/task.hpp>

namespace corio::web {

class request;

/// Set-Cookie attributes (aiohttp's set_cookie arguments).
struct cookie_options {
    std::optional<std::chrono::seconds> max_age;
    std::string expires;  // an HTTP date, as written
    std::string path = "/";
    std::string domain;
    bool secure = false;
    bool httponly = false;
    std::string samesite;  // "Strict", "Lax", "None" or empty
};

class response {
public:
    /// 200 with no body.
    response() = default;
    /// `status` with `body` (application/octet-stream unless `headers` says
    /// otherwise). std::invalid_argument for a status outside 100-599.
    explicit response(int status, std::string body = std::string(), http::headers headers = http::headers());

    /// A text/plain; charset=utf-8 body.
    static response text(std::string body, int status = 200);
    /// A text/html; charset=utf-8 body.
    static response html(std::string body, int status = 200);

    int status() const noexcept { return status_; }
    void set_status(int status);
    /// The reason phrase sent ("" gives the standard one).
    const std::string& reason() const noexcept { return reason_; }
    void set_reason(std::string reason);

    http::headers& headers() noexcept { return headers_; }
    const http::headers& headers() const noexcept { return headers_; }
    std::string_view content_type() const noexcept;
    void set_content_type(std::string_view type);

    const std::string& body() const noexcept { return body_; }
    void set_body(std::string body) { body_ = std::move(body); }

    /// Adds a Set-Cookie header; std::invalid_argument naming the cookie when
    /// the name is not a token or the value holds a byte a cookie cannot.
    void set_cookie(std::string_view name, std::string_view value, const cookie_options& options = cookie_options());
    /// Expires the cookie at the client (Max-Age=0).
    void del_cookie(std::string_view name, std::string_view path = "/", std::string_view domain = "");

    /// Compress the body when the request accepts gzip or deflate.
    void enable_compression() noexcept { compress_ = true; }
    bool compression_enabled() const noexcept { return compress_; }

    /// The file a file_response sends (its body is empty).
    const std::optional<std::filesystem::path>& file() const noexcept { return file_; }

protected:
    friend response file_response(std::filesystem::path path);
    int status_ = 200;
    std::string reason_;
    http::headers headers_;
    std::string body_;
    std::optional<std::filesystem::path> file_;
    bool compress_ = false;
};

/// `value` as application/json.
response json_response(const nlohmann::json& value, int status = 200);
/// The file at `path`, sent when the handler returns (404 if it is missing
/// then); Content-Type from its extension.
response file_response(std::filesystem::path path);

/// A response whose body is written while the handler runs. prepare() sends
/// the head (Content-Length when headers() has one, chunked otherwise, no body
/// at all for HEAD); write() sends a piece (copied before it suspends);
/// write_eof() ends the body. A handler returns it after write_eof (returned
/// earlier, the server ends the body itself). Cancel safety: a write
/// cancelled mid-way leaves the connection to be closed, not reused.
class stream_response : public response {
public:
    explicit stream_response(int status = 200, http::headers headers = http::headers());

    task<> prepare(request& req);
    task<> write(std::string_view chunk);
    task<> write_eof();
    bool prepared() const noexcept { return request_ != nullptr; }

private:
    request* request_ = nullptr;
};

}  // namespace corio::web
