// corio/net/server.hpp: start_server and start_unix_server (asyncio's
// start_server), docs/reference.md, Networking.
//
//   auto srv = co_await corio::start_server(
//       [](corio::stream s) -> corio::task<> {
//           while (auto line = co_await s.readline(); !line.empty()) co_await s.write_all(line);
//       }, "127.0.0.1", 0);
//   co_await corio::with(srv, [](corio::server& s) { return s.serve_forever(); });
//
// The server accepts from the moment start_server returns. Each connection's
// handler runs as a child task of the server, given the connection's stream
// by value (or by reference: the server then closes it gracefully after the
// handler returns). A handler's exception closes only its own connection
// (debug mode reports it); it never stops the server or the other
// connections. Debug mode reports a server destroyed without close() (or
// the exit of `with`), and a stream a handler took by value and returned
// without closing, as asyncio's "unclosed transport" warnings do. The exit of `with(srv, ...)`, or close() then wait_closed(),
// stops accepting, cancels the handlers and waits for their exits; handlers'
// exceptions are not rethrown.
//
// Limits: `max_connections` handlers at most; further connections wait in
// the kernel's backlog. Running out of descriptors (EMFILE) pauses accepting
// until a connection ends (or 100 ms pass) instead of stopping the server.
// On io_uring, accepting is one multishot accept per listening socket.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <corio/net/address.hpp>
#include <corio/net/stream.hpp>
#include <corio/net/tls.hpp>
#include <corio/detail/source_location.hpp>
#include <corio/task.hpp>

namespace corio {

struct server_options {
    int backlog = 128;
    bool reuse_address = true;  // SO_REUSEADDR, as asyncio on Unix
    bool reuse_port = false;    // SO_REUSEPORT: several servers share the port
    std::size_t max_connections = 0;  // 0: no limit
    std::size_t limit = 64 * 1024;    // each stream's reader limit
    /// Serve TLS (a tls_context::server): the handshake runs before the
    /// handler is called; a connection whose handshake fails or takes longer
    /// than tls_handshake_timeout is closed without calling it.
    std::optional<tls_context> tls;
    std::chrono::milliseconds tls_handshake_timeout{60'000};
};

class server;

namespace detail {
struct server_state;

// The handler, type-erased and stored by value in the server for as long as
// any connection runs (a capturing lambda cannot dangle).
struct connection_handler {
    virtual ~connection_handler() = default;
    /// Runs the handler for `s`; closes it afterwards when the handler took
    /// it by reference.
    virtual task<> serve(stream s) = 0;
};

template <class F>
struct connection_handler_of final : connection_handler {
    explicit connection_handler_of(F f) : f_(std::move(f)) {}
    // A handler that fails or is cancelled leaves its stream to be closed
    // by its destructor, as asyncio's server closes the transport then:
    // debug mode does not call that stream unclosed. One that returns
    // without closing a stream it took by value is (asyncio warns too).
    task<> serve(stream s) override {
        if constexpr (std::is_invocable_v<F&, stream&&>) {
            std::optional<std::invoke_result_t<F&, stream&&>> handler;
            handler.emplace(f_(std::move(s)));
            try {
                co_await std::move(*handler);
            } catch (...) {
                quiet_drops quiet;
                handler.reset();  // its frame, and the stream in it
                throw;
            }
        } else {
            static_assert(std::is_invocable_v<F&, stream&>,
                          "start_server: the handler must take a corio::stream (by value or by reference) "
                          "and return a task");
            try {
                co_await f_(s);
            } catch (...) {
                quiet_drops quiet;
                stream dropped(std::move(s));
                throw;
            }
            co_await s.close();
        }
    }
    F f_;
};

struct listen_spec {
    std::string host;  // empty for a Unix path
    std::uint16_t port = 0;
    std::string unix_path;
};

task<server> start_server_impl(std::unique_ptr<connection_handler> handler, listen_spec where,
                               server_options options, corio::source_location location);
}  // namespace detail

class server {
public:
    server() noexcept;
    explicit server(std::unique_ptr<detail::server_state> state) noexcept;
    server(server&& other) noexcept;
    server& operator=(server&& other) noexcept;
    server(const server&) = delete;
    server& operator=(const server&) = delete;
    /// Without close()/wait_closed(): stops accepting and cancels the
    /// handlers; their exits run later on the loop.
    ~server();

    task<server&> aenter();
    task<> aexit(std::exception_ptr error);

    /// Waits until the server is closed (cancel it, or call close()).
    task<> serve_forever();
    /// Stops accepting and cancels every handler (asyncio's close + cancel).
    void close() noexcept;
    /// Stops accepting and closes the listening sockets (a new connection is
    /// refused), leaving the running handlers alone: the first step of a
    /// graceful shutdown (then wait for connections() to drop, then close()).
    void stop_accepting() noexcept;
    /// Waits until every handler has ended; after close().
    task<> wait_closed();

    /// The first listening address's port (useful with port 0).
    std::uint16_t port() const;
    std::vector<address> addresses() const;
    /// Connections whose handler is running.
    std::size_t connections() const noexcept;
    bool is_serving() const noexcept;

private:
    std::unique_ptr<detail::server_state> state_;
};

/// asyncio.start_server: listens on every address of `host` ("" or "0.0.0.0"
/// for all IPv4, "::" for all IPv6) at `port` (0: the kernel picks).
// The defaults are `server_options()`, not `{}`: g++ 12 copies a braced
// default argument bitwise when the call stands in a co_await expression.
template <class Handler>
task<server> start_server(Handler handler, std::string host, std::uint16_t port, server_options options = server_options(),
                          corio::source_location where = corio::source_location::current()) {
    return detail::start_server_impl(
        std::make_unique<detail::connection_handler_of<Handler>>(std::move(handler)),
        detail::listen_spec{std::move(host), port, {}}, std::move(options), where);
}

/// asyncio.start_unix_server: an existing socket file at `path` is replaced.
template <class Handler>
task<server> start_unix_server(Handler handler, std::string path, server_options options = server_options(),
                               corio::source_location where = corio::source_location::current()) {
    return detail::start_server_impl(
        std::make_unique<detail::connection_handler_of<Handler>>(std::move(handler)),
        detail::listen_spec{{}, 0, std::move(path)}, std::move(options), where);
}

}  // namespace corio
