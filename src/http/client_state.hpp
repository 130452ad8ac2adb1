// Private to src/http: what a client_session shares with its responses
// (session_state), the state of one response (response_state), and the
// deadlines every wait of a request keeps.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <corio/detail/source_location.hpp>
#include <corio/http/client_options.hpp>
#include <corio/http/connection_pool.hpp>
#include <corio/http/content_decoder.hpp>
#include <corio/http/cookie_jar.hpp>
#include <corio/http/parser.hpp>
#include <corio/http/response.hpp>
#include <corio/http/url.hpp>
#include <corio/task.hpp>
#include <corio/time/timeout.hpp>
#include <corio/context/with.hpp>
#include <corio/detail/awaitable_traits.hpp>

#include "read_area.hpp"

namespace corio::http::detail {

using clock = std::chrono::steady_clock;

// The session's state, shared with its responses so that a response read
// after its session is gone still has a pool to give its connection to.
struct session_state {
    explicit session_state(session_options o, corio::source_location made_at);
    session_options options;
    tls_context tls;  // options.tls or tls_context::client()
    connection_pool pool;
    http::cookie_jar cookies;
    corio::source_location where;
    bool closed = false;
};

// Which bound ends a wait, and how its timeout_error names it.
struct wait_bound {
    std::optional<clock::time_point> at;
    const char* which = "";
    std::chrono::milliseconds value{0};
};

// The nearer of the request's total deadline and `now + step` (a step's own
// timeout: connect, sock_connect, sock_read).
wait_bound nearest(std::optional<clock::time_point> total_at, std::optional<std::chrono::milliseconds> total,
                   std::optional<std::chrono::milliseconds> step, const char* step_name);

// The timeout_error of a wait that passed `bound`: "<what> <url>: <which>
// timeout (<value> ms) passed" (made only then: waits are on every read).
[[noreturn]] void throw_bound_passed(const wait_bound& bound, std::string_view what, std::string_view url);

// Awaits `op` within `bound` (no bound: as it is); past it, the timeout_error
// above. `what` and `url` are read only after a timeout and must outlive the wait.
template <class A>
task<corio::detail::await_result_t<A>> within(A op, wait_bound bound, std::string_view what,
                                              std::string_view url = std::string_view()) {
    using T = corio::detail::await_result_t<A>;
    if (!bound.at) co_return co_await std::move(op);
    try {
        auto body = [&](timeout_scope&) -> task<T> { co_return co_await std::move(op); };
        co_return co_await corio::with(corio::timeout_at(bound.at), body);
    } catch (const corio::timeout_error&) {
        throw_bound_passed(bound, what, url);
    }
}

struct response_state {
    std::shared_ptr<session_state> session;
    std::string method;
    http::url where;
    std::string url_text;
    http::response_head head;
    std::vector<response> history;
    pool_lease lease;
    response_parser parser;
    std::optional<content_decoder> decoder;
    // Bytes read from the connection and not yet parsed.
    read_area raw;
    // Body bytes decoded and not yet handed out.
    std::string pending;
    std::size_t pending_begin = 0;
    // Deadlines for the body's reads.
    std::optional<clock::time_point> total_at;
    std::optional<std::chrono::milliseconds> total;
    std::optional<std::chrono::milliseconds> sock_read;
    bool body_done = false;   // the whole body was read (or there is none)
    bool broken = false;      // a read failed or was cancelled mid-body
    bool reading = false;     // one reader at a time
    body_reader reader{this};

    explicit response_state(response_parser p) : parser(std::move(p)) {}

    std::string describe() const { return method + " " + url_text; }
    std::size_t available() const noexcept { return pending.size() - pending_begin; }
    std::string take(std::size_t n);
    // Reads and decodes until some body bytes are pending (true) or the body
    // has ended (false); at the end, gives the connection back.
    task<bool> fill();
    // Feeds the raw bytes held to the parser and decoder.
    void parse_held();
    // The body has ended: finish decoding, give the connection back.
    void finish_body();
    void release() noexcept;
};

}  // namespace corio::http::detail
