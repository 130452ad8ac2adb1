// corio/net/stream.hpp: open_connection and stream, asyncio's streams for
// C++ (API.md section 9).
//
//   co_await corio::with(corio::open_connection("127.0.0.1", port),
//       [](corio::stream& s) -> corio::task<> {
//           co_await s.write_all("ping\n");
//           std::string line = co_await s.readline();
//       });
//
// One stream is asyncio's StreamReader and StreamWriter together, over a TCP
// or Unix socket.
//
// Reading is buffered. `read_until`/`readline` hold at most `limit` bytes
// (64 KiB by default) while looking for the separator, so a peer sending an
// endless line costs bounded memory (limit_overrun_error). One task reads at
// a time (a second is std::logic_error, as asyncio's RuntimeError).
//
// Writing follows asyncio's transport: `write(data)` hands the kernel what
// it takes at once and keeps the rest, which a background flush sends as the
// peer reads. `drain()` is the back-pressure: it returns at once while less
// than the high-water mark (64 KiB) waits, else when the buffer is down to
// the low-water mark (16 KiB). `write_all(data)` is write + drain. A
// connection lost during a background flush is reported by the next
// write_all/drain/close. `close()` flushes, sends FIN and closes; cancelled
// while it waits for a peer that does not read, it aborts (discards the
// buffer and closes at once), as `abort()` does. A stream destroyed without
// close() lets its background flush finish, then closes; debug mode reports
// it, naming the peer, as asyncio's "unclosed transport" warning does
// (except while an exception unwinds, since C++ cannot await close() in a
// catch handler: there the destructor is the cleanup).
//
// Failures are std::system_error naming the operation and the peer
// ("read from 127.0.0.1:8080: Connection reset by peer"); SIGPIPE is never
// raised. A read or write cancelled in flight loses nothing: data that had
// arrived stays buffered for the next read.
//
// TLS (connect_options::tls, server_options::tls, or start_tls on a plain
// stream) keeps every call above as it is; the bytes are encrypted on write
// and decrypted on read, and close() sends close_notify first. A peer that
// closes without close_notify reads as EOF, as in asyncio. write_eof() sends
// close_notify, then FIN (TLS 1.3 half-close).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <corio/async_generator.hpp>
#include <corio/net/address.hpp>
#include <corio/net/resolve.hpp>
#include <corio/net/tls.hpp>
#include <corio/detail/source_location.hpp>
#include <corio/task.hpp>

namespace corio {

namespace detail {
struct stream_state;
}

/// Buffer sizes of a stream (asyncio's limit and write-buffer limits).
struct stream_limits {
    std::size_t limit = 64 * 1024;       // readline/read_until: the most they hold
    std::size_t high_water = 64 * 1024;  // drain() waits while more than this is buffered...
    std::size_t low_water = 16 * 1024;   // ...until it is down to this
};

class stream {
public:
    stream() noexcept;
    /// Adopts a connected non-blocking socket (what accept or connect gave).
    stream(int fd, address peer, stream_limits limits = {});
    stream(stream&& other) noexcept;
    stream& operator=(stream&& other) noexcept;
    stream(const stream&) = delete;
    stream& operator=(const stream&) = delete;
    ~stream();

    // ---- reading (one task at a time)
    /// Up to `max` bytes: what is buffered, else what the next receive
    /// gives. Empty at EOF.
    task<std::string> read(std::size_t max = 65536);
    /// Like read, into the caller's memory (no copy through a string); 0 at EOF.
    task<std::size_t> read_some(std::span<std::byte> into);
    /// Exactly `n` bytes; incomplete_read_error (with what came) at EOF first.
    task<std::string> read_exactly(std::size_t n);
    /// Up to and including `separator`; incomplete_read_error at EOF first,
    /// limit_overrun_error once `limit` bytes are buffered without it (they
    /// stay buffered).
    task<std::string> read_until(std::string separator);
    /// A line with its '\n'; a last line without one as it is; then "" at EOF.
    task<std::string> readline();
    /// Everything until EOF (no limit: mind the peer).
    task<std::string> read_all();
    /// `async for line in reader`: each line (with its '\n') until EOF.
    async_generator<std::string> lines();
    /// True once EOF was received and the buffer is empty.
    bool at_eof() const noexcept;

    // ---- writing
    /// Sends what the kernel takes now; buffers the rest (never blocks).
    void write(std::string_view data);
    /// write(data), then drain().
    task<> write_all(std::string_view data);
    /// Back-pressure: see the file comment. Rethrows a failure of the
    /// background flush.
    task<> drain();
    /// Flushes, then shuts down the sending side (the peer reads EOF).
    task<> write_eof();
    /// Flushes, sends FIN, closes. Twice is harmless. Not cancellable in its
    /// closing step: the descriptor is always released.
    task<> close();
    /// Closes at once, discarding what is buffered (asyncio's
    /// transport.abort()): for a peer that stopped reading.
    void abort() noexcept;
    /// Bytes buffered and not yet handed to the kernel.
    std::size_t write_buffer_size() const noexcept;

    // ---- TLS
    /// Upgrades this plain stream to TLS and runs the handshake (asyncio's
    /// start_tls): what is buffered to send goes out in plain text first;
    /// bytes already received count as the peer's first TLS bytes. A client
    /// context verifies `server_hostname` (a name or an address literal; for
    /// a TCP stream it defaults to the peer's address). A failed or
    /// cancelled handshake aborts the stream and throws (tls_error naming
    /// the peer and OpenSSL's reason, or the cancellation).
    task<> start_tls(tls_context context, std::string server_hostname = std::string());
    bool is_tls() const noexcept;
    /// The protocol ALPN chose ("" if none or not TLS).
    std::string alpn_protocol() const;
    /// "TLSv1.3", "TLSv1.2"; "" if not TLS.
    std::string tls_version() const;

    // ---- the socket
    const address& peer_address() const;
    address local_address() const;
    /// TCP_NODELAY (on by default, as asyncio does).
    void set_nodelay(bool on);
    const stream_limits& limits() const;
    bool is_closed() const noexcept;
    int native_handle() const noexcept;

private:
    friend struct detail::stream_state;
    std::unique_ptr<detail::stream_state> state_;
};

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

namespace detail {
task<stream> connect_tcp(std::string host, std::uint16_t port, connect_options options);
task<stream> connect_unix(std::string path, connect_options options);
/// start_tls bounded by `limit` (a tls_error when it passes).
task<> handshake_within(stream& s, tls_context context, std::string server_hostname,
                        std::chrono::milliseconds limit);
}  // namespace detail

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
