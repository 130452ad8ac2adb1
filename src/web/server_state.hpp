// Private to src/web: the state behind app_runner (runner_state), each site
// (site_state) and each connection (connection_state), and the per-connection
// protocol loop that serve_connection runs.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <corio/context/exit_stack.hpp>
#include <corio/detail/fiber.hpp>
#include <corio/http/parser.hpp>
#include <corio/net/server.hpp>
#include <corio/net/stream.hpp>
#include <corio/sync/event.hpp>
#include <corio/time/timeout.hpp>
#include <corio/web/app_runner.hpp>

#include "../http/read_area.hpp"
#include "route_table.hpp"

namespace corio::web::detail {

using clock = std::chrono::steady_clock;

struct connection_state;
struct site_state;

struct runner_state {
    application* app = nullptr;
    server_settings settings;
    std::optional<route_table> table;
    exit_stack cleanup_contexts;
    std::vector<site_state*> sites;
    bool set_up = false;
    bool cleaned_up = false;
};

struct site_state {
    runner_state* runner = nullptr;
    std::string host;
    std::uint16_t port = 0;
    std::string unix_path;
    site_options options;
    std::optional<corio::server> server;
    // The connections being served (an intrusive list: no allocation).
    connection_state* first = nullptr;
    std::size_t connections = 0;
    event connection_ended;
    bool shutting_down = false;
    bool started = false;

    void link(connection_state* c) noexcept;
    void unlink(connection_state* c) noexcept;
    // The graceful stop of app_runner.hpp.
    task<> stop();
};

// One connection's protocol state; lives in serve_connection's frame.
struct connection_state {
    connection_state(corio::stream& s, site_state& site);
    ~connection_state();
    connection_state(const connection_state&) = delete;
    connection_state& operator=(const connection_state&) = delete;

    corio::stream& s;
    site_state& site;
    runner_state& runner;
    const server_settings& settings;
    http::detail::read_area in;
    http::request_parser parser;
    std::string out;  // the response being written
    timeout_scope* scope = nullptr;  // the connection's; cancelled to end it

    // The watchdog: one lazily moved timer per connection (not one per
    // request): it ends a head that takes too long or a keep-alive wait, and
    // while a handler runs it looks whether the peer has gone.
    struct watchdog_timer : corio::detail::timer_node {
        connection_state* owner = nullptr;
    } watchdog;
    clock::time_point head_deadline = clock::time_point::max();  // max: no head awaited
    bool idle = true;             // waiting for a request's first byte
    bool in_handler = false;      // a handler runs with its body read: watch for the peer leaving
    bool peer_gone = false;

    // The request being served.
    request* current = nullptr;
    std::size_t client_max_size = 0;
    bool body_done = true;
    bool body_broken = false;      // a body read failed or was cut: the connection closes
    bool expect_continue = false;  // Expect: 100-continue, not yet answered
    bool head_only = false;        // HEAD: no body is sent
    bool must_close = false;
    std::string piece;             // content()'s current piece

    // A stream_response in progress.
    bool streaming = false;
    bool stream_chunked = false;
    bool stream_ended = false;

    connection_state* prev = nullptr;
    connection_state* next = nullptr;

    task<> serve();
    // Appends the next body bytes to `into`; false once the body has ended.
    task<bool> read_body_piece(std::string& into);
    // The rest of the body, appended to `into`, within client_max_size.
    task<> read_body(std::string& into);

    void arm_watchdog(clock::time_point when) noexcept;
    static void on_watchdog(corio::detail::wait_node* t) noexcept;
    void end_now() noexcept;  // cancels the connection's scope

    // Writing a response.
    void begin_head(int status, std::string_view reason, const http::headers& headers, bool keep_alive);
    task<> send(request& req, response& resp);
    task<> send_file(request& req, response& resp);
    task<> flush();
    task<> stream_prepare(request& req, response& resp);
    task<> stream_write(std::string_view chunk);
    task<> stream_end();
};

task<> serve_connection(corio::stream& s, site_state& site);

// "Mon, 07 Dec 2026 02:07:58 GMT" for now; made once a second.
std::string_view http_date_now();
std::string http_date(std::time_t t);
std::optional<std::time_t> parse_http_date(std::string_view text);

// gzip or deflate of `body` per Accept-Encoding; empty when neither applies.
std::string compress_for(std::string_view accept_encoding, std::string_view body, std::string& encoding);

}  // namespace corio::web::detail
