// stream, writing: write() and its background flush, drain, write_eof,
// close and abort. See corio/net/stream.hpp and stream_state.hpp.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include <corio/detail/promise_base.hpp>
#include <corio/detail/socket.hpp>
#include <corio/errors.hpp>

#include "stream_state.hpp"

namespace corio::detail {

namespace {

constexpr const char* write_operation = "stream::write to";

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
                io_await op(write_operation);
                op.code = io_opcode::send;
                op.fd = st->fd;
                op.buffer = st->sending.data() + st->sent;
                op.length = static_cast<std::uint32_t>(std::min<std::size_t>(st->sending.size() - st->sent, 1u << 30));
                const std::int64_t r = co_await op;
                if (r < 0) st->fail(static_cast<int>(-r), write_operation);
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

task<> stream_state::wait_flush(std::size_t keep) {
    while (flushing && (keep == flush_ended || buffered_out() > keep)) {
        progress.clear();
        co_await progress.wait();
    }
}

void stream_state::send_output(bool raise) {
    if (flushing || pending.empty() || closed) return;
    const std::int64_t n = send_now(pending);
    if (n < 0) {
        pending.clear();
        if (raise) fail(static_cast<int>(-n), write_operation);
        try {
            fail(static_cast<int>(-n), write_operation);
        } catch (...) {
            write_error = std::current_exception();
        }
        return;
    }
    pending.erase(0, static_cast<std::size_t>(n));
    if (!pending.empty()) start_flush();
}

}  // namespace corio::detail

namespace corio {

using detail::stream_state;

void stream::write(std::string_view data) {
    stream_state* st = detail::open_state(state_, detail::write_operation);
    if (st->write_error) std::rethrow_exception(st->write_error);
    if (st->write_shut)
        detail::throw_state_error(EPIPE, detail::socket_kind::stream, st->describe(detail::write_operation));
    if (data.empty()) return;
    if (st->tls) {
        st->tls->write(data);
        st->send_output(true);
        return;
    }
    if (!st->flushing) {
        // Nothing queued: the kernel takes what it can now (asyncio's
        // transport.write does the same), usually everything.
        const std::int64_t n = st->send_now(data);
        if (n < 0) st->fail(static_cast<int>(-n), detail::write_operation);
        data.remove_prefix(static_cast<std::size_t>(n));
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
    stream_state* st = detail::open_state(state_, "stream::drain to");
    if (st->buffered_out() > st->limits.high_water) co_await st->wait_flush(st->limits.low_water);
    if (st->write_error) std::rethrow_exception(st->write_error);
}

task<> stream::write_eof() {
    constexpr const char* operation = "stream::write_eof to";
    stream_state* st = detail::open_state(state_, operation);
    if (st->tls && !st->write_shut && !st->write_error) {
        st->tls->shutdown();  // close_notify, then FIN
        st->send_output(true);
    }
    co_await st->wait_flush();
    if (st->write_error) std::rethrow_exception(st->write_error);
    if (!st->write_shut && ::shutdown(st->fd, SHUT_WR) != 0 && errno != ENOTCONN) st->fail(errno, operation);
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
        co_await st->wait_flush();
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
        detail::throw_state_error(ECONNABORTED, detail::socket_kind::stream, st->describe(detail::write_operation));
    } catch (...) {
        if (!st->write_error) st->write_error = std::current_exception();
    }
    st->flusher.cancel();
}

std::size_t stream::write_buffer_size() const noexcept { return state_ ? state_->buffered_out() : 0; }

}  // namespace corio
