// corio/web/app_runner.hpp: serving an application: run_app (web.run_app) for
// a program that is only a server, app_runner with tcp_site / unix_site
// (web.AppRunner, web.TCPSite, web.UnixSite) inside a program that does more.
//
//   return corio::web::run_app(app, {.host = "127.0.0.1", .port = 8080});
//
//   co_await corio::with(corio::web::app_runner(app), [&](corio::web::app_runner& runner) -> corio::task<> {
//       corio::web::tcp_site site(runner, "127.0.0.1", 0);
//       co_await corio::with(site, [&](corio::web::tcp_site& s) -> corio::task<> {
//           std::printf("serving on port %u\n", s.port());
//           co_await stop_requested.wait();
//       });
//   });
//
// Lifecycle: the runner's aenter (setup) freezes the application and runs its
// on_startup hooks and enters its cleanup contexts; a site's aenter listens
// and its aexit shuts it down gracefully: the listener closes (a new
// connection is refused), idle keep-alive connections close, requests in
// flight have shutdown_timeout to finish (their connections then close) and
// are cancelled after it, their exits running. The runner's aexit (cleanup)
// shuts down its sites still open the same way, then runs on_shutdown, the
// exits of the cleanup contexts (reverse order) and on_cleanup.
// run_app does all of that on SIGINT or SIGTERM and returns 0; an error in
// setup is printed and gives 1.
// Protocol per connection: HTTP/1.1 keep-alive and pipelining (answers in
// request order), HTTP/1.0, HEAD, Expect: 100-continue, chunked request
// bodies; bad input gets its status (400, 413, 414, 431) and the connection
// closed; a head not complete within header_timeout closes the connection
// (slowloris), as does keepalive_timeout between requests; a handler running
// longer than handler_timeout (when set) is cancelled and answered 503; a
// client that closes its connection while its handler runs cancels the
// handler, whose exits run.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <corio/net/address.hpp>
#include <corio/net/tls.hpp>
#include <corio/task.hpp>
#include <corio/web/application.hpp>

namespace corio::web {

/// How a runner's sites serve connections.
struct server_settings {
    std::chrono::milliseconds shutdown_timeout{60'000};
    std::chrono::milliseconds keepalive_timeout{75'000};
    std::chrono::milliseconds header_timeout{30'000};
    /// A handler running longer is cancelled and answered 503 (none: no bound).
    std::optional<std::chrono::milliseconds> handler_timeout;
    /// One line per request on stdout, as aiohttp's access log.
    bool access_log = true;
    /// The Server header.
    std::string server_name = "corio";
};

struct run_app_options {
    std::string host = "0.0.0.0";
    std::uint16_t port = 8080;  // 0: any free port (logged)
    bool reuse_port = false;
    std::optional<tls_context> tls;
    /// Threads, each with its own loop, copy of the application and
    /// SO_REUSEPORT listener.
    std::size_t workers = 1;
    std::chrono::milliseconds shutdown_timeout{60'000};
    std::chrono::milliseconds keepalive_timeout{75'000};
    std::chrono::milliseconds header_timeout{30'000};
    std::optional<std::chrono::milliseconds> handler_timeout;
    bool access_log = true;
    /// Prints "======== Running on http://host:port ========" (as aiohttp).
    bool print_banner = true;
};

/// Serves `app` until SIGINT or SIGTERM; 0 after a graceful shutdown.
int run_app(application& app, run_app_options options = run_app_options());

namespace detail {
struct runner_state;
struct site_state;
}  // namespace detail

class app_runner {
public:
    explicit app_runner(application& app, server_settings settings = server_settings());
    app_runner(app_runner&&) noexcept;
    app_runner& operator=(app_runner&&) = delete;
    ~app_runner();

    task<app_runner&> aenter();
    task<> aexit(std::exception_ptr error);
    /// aenter's work: freeze, on_startup, cleanup contexts.
    task<> setup();
    /// aexit's work: shut the sites down, on_shutdown, cleanup contexts, on_cleanup.
    task<> cleanup();

    application& app() const noexcept;
    const server_settings& settings() const noexcept;
    /// Where the started sites listen.
    std::vector<address> addresses() const;

    detail::runner_state& state() const noexcept { return *state_; }

private:
    std::unique_ptr<detail::runner_state> state_;
};

struct site_options {
    std::optional<tls_context> tls;  // a tls_context::server: serve HTTPS
    bool reuse_port = false;
    int backlog = 128;
};

/// Listens on host:port for a runner (an async context manager).
class tcp_site {
public:
    tcp_site(app_runner& runner, std::string host, std::uint16_t port, site_options options = site_options());
    tcp_site(tcp_site&&) noexcept;
    ~tcp_site();

    task<tcp_site&> aenter();
    task<> aexit(std::exception_ptr error);
    task<> start();
    /// Graceful: see the file comment.
    task<> stop();
    /// The bound port (after start).
    std::uint16_t port() const;
    std::string name() const;

private:
    std::unique_ptr<detail::site_state> state_;
};

/// Listens on a Unix socket path for a runner (an async context manager).
class unix_site {
public:
    unix_site(app_runner& runner, std::string path, site_options options = site_options());
    unix_site(unix_site&&) noexcept;
    ~unix_site();

    task<unix_site&> aenter();
    task<> aexit(std::exception_ptr error);
    task<> start();
    task<> stop();
    const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
    std::unique_ptr<detail::site_state> state_;
};

}  // namespace corio::web
