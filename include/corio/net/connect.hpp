// corio/net/connect.hpp: open_connection and open_unix_connection,
// asyncio's, giving a corio::stream (docs/reference.md, Networking).
//
//   co_await corio::with(corio::open_connection("example.com", 443, options),
//       [](corio::stream& s) -> corio::task<> { ... });
//   corio::stream s = co_await corio::open_connection("127.0.0.1", port);  // close it yourself
//
// A host name is resolved (asynchronously, /etc/hosts first); when it has
// several addresses, Happy Eyeballs (RFC 8305) tries them in turn, a new
// attempt every happy_eyeballs_delay or as soon as one fails, and the first
// to connect wins. connect_timeout bounds all of it, resolving included.
// With connect_options::tls the handshake follows, bounded by
// tls_handshake_timeout. Failures are std::system_error naming the call and
// the peer ("open_connection to 127.0.0.1:8080: Connection refused"), or
// tls_error for the handshake; a cancelled or failed connect leaves no
// socket open.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>

#include <corio/net/address.hpp>
#include <corio/net/resolve.hpp>
#include <corio/net/stream.hpp>
#include <corio/net/tls.hpp>
#include <corio/task.hpp>

namespace corio {

/// open_connection's options.
struct connect_options {
    /// Gives up connecting (all addresses, resolving included) after this
    /// long: std::system_error with ETIMEDOUT naming the host.
    std::optional<std::chrono::milliseconds> connect_timeout;
    /// Bind the socket here before connecting.
    std::optional<address> local_address;
    /// RFC 8305: when a name has several addresses, the next attempt starts
    /// after this delay or when the previous one fails, first to connect wins.
    std::chrono::milliseconds happy_eyeballs_delay{250};
    /// How a host name is resolved: family, timeout, name servers (the
    /// connect_timeout covers resolving too).
    resolve_options resolve{};
    stream_limits limits{};
    /// Connect with TLS (usually tls_context::client()).
    std::optional<tls_context> tls;
    /// The name the server's certificate must carry and SNI sends; empty:
    /// the host given to open_connection (required for Unix sockets).
    std::string server_hostname;
    /// A handshake not done within this is a tls_error (asyncio's
    /// ssl_handshake_timeout).
    std::chrono::milliseconds tls_handshake_timeout{60'000};
};

/// What open_connection() gives: an async context manager (aenter: stream&,
/// aexit: close) that can also be awaited for a stream you close yourself.
class connection_opener {
public:
    explicit connection_opener(task<stream> connect) noexcept : connect_(std::move(connect)) {}

    task<stream&> aenter();
    task<> aexit(std::exception_ptr error);
    auto operator co_await() && { return std::move(connect_).operator co_await(); }

private:
    task<stream> connect_;
    std::optional<stream> stream_;
};

// The defaults are `connect_options()`, not `{}`: g++ 12 copies a braced
// default argument bitwise when the call stands in a co_await expression
// (an empty std::string member then points into the caller's frame).
/// asyncio.open_connection: `host` is a name or a literal address.
connection_opener open_connection(std::string host, std::uint16_t port, connect_options options = connect_options());
/// asyncio.open_unix_connection.
connection_opener open_unix_connection(std::string path, connect_options options = connect_options());

}  // namespace corio
