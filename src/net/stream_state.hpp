// stream_state: what a corio::stream holds, shared by the files that make
// the stream (private to src/net).
//
//   stream.cpp        lifetime (construct, move, destroy) and socket options
//   stream_read.cpp   the read buffer and its parsing (read_until, readline...)
//   stream_write.cpp  the write buffer, its background flush, drain and close
//   stream_tls.cpp    start_tls and the TLS side of reading and writing
//
// The state lives on the heap so that a stream can move while its
// background flush (a detached task holding a stream_state*) runs; a stream
// destroyed during a flush leaves the state to the flush, which closes the
// socket and frees it ("orphaned").
//
// The error texts follow one pattern: the member (`stream::read`), the peer
// (`from 1.2.3.4:80`), then `: ` and the reason. `operation` arguments below
// are the first two words ("stream::read from"); the peer is added here.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include <corio/detail/io_await.hpp>
#include <corio/detail/read_buffer.hpp>
#include <corio/net/stream.hpp>
#include <corio/sync/event.hpp>
#include <corio/tasks/spawn.hpp>

#include "busy_guard.hpp"
#include "tls_session.hpp"

namespace corio::detail {

struct stream_state;

// One receive into memory the caller chooses, which close() from another
// task can end (it cancels `read_op`). Gives the bytes (0 at EOF) or
// -ECANCELED when close() ended it; any other failure throws, naming
// `operation` and the peer. An awaitable, not a coroutine: the op lives in
// the awaiting frame.
class stream_receive : public io_await {
public:
    stream_receive(stream_state& st, void* into, std::size_t size, const char* operation) noexcept;
    bool await_suspend(std::coroutine_handle<> h);
    std::int64_t await_resume();

private:
    stream_state& st_;
    const char* operation_;
};

struct stream_state {
    int fd = -1;
    address peer;
    stream_limits limits;

    // Reading: what was received and not yet read.
    read_buffer in;
    bool eof = false;
    bool reading = false;
    io_op* read_op = nullptr;  // the receive in flight, so close() can end it

    // Writing: write() appends to `pending`; the background flush swaps it
    // into `sending`, which the kernel reads while a send is in flight
    // (so an append never moves memory the kernel is reading).
    std::string pending;
    std::string sending;
    std::size_t sent = 0;  // of `sending`
    bool flushing = false;
    join_handle<> flusher;  // to cancel it on abort
    bool orphaned = false;  // the stream is gone: the flush closes and frees us
    bool write_shut = false;
    bool closed = false;
    std::exception_ptr write_error;
    event progress;  // set by the flush when under the low-water mark, or done

    // TLS: plaintext goes through the session, whose ciphertext lands in
    // `pending` (declared above, so it outlives the session).
    std::unique_ptr<tls_session> tls;

    std::size_t buffered_out() const noexcept { return pending.size() + sending.size() - sent; }

    /// "<operation> <peer>" (the peer's name as TLS gives it, with the host
    /// name a client verified), for error texts.
    std::string describe(std::string_view operation) const;
    /// A std::system_error naming `operation` and the peer.
    [[noreturn]] void fail(int error, std::string_view operation) const;

    // ---- reading (stream_read.cpp, stream_tls.cpp)
    /// Room for at least one receive; `want` more bytes buffered if possible.
    void make_room(std::size_t want);
    /// The length of the next line with its '\n' if it is buffered (and
    /// within the limit), else 0: readline's fast path, without a search
    /// loop or a coroutine frame.
    std::size_t buffered_line() const noexcept {
        const std::size_t n = in.line_length();
        return n <= limits.limit ? n : 0;
    }
    /// The length of the next line (with its '\n'; at EOF, what is left:
    /// 0 when nothing is), receiving as needed.
    task<std::size_t> next_line(const char* operation);
    /// One receive into the buffer; false at EOF.
    task<bool> fill(const char* operation);
    task<bool> fill_tls(const char* operation);
    /// One receive of ciphertext into the TLS session; false when close()
    /// from another task ended it.
    task<bool> receive_ciphertext(const char* operation);

    // ---- writing (stream_write.cpp)
    /// One non-blocking send of the front of `data`: the bytes the kernel
    /// took (0 when its buffer is full), or -errno.
    std::int64_t send_now(std::string_view data) noexcept {
        for (;;) {
            const ssize_t n = ::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n >= 0) return n;
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            return -errno;
        }
    }
    /// Sends what TLS queued in `pending`: now if the kernel takes it, else
    /// by the background flush. A failure is thrown (`raise`) or kept for
    /// the next write.
    void send_output(bool raise);
    void start_flush();
    /// Waits while the background flush runs with more than `keep` bytes
    /// buffered; by default until it has ended (sent everything, or failed).
    task<> wait_flush(std::size_t keep = flush_ended);
    static constexpr std::size_t flush_ended = static_cast<std::size_t>(-1);

    // ---- TLS (stream_tls.cpp)
    task<> handshake();
};

/// The state of a stream that is open, else the state error naming
/// `operation` ("stream::write to").
stream_state* open_state(const std::unique_ptr<stream_state>& st, const char* operation);

/// The one reader of `st` for one operation.
inline busy_guard read_turn(stream_state& st, const char* operation) {
    return busy_guard(st.reading, [&] { return st.describe(operation) + ": another task is already reading"; });
}

/// start_tls bounded by `limit` (a tls_error when it passes), for
/// open_connection and start_server.
task<> handshake_within(stream& s, tls_context context, std::string server_hostname,
                        std::chrono::milliseconds limit);

}  // namespace corio::detail
