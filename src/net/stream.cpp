// stream: buffered reads over recv ops, asyncio-style writes with a
// background flush, and close; with TLS, a tls_session between the two and
// the socket. See corio/net/stream.hpp.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <coroutine>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <corio/detail/io_await.hpp>
#include <corio/detail/promise_base.hpp>
#include <corio/detail/socket.hpp>
#include <corio/errors.hpp>
#include <corio/net/stream.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/sync/event.hpp>
#include <corio/time/timeout.hpp>

#include "tls_session.hpp"

namespace corio::detail {

namespace {
// A new connection's read buffer. Small, so that an idle connection costs
// little; it doubles whenever a receive fills it.
constexpr std::size_t initial_read_capacity = 1024;
constexpr std::size_t bulk_read_capacity = 64 * 1024;
}  // namespace

struct stream_state;

// One receive into memory the caller chooses, which close() from another
// task can end (it cancels `read_op`). Gives the bytes (0 at EOF) or
// -ECANCELED when close() ended it; any other failure throws, naming the
// peer. An awaitable, not a coroutine: the op lives in the awaiting frame.
class stream_receive : public io_await {
public:
    stream_receive(stream_state& st, void* into, std::size_t size) noexcept;
    bool await_suspend(std::coroutine_handle<> h);
    std::int64_t await_resume();

private:
    stream_state& st_;
};

struct stream_state {
    int fd = -1;
    address peer;
    stream_limits limits;

    // Reading: the bytes [begin, end) of `in` are buffered.
    std::unique_ptr<char[]> in;
    std::size_t in_capacity = 0;
    std::size_t in_begin = 0;
    std::size_t in_end = 0;
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

    std::size_t buffered_in() const noexcept { return in_end - in_begin; }
    std::size_t buffered_out() const noexcept { return pending.size() + sending.size() - sent; }
    std::string_view view_in() const noexcept { return {in.get() + in_begin, buffered_in()}; }
    std::string take_in(std::size_t n) {
        std::string out(in.get() + in_begin, n);
        consume(n);
        return out;
    }
    void consume(std::size_t n) noexcept {
        in_begin += n;
        if (in_begin == in_end) in_begin = in_end = 0;
    }

    void check_open(const char* operation) const {
        if (closed) throw_socket_error(EBADF, std::string(operation) + " (the stream is closed)", peer);
    }

    // Room for at least one receive; `want` more bytes buffered if possible.
    void make_room(std::size_t want) {
        if (in_begin > 0 && (in_end == in_capacity || in_capacity - in_end < want)) {
            std::memmove(in.get(), in.get() + in_begin, buffered_in());
            in_end -= in_begin;
            in_begin = 0;
        }
        if (in_end < in_capacity) return;
        const std::size_t capacity = std::max(in_capacity * 2, initial_read_capacity);
        auto bigger = std::make_unique<char[]>(capacity);
        if (in_end > 0) std::memcpy(bigger.get(), in.get(), in_end);
        in = std::move(bigger);
        in_capacity = capacity;
    }

    // One receive into the buffer; false at EOF.
    task<bool> fill() {
        make_room(1);
        if (tls) co_return co_await fill_tls();
        std::int64_t r = co_await stream_receive(*this, in.get() + in_end, in_capacity - in_end);
        if (r < 0) r = 0;  // close() from another task: EOF, as asyncio's reader sees
        if (r == 0) {
            eof = true;
            co_return false;
        }
        const bool filled = static_cast<std::size_t>(r) == in_capacity - in_end;
        in_end += static_cast<std::size_t>(r);
        // A receive that filled the buffer: more is probably coming.
        if (filled && in_capacity < bulk_read_capacity) make_room(in_capacity + 1);
        co_return true;
    }

    // TLS: decrypts into the read buffer, receiving ciphertext as needed.
    task<bool> fill_tls() {
        for (;;) {
            std::size_t got = 0;
            const std::size_t room = in_capacity - in_end;
            const tls_session::read_status status = tls->read(in.get() + in_end, room, got);
            send_output(false);  // a TLS 1.3 key update is answered
            if (status == tls_session::read_status::data) {
                in_end += got;
                if (got == room && in_capacity < bulk_read_capacity) make_room(in_capacity + 1);
                co_return true;
            }
            if (status == tls_session::read_status::eof || !co_await receive_ciphertext()) {
                eof = true;
                co_return false;
            }
        }
    }

