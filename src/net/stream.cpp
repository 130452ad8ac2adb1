// stream: its lifetime (construct, move, destroy) and the socket's options.
// Reading, writing and TLS are in stream_read.cpp, stream_write.cpp and
// stream_tls.cpp; the state they share is in stream_state.hpp. See
// corio/net/stream.hpp.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdio>
#include <stdexcept>
#include <utility>

#include <corio/detail/promise_base.hpp>
#include <corio/detail/socket.hpp>

#include "stream_state.hpp"

namespace corio::detail {

namespace {

bool is_tcp(const address& peer) noexcept { return peer.family() == AF_INET || peer.family() == AF_INET6; }

// "stream::read from" without a peer to name: "stream::read".
std::string_view call_of(std::string_view operation) noexcept { return operation.substr(0, operation.find(' ')); }

}  // namespace

std::string stream_state::describe(std::string_view operation) const {
    if (peer.family() == AF_UNSPEC) return std::string(call_of(operation));
    std::string what(operation);
    what += ' ';
    what += peer.to_string();
    return what;
}

void stream_state::fail(int error, std::string_view operation) const {
    throw_socket_error(error, describe(operation), std::string_view());
}

stream_state* open_state(const std::unique_ptr<stream_state>& st, const char* operation) {
    if (!st) [[unlikely]]
        throw_state_error(EBADF, socket_kind::stream, std::string(call_of(operation)));
    if (st->closed) [[unlikely]]
        throw_state_error(EBADF, socket_kind::stream, st->describe(operation));
    return st.get();
}

}  // namespace corio::detail

namespace corio {

using detail::stream_state;

stream::stream() noexcept = default;

stream::stream(int fd, address peer, stream_limits limits) : state_(std::make_unique<stream_state>()) {
    if (limits.limit == 0) throw std::invalid_argument("stream::stream: limit must be at least 1 byte");
    if (limits.low_water > limits.high_water)
        throw std::invalid_argument("stream::stream: low_water (" + std::to_string(limits.low_water) +
                                    ") is above high_water (" + std::to_string(limits.high_water) + ")");
    state_->fd = fd;
    state_->peer = std::move(peer);
    state_->limits = limits;
    if (detail::is_tcp(state_->peer)) {
        // On by default, as asyncio does for every TCP transport. Not a
        // failure when refused: `peer` may describe a socket of another kind.
        const int one = 1;
        (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
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

// ---------------------------------------------------------------- the socket

const address& stream::peer_address() const {
    if (!state_) throw std::logic_error("stream::peer_address: the stream is empty");
    return state_->peer;
}

address stream::local_address() const {
    stream_state* st = detail::open_state(state_, "stream::local_address of");
    address a;
    socklen_t size = address::capacity;
    if (::getsockname(st->fd, a.data(), &size) != 0) st->fail(errno, "stream::local_address of");
    a.resize(size);
    return a;
}

void stream::set_nodelay(bool on) {
    stream_state* st = detail::open_state(state_, "stream::set_nodelay on");
    if (!detail::is_tcp(st->peer)) return;  // Unix sockets have no Nagle
    const int value = on ? 1 : 0;
    if (::setsockopt(st->fd, IPPROTO_TCP, TCP_NODELAY, &value, sizeof value) != 0)
        st->fail(errno, "stream::set_nodelay on");
}

const stream_limits& stream::limits() const {
    if (!state_) throw std::logic_error("stream::limits: the stream is empty");
    return state_->limits;
}

bool stream::is_closed() const noexcept { return !state_ || state_->closed; }

int stream::native_handle() const noexcept { return state_ && !state_->closed ? state_->fd : -1; }

}  // namespace corio
