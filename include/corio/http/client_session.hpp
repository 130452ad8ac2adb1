// corio/http/client_session.hpp: client_session, aiohttp's ClientSession.
//
//   co_await corio::with(corio::http::client_session(), [&](corio::http::client_session& session) -> corio::task<> {
//       co_await corio::with(session.get("https://example.com/"), [](corio::http::response& r) -> corio::task<> {
//           std::printf("%d %s\n", r.status(), (co_await r.text()).c_str());
//       });
//       corio::http::response r = co_await session.post(url, {.json = nlohmann::json{{"a", 1}}});  // see below
//   });
//
// A session is an async context manager: aenter gives it, aexit closes it
// (as `await session.close()`). Many tasks of one loop may use it at once;
// its connections are pooled (connection_pool.hpp: limit, limit_per_host,
// keepalive_timeout, FIFO waiters). Each request method gives a
// request_context: an async context manager whose aenter sends the request
// and reads the status line and headers (giving `response&`) and whose aexit
// releases the response (the connection goes back to the pool when its body
// was read to the end, else it is closed); or awaited, a `response` that
// holds the connection until its body is read, release() is called or it is
// destroyed. Nothing is sent until it is entered or awaited.
// A relative URL is joined to base_url. Redirects (301, 302, 303: GET
// without a body, HEAD staying HEAD; 307, 308: the same method and body)
// are followed up to max_redirects (then too_many_redirects); Authorization
// is dropped when a redirect leaves the origin. A request failing on a kept-
// alive connection before any byte of its response is retried once on a new
// connection when its method is idempotent (GET, HEAD, OPTIONS, PUT,
// DELETE, TRACE) and its body is not a stream.
// Errors (http/errors.hpp, response.hpp) name the method and the URL; a
// timeout is corio::timeout_error naming which of client_timeout's bounds
// passed. Cancellation at any await leaves the pool consistent: a
// connection in mid-request or mid-response is closed, never pooled.
// Debug mode reports a session destroyed without close(), with where it was
// made ("unclosed client session", aiohttp's ResourceWarning).
// g++ 12: name a braced request_options before the co_await that uses it.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <memory>
#include <string>

#include <corio/detail/source_location.hpp>
#include <corio/http/client_options.hpp>
#include <corio/http/cookie_jar.hpp>
#include <corio/http/response.hpp>
#include <corio/task.hpp>

namespace corio::http {

namespace detail {
struct session_state;
}

/// One request, sent when entered (async with) or awaited.
class [[nodiscard]] request_context {
public:
    request_context(request_context&&) noexcept;
    request_context& operator=(request_context&&) = delete;
    request_context(const request_context&) = delete;
    ~request_context();

    /// async with: sends the request, gives the response (head read).
    task<response&> aenter();
    /// Releases the response: its connection back to the pool when its
    /// body was read to the end, else closed.
    task<> aexit(std::exception_ptr error);

    /// co_await: the response, holding its connection until released.
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller);
    response await_resume();

private:
    friend class client_session;
    request_context(std::shared_ptr<detail::session_state> session, std::string method, std::string url,
                    request_options options);
    std::shared_ptr<detail::session_state> session_;
    std::string method_;
    std::string url_;
    std::unique_ptr<request_options> options_;
    std::optional<response> response_;
    std::optional<task<response>> sending_;  // while awaited
};

class client_session {
public:
    explicit client_session(session_options options = session_options(),
                            corio::source_location where = corio::source_location::current());
    client_session(client_session&&) noexcept;
    client_session& operator=(client_session&&) noexcept;
    client_session(const client_session&) = delete;
    client_session& operator=(const client_session&) = delete;
    /// Without close(): the idle connections are closed here; debug mode
    /// reports the session as unclosed.
    ~client_session();

    struct enter_awaiter {
        client_session* self;
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        client_session& await_resume() const noexcept { return *self; }
    };
    enter_awaiter aenter() noexcept { return {this}; }
    task<> aexit(std::exception_ptr error);

    /// Closes the pooled connections; requests afterwards throw client_error.
    /// Responses still held keep their connections until released.
    task<> close();
    bool closed() const noexcept;

    request_context get(std::string url, request_options options = request_options());
    request_context post(std::string url, request_options options = request_options());
    request_context put(std::string url, request_options options = request_options());
    request_context patch(std::string url, request_options options = request_options());
    request_context delete_(std::string url, request_options options = request_options());
    request_context head(std::string url, request_options options = request_options());
    request_context options(std::string url, request_options options = request_options());
    /// Any method (upper case, a token: client_error otherwise when sent).
    request_context request(std::string method, std::string url, request_options options = request_options());

    http::cookie_jar& cookie_jar() noexcept;
    const session_options& settings() const noexcept;
    /// Connections in use and idle, for tests and monitoring.
    std::size_t connections_in_use() const noexcept;
    std::size_t connections_idle() const noexcept;

private:
    std::shared_ptr<detail::session_state> state_;
};

}  // namespace corio::http
