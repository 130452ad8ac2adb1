// corio/net/stream.hpp: stream, asyncio's StreamReader and StreamWriter
// for C++ (docs/reference.md, Networking). open_connection, which gives
// one, is in corio/net/connect.hpp (included here); start_server in
// server.hpp.
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
// Failures are std::system_error naming the call and the peer
// ("stream::read from 127.0.0.1:8080: Connection reset by peer"; a closed
// stream: "...: the stream is closed", code EBADF); SIGPIPE is never
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
    /// Adopts a connected non-blocking socket (what accept or connect gave);
    /// sets TCP_NODELAY when `peer` is an IPv4 or IPv6 address.
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
    /// `async for line in reader`: the lines readline() would give, until
    /// EOF, as views into the stream's read buffer: no allocation or copy
    /// per line. A view is valid until the next line is asked for or the
    /// stream is read again; make a std::string of it to keep it. The stream
    /// must outlive the generator.
    async_generator<std::string_view> lines();
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
    /// cancelled handshake aborts the stream and throws: tls_error naming
    /// the peer and the reason (OpenSSL's, or the connection closed, reset
    /// or already closed before), or the cancellation. std::logic_error for
    /// a misuse (already TLS, another task reading).
    task<> start_tls(tls_context context, std::string server_hostname = std::string());
    bool is_tls() const noexcept;
    /// The protocol ALPN chose ("" if none or not TLS).
    std::string alpn_protocol() const;
    /// "TLSv1.3", "TLSv1.2"; "" if not TLS.
    std::string tls_version() const;

    // ---- the socket
    const address& peer_address() const;
    address local_address() const;
    /// TCP_NODELAY (on by default, as asyncio does; a no-op on Unix sockets).
    void set_nodelay(bool on);
    const stream_limits& limits() const;
    bool is_closed() const noexcept;
    int native_handle() const noexcept;

private:
    friend struct detail::stream_state;
    std::unique_ptr<detail::stream_state> state_;
};

}  // namespace corio

// open_connection, which most users of a stream start from.
#include <corio/net/connect.hpp>