    // One receive of ciphertext into the TLS session; false when close()
    // from another task ended it.
    task<bool> receive_ciphertext() {
        const std::span<char> room = tls->input_space();
        const std::int64_t r = co_await stream_receive(*this, room.data(), room.size());
        if (r < 0) co_return false;
        if (r == 0)
            tls->input_eof();
        else
            tls->input_received(static_cast<std::size_t>(r));
        co_return true;
    }

    task<> handshake() {
        for (;;) {
            bool done;
            try {
                done = tls->handshake();
            } catch (...) {
                send_output(false);  // the alert tells the peer why
                throw;
            }
            send_output(true);
            if (done) co_return;
            if (!co_await receive_ciphertext())
                throw_socket_error(EBADF, "TLS handshake with (the stream was closed)", peer);
        }
    }

    // Sends what TLS queued in `pending`: now if the kernel takes it, else
    // by the background flush. A failure is thrown (`raise`) or kept for the
    // next write.
    void send_output(bool raise) {
        if (flushing || pending.empty() || closed) return;
        for (;;) {
            const ssize_t n = ::send(fd, pending.data(), pending.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n >= 0) {
                pending.erase(0, static_cast<std::size_t>(n));
                break;
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            pending.clear();
            if (raise) throw_socket_error(errno, "write to", peer);
            try {
                throw_socket_error(errno, "write to", peer);
            } catch (...) {
                write_error = std::current_exception();
            }
            return;
        }
        if (!pending.empty()) start_flush();
    }

    void start_flush();
};

inline stream_receive::stream_receive(stream_state& st, void* into, std::size_t size) noexcept
    : io_await("stream.read"), st_(st) {
    code = io_opcode::recv;
    fd = st.fd;
    buffer = into;
    length = static_cast<std::uint32_t>(std::min<std::size_t>(size, std::size_t{1} << 30));
    stream_socket = true;
}

inline bool stream_receive::await_suspend(std::coroutine_handle<> h) {
    st_.read_op = this;
    return io_await::await_suspend(h);
}

inline std::int64_t stream_receive::await_resume() {
    st_.read_op = nullptr;
    const std::int64_t r = io_await::await_resume();
    if (r == -ECANCELED && st_.closed) return -ECANCELED;
    if (r < 0) throw_socket_error(static_cast<int>(-r), "read from", st_.peer);
    return r;
}

namespace {

// Marks the stream as having a reader for the duration of one operation.
class read_guard {
public:
    read_guard(stream_state* st, const char* operation) : st_(st) {
        if (st == nullptr) throw_socket_error(EBADF, std::string(operation) + " (an empty stream)", std::string_view());
        st->check_open(operation);
        if (st->reading)
            throw std::logic_error(std::string(operation) + ": another task is already reading from " +
                                   st->peer.to_string());
        st->reading = true;
    }
    ~read_guard() { st_->reading = false; }
    read_guard(const read_guard&) = delete;
    read_guard& operator=(const read_guard&) = delete;

private:
    stream_state* st_;
};

stream_state* checked(const std::unique_ptr<stream_state>& st, const char* operation) {
    if (!st) throw_socket_error(EBADF, std::string(operation) + " (an empty stream)", std::string_view());
    st->check_open(operation);
    return st.get();
}

// The background flush: a detached task that sends what write() could not,
// as asyncio's transport does from its writer callback. It holds the state
// by pointer; an orphaned state (its stream destroyed meanwhile) is closed
// and freed here when the flush ends.
task<> flush_in_background(stream_state* st) {
    try {
        while (!st->pending.empty()) {
            st->sending.swap(st->pending);
            st->pending.clear();
            st->sent = 0;
            while (st->sent < st->sending.size()) {
                io_await op("stream.write");
                op.code = io_opcode::send;
                op.fd = st->fd;
                op.buffer = st->sending.data() + st->sent;
                op.length = static_cast<std::uint32_t>(std::min<std::size_t>(st->sending.size() - st->sent, 1u << 30));
                const std::int64_t r = co_await op;
                if (r < 0) throw_socket_error(static_cast<int>(-r), "write to", st->peer);
                st->sent += static_cast<std::size_t>(r);
                if (st->buffered_out() <= st->limits.low_water) st->progress.set();
            }
            st->sending.clear();
            st->sent = 0;
        }
    } catch (...) {
        // abort() set its own error first; keep that one.
        if (!st->write_error) st->write_error = std::current_exception();
    }
    st->flushing = false;
    st->progress.set();
    st->flusher.detach();
    if (st->closed && !st->orphaned && st->fd >= 0) {
        // abort() left the socket to us: the kernel was reading `sending`.
        close_socket(st->fd);
        st->fd = -1;
    }
    if (st->orphaned) {
        if (st->write_error && debug_enabled())
            std::fprintf(stderr, "corio debug: stream to %s: %zu buffered bytes not sent: %s\n",
                         st->peer.to_string().c_str(), st->buffered_out(), describe(st->write_error).c_str());
        close_socket(st->fd);
        delete st;
    }
}

}  // namespace

void stream_state::start_flush() {
    flushing = true;
    progress.clear();
    flusher = corio::spawn(flush_in_background(this));
}

}  // namespace corio::detail

namespace corio {

using detail::stream_state;

stream::stream() noexcept = default;

stream::stream(int fd, address peer, stream_limits limits) : state_(std::make_unique<stream_state>()) {
    if (limits.limit == 0) throw std::invalid_argument("stream: limit must be at least 1 byte");
    if (limits.low_water > limits.high_water)
        throw std::invalid_argument("stream: low_water (" + std::to_string(limits.low_water) +
                                    ") is above high_water (" + std::to_string(limits.high_water) + ")");
    state_->fd = fd;
    state_->peer = std::move(peer);
    state_->limits = limits;
}

stream::stream(stream&& other) noexcept = default;

stream& stream::operator=(stream&& other) noexcept {
    if (this != &other) {
        stream old(std::move(*this));
        state_ = std::move(other.state_);
    }
    return *this;
}

namespace {

// asyncio's "ResourceWarning: unclosed transport", in debug mode.
void report_unclosed_stream(const stream_state& st) noexcept {
    try {
        address local;
        socklen_t size = address::capacity;
        const bool named = ::getsockname(st.fd, local.data(), &size) == 0;
        if (named) local.resize(size);
        std::fprintf(stderr, "corio debug: unclosed %sstream to %s (local %s): destroyed without close()\n",
                     st.tls ? "TLS " : "", st.peer.to_string().c_str(),
                     named ? local.to_string().c_str() : "unknown");
    } catch (...) {
        std::fprintf(stderr, "corio debug: unclosed stream: destroyed without close()\n");
    }
}

}  // namespace

stream::~stream() {
    if (!state_) return;
    if (!state_->closed && detail::report_unclosed()) [[unlikely]]
        report_unclosed_stream(*state_);
    if (state_->flushing) {  // also after abort(), until its cancelled send ends
        // Let the flush finish, as asyncio's transport.close() does; it
        // closes and frees the state.
        state_->orphaned = true;
        (void)state_.release();
        return;
    }
    if (!state_->closed) detail::close_socket(state_->fd);
}

// ---------------------------------------------------------------- reading

task<std::string> stream::read(std::size_t max) {
    stream_state* st = state_.get();
    detail::read_guard guard(st, "read from");
    if (max == 0) co_return std::string();
    if (st->buffered_in() == 0 && !st->eof) co_await st->fill();
    co_return st->take_in(std::min(max, st->buffered_in()));
}

task<std::size_t> stream::read_some(std::span<std::byte> into) {
    stream_state* st = state_.get();
    detail::read_guard guard(st, "read from");
    if (into.empty()) co_return 0;
    if (st->buffered_in() == 0 && !st->eof) {
        if (!st->tls && into.size() >= st->in_capacity) {
            // Large reads go straight into the caller's memory.
            std::int64_t r = co_await detail::stream_receive(*st, into.data(), into.size());
            if (r < 0) r = 0;  // ended by close(): EOF
            if (r == 0) st->eof = true;
            co_return static_cast<std::size_t>(r);
        }
        co_await st->fill();
    }
    const std::size_t n = std::min(into.size(), st->buffered_in());
    std::memcpy(into.data(), st->in.get() + st->in_begin, n);
    st->consume(n);
    co_return n;
}

task<std::string> stream::read_exactly(std::size_t n) {
    stream_state* st = state_.get();
    detail::read_guard guard(st, "read_exactly from");
    while (st->buffered_in() < n && !st->eof) {
        st->make_room(std::min(n - st->buffered_in(), std::size_t{1} << 20));
        co_await st->fill();
    }
    if (st->buffered_in() < n) {
        const std::size_t got = st->buffered_in();
        throw incomplete_read_error(st->take_in(got), n,
                                    "read_exactly from " + st->peer.to_string() + ": EOF after " +
                                        std::to_string(got) + " of " + std::to_string(n) + " bytes");
    }
    co_return st->take_in(n);
}

namespace {

// The shared loop of read_until and readline. Gives the length up to and
// including the separator, or npos at EOF.
task<std::size_t> find_separator(stream_state* st, std::string_view separator, const char* operation) {
    std::size_t searched = 0;  // bytes already known not to start a separator
    for (;;) {
        const std::string_view have = st->view_in();
        const std::size_t at = have.find(separator, searched);
        if (at != std::string_view::npos) {
            if (at + separator.size() > st->limits.limit)
                throw limit_overrun_error(at + separator.size(),
                                          std::string(operation) + " " + st->peer.to_string() +
                                              ": separator found after the limit of " +
                                              std::to_string(st->limits.limit) + " bytes");
            co_return at + separator.size();
        }
        if (have.size() >= st->limits.limit)
            throw limit_overrun_error(have.size(), std::string(operation) + " " + st->peer.to_string() +
                                                       ": no separator within the limit of " +
                                                       std::to_string(st->limits.limit) + " bytes");
        if (st->eof) co_return std::string_view::npos;
        searched = have.size() >= separator.size() ? have.size() - separator.size() + 1 : 0;
        co_await st->fill();
    }
}

}  // namespace

task<std::string> stream::read_until(std::string separator) {
    stream_state* st = state_.get();
    detail::read_guard guard(st, "read_until from");
    if (separator.empty()) throw std::invalid_argument("read_until: the separator is empty");
    const std::size_t n = co_await find_separator(st, separator, "read_until from");
    if (n == std::string_view::npos) {
        const std::size_t got = st->buffered_in();
        throw incomplete_read_error(st->take_in(got), 0,
                                    "read_until from " + st->peer.to_string() + ": EOF after " +
                                        std::to_string(got) + " bytes without the separator");
    }
    co_return st->take_in(n);
}

task<std::string> stream::readline() {
    stream_state* st = state_.get();
    detail::read_guard guard(st, "readline from");
    const std::size_t n = co_await find_separator(st, "\n", "readline from");
    co_return st->take_in(n == std::string_view::npos ? st->buffered_in() : n);
}

task<std::string> stream::read_all() {
    stream_state* st = state_.get();
    detail::read_guard guard(st, "read_all from");
    while (!st->eof) {
        st->make_room(std::max<std::size_t>(st->in_capacity / 2, 1));
        co_await st->fill();
    }
    co_return st->take_in(st->buffered_in());
}

async_generator<std::string> stream::lines() {
    for (;;) {
        std::string line = co_await readline();
        if (line.empty()) co_return;
        co_yield std::move(line);
    }
}

bool stream::at_eof() const noexcept { return state_ && state_->eof && state_->buffered_in() == 0; }

// ---------------------------------------------------------------- writing

void stream::write(std::string_view data) {
    stream_state* st = detail::checked(state_, "write to");
    if (st->write_error) std::rethrow_exception(st->write_error);
    if (st->write_shut) detail::throw_socket_error(EPIPE, "write to (after write_eof)", st->peer);
    if (data.empty()) return;
    if (st->tls) {
        st->tls->write(data);
        st->send_output(true);
        return;
    }
    if (!st->flushing) {
        // Nothing queued: the kernel takes what it can now (asyncio's
        // transport.write does the same), usually everything.
        for (;;) {
            const ssize_t n = ::send(st->fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n >= 0) {
                data.remove_prefix(static_cast<std::size_t>(n));
                break;
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            detail::throw_socket_error(errno, "write to", st->peer);
        }
        if (data.empty()) return;
    }
    st->pending.append(data);
    if (!st->flushing) st->start_flush();
}

task<> stream::write_all(std::string_view data) {
    write(data);
    if (state_->flushing && state_->buffered_out() > state_->limits.high_water) co_await drain();
}

task<> stream::drain() {
    stream_state* st = detail::checked(state_, "drain to");
    if (st->buffered_out() > st->limits.high_water) {
        while (st->flushing && st->buffered_out() > st->limits.low_water) {
            st->progress.clear();
            co_await st->progress.wait();
        }
    }
    if (st->write_error) std::rethrow_exception(st->write_error);
}

task<> stream::write_eof() {
    stream_state* st = detail::checked(state_, "write_eof to");
    if (st->tls && !st->write_shut && !st->write_error) {
        st->tls->shutdown();  // close_notify, then FIN
        st->send_output(true);
    }
    while (st->flushing) {
        st->progress.clear();
        co_await st->progress.wait();
    }
    if (st->write_error) std::rethrow_exception(st->write_error);
    if (!st->write_shut && ::shutdown(st->fd, SHUT_WR) != 0 && errno != ENOTCONN)
        detail::throw_socket_error(errno, "write_eof to", st->peer);
    st->write_shut = true;
}

task<> stream::close() {
    if (!state_ || state_->closed) co_return;
    stream_state* st = state_.get();
    if (st->tls && !st->write_error) {
        // close_notify. A peer already gone makes it fail: that is no error
        // of close() unless data of the caller's was waiting to go too.
        const bool data_waiting = st->buffered_out() > 0;
        st->tls->shutdown();
        st->send_output(false);
        if (!data_waiting && !st->flushing) st->write_error = nullptr;
    }
    std::exception_ptr error;
    try {
        while (st->flushing) {
            st->progress.clear();
            co_await st->progress.wait();
        }
    } catch (...) {
        error = std::current_exception();  // cancelled: abort, then rethrow
    }
    if (error) {
        abort();
        std::rethrow_exception(error);
    }
    st->closed = true;
    if (st->read_op != nullptr) detail::tls_loop->io().cancel(st->read_op);  // the reader sees EOF
    detail::close_socket(st->fd);
    st->fd = -1;
    if (st->write_error) std::rethrow_exception(st->write_error);
}

void stream::abort() noexcept {
    if (!state_ || state_->closed) return;
    stream_state* st = state_.get();
    st->closed = true;
    if (st->read_op != nullptr) detail::tls_loop->io().cancel(st->read_op);
    if (!st->flushing) {
        detail::close_socket(st->fd);
        st->fd = -1;
        return;
    }
    // The flush ends at its cancelled send and closes the socket then. The
    // state stays ours: a task waiting in drain() or close() wakes up to
    // ECONNABORTED (asyncio's drain after abort: ConnectionResetError).
    st->pending.clear();
    try {
        detail::throw_socket_error(ECONNABORTED, "write to (the stream was aborted)", st->peer);
    } catch (...) {
        if (!st->write_error) st->write_error = std::current_exception();
    }
    st->flusher.cancel();
}

std::size_t stream::write_buffer_size() const noexcept { return state_ ? state_->buffered_out() : 0; }

// ---------------------------------------------------------------- TLS

task<> stream::start_tls(tls_context context, std::string server_hostname) {
    std::exception_ptr failure;
    {
        stream_state* st = state_.get();
        detail::read_guard guard(st, "start_tls with");
        if (st->tls) throw std::logic_error("start_tls with " + st->peer.to_string() + ": the stream is already TLS");
        if (st->write_shut)
            detail::throw_socket_error(EPIPE, "start_tls with (after write_eof)", st->peer);
        try {
            // What was written in plain text goes out before the handshake.
            while (st->flushing) {
                st->progress.clear();
                co_await st->progress.wait();
            }
            if (st->write_error) std::rethrow_exception(st->write_error);
            const int family = st->peer.family();
            if (server_hostname.empty() && !context.is_server() && (family == AF_INET || family == AF_INET6))
                server_hostname = st->peer.host();
            std::string peer_name = st->peer.to_string();
            if (!server_hostname.empty() && server_hostname != st->peer.host())
                peer_name = server_hostname + " (" + peer_name + ")";
            st->tls = std::make_unique<detail::tls_session>(context, server_hostname, st->pending,
                                                            std::move(peer_name));
            // Bytes read past the plain part are the peer's first TLS bytes.
            st->tls->input_prepend(st->view_in());
            st->consume(st->buffered_in());
            co_await st->handshake();
        } catch (...) {
            failure = std::current_exception();
        }
    }
    if (failure) {
        abort();  // a half-made TLS stream is of no use (asyncio closes the transport too)
        std::rethrow_exception(failure);
    }
}

bool stream::is_tls() const noexcept { return state_ && state_->tls; }

std::string stream::alpn_protocol() const { return is_tls() ? state_->tls->alpn_protocol() : std::string(); }

std::string stream::tls_version() const { return is_tls() ? state_->tls->version() : std::string(); }

namespace detail {

task<> handshake_within(stream& s, tls_context context, std::string server_hostname,
                        std::chrono::milliseconds limit) {
    std::string peer_name = s.peer_address().to_string();
    if (!server_hostname.empty() && server_hostname != s.peer_address().host())
        peer_name = server_hostname + " (" + peer_name + ")";
    bool timed_out = false;
    try {
        co_await corio::wait_for(s.start_tls(std::move(context), std::move(server_hostname)), limit);
    } catch (const timeout_error&) {
        timed_out = true;
    }
    if (timed_out)
        throw tls_error("TLS handshake with " + peer_name + ": not done within " +
                        std::to_string(limit.count()) + " ms");
}

}  // namespace detail

// ---------------------------------------------------------------- the socket

const address& stream::peer_address() const {
    if (!state_) throw std::logic_error("stream.peer_address: an empty stream");
    return state_->peer;
}

address stream::local_address() const {
    stream_state* st = detail::checked(state_, "local_address of");
    address a;
    socklen_t size = address::capacity;
    if (::getsockname(st->fd, a.data(), &size) != 0) detail::throw_socket_error(errno, "getsockname of", st->peer);
    a.resize(size);
    return a;
}

void stream::set_nodelay(bool on) {
    stream_state* st = detail::checked(state_, "set_nodelay on");
    if (st->peer.family() != AF_INET && st->peer.family() != AF_INET6) return;  // Unix sockets have no Nagle
    const int value = on ? 1 : 0;
    if (::setsockopt(st->fd, IPPROTO_TCP, TCP_NODELAY, &value, sizeof value) != 0)
        detail::throw_socket_error(errno, "set_nodelay on", st->peer);
}

const stream_limits& stream::limits() const {
    if (!state_) throw std::logic_error("stream.limits: an empty stream");
    return state_->limits;
}

bool stream::is_closed() const noexcept { return !state_ || state_->closed; }

int stream::native_handle() const noexcept { return state_ && !state_->closed ? state_->fd : -1; }

// ---------------------------------------------------------------- opener

task<stream&> connection_opener::aenter() {
    if (stream_) throw std::logic_error("open_connection: this opener was already entered");
    stream_.emplace(co_await std::move(connect_));
    co_return *stream_;
}

task<> connection_opener::aexit(std::exception_ptr) {
    if (stream_) co_await stream_->close();
}

}  // namespace corio
