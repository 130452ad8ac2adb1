// datagram_socket: UDP over send, sendmsg and recvmsg ops. See
// corio/net/datagram.hpp.
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <string>

#include <corio/detail/io_await.hpp>
#include <corio/detail/promise_base.hpp>
#include <corio/detail/socket.hpp>
#include <corio/net/datagram.hpp>
#include <corio/net/resolve.hpp>

#include "busy_guard.hpp"

namespace corio {

namespace {

task<address> first_address(std::string host, std::uint16_t port, const char* operation) {
    if (host.empty() || host == "0.0.0.0") co_return *address::parse("0.0.0.0", port);
    if (std::optional<address> literal = address::parse(host, port)) co_return *literal;
    std::vector<address> found = co_await resolve(host, port);
    if (found.empty()) detail::throw_socket_error(EADDRNOTAVAIL, operation, host);
    co_return found.front();
}

// The msghdr of one sendmsg or recvmsg: one buffer, and the address it goes
// to or the room for the one it comes from. It points into itself: it does
// not move, and lives in the awaiting frame until the operation ends.
struct message {
    iovec part;
    msghdr header{};
    message(void* data, std::size_t size, void* name, socklen_t name_size) noexcept : part{data, size} {
        header.msg_name = name;
        header.msg_namelen = name_size;
        header.msg_iov = &part;
        header.msg_iovlen = 1;
    }
    message(const message&) = delete;
    message& operator=(const message&) = delete;
};

}  // namespace

datagram_socket::datagram_socket(datagram_socket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), peer_(other.peer_) {}

datagram_socket& datagram_socket::operator=(datagram_socket&& other) noexcept {
    if (this != &other) {
        drop();
        fd_ = std::exchange(other.fd_, -1);
        peer_ = other.peer_;
    }
    return *this;
}

datagram_socket::~datagram_socket() { drop(); }

void datagram_socket::drop() noexcept {
    // asyncio's "ResourceWarning: unclosed transport", in debug mode.
    if (fd_ >= 0 && detail::report_unclosed()) [[unlikely]] {
        try {
            address local;
            socklen_t size = address::capacity;
            const bool named = ::getsockname(fd_, local.data(), &size) == 0;
            if (named) local.resize(size);
            const std::string to = peer_.family() != AF_UNSPEC ? " (to " + peer_.to_string() + ")" : std::string();
            std::fprintf(stderr, "corio debug: unclosed datagram socket on %s%s: destroyed without close()\n",
                         named ? local.to_string().c_str() : "unknown", to.c_str());
        } catch (...) {
            std::fprintf(stderr, "corio debug: unclosed datagram socket: destroyed without close()\n");
        }
    }
    close();
}

void datagram_socket::close() noexcept { detail::close_socket(std::exchange(fd_, -1)); }

std::string datagram_socket::describe(std::string_view operation, const char* preposition) const {
    std::string what(operation);
    if (peer_.family() != AF_UNSPEC) return what + " " + preposition + " " + peer_.to_string();
    if (fd_ < 0) return what;
    try {
        return what + " on " + local_address().to_string();
    } catch (...) {
        return what;
    }
}

namespace {

// A UDP socket bound (::bind) or connected (::connect, which only records
// the peer: it never waits) to `where`.
int attached_socket(const address& where, const char* operation,
                    int (*attach)(int, const sockaddr*, socklen_t)) {
    const int fd = detail::open_socket(where.family(), SOCK_DGRAM, operation, &where);
    if (attach(fd, where.data(), where.size()) != 0) {
        const int e = errno;
        detail::close_socket(fd);
        detail::throw_socket_error(e, operation, where);
    }
    return fd;
}

}  // namespace

task<datagram_socket> datagram_socket::bind(std::string host, std::uint16_t port) {
    constexpr const char* operation = "datagram_socket::bind to";
    const address where = co_await first_address(std::move(host), port, operation);
    co_return datagram_socket(attached_socket(where, operation, &::bind), address());
}

task<datagram_socket> datagram_socket::connect(std::string host, std::uint16_t port) {
    constexpr const char* operation = "datagram_socket::connect to";
    const address peer = co_await first_address(std::move(host), port, operation);
    co_return datagram_socket(attached_socket(peer, operation, &::connect), peer);
}

task<std::size_t> datagram_socket::send(std::string_view data) {
    constexpr const char* operation = "datagram_socket::send";
    if (fd_ < 0) detail::throw_state_error(EBADF, detail::socket_kind::datagram_socket, describe(operation, "to"));
    if (peer_.family() == AF_UNSPEC)
        throw std::logic_error(std::string(operation) + ": the socket is not connected (use send_to)");
    detail::busy_guard guard(sending_, [&] { return describe(operation, "to") + ": another task is already sending"; });
    detail::io_await op(operation);
    op.code = detail::io_opcode::send;
    op.fd = fd_;
    op.buffer = const_cast<char*>(data.data());
    op.length = static_cast<std::uint32_t>(data.size());
    const std::int64_t r = co_await op;
    if (r < 0) detail::throw_socket_error(static_cast<int>(-r), std::string(operation) + " to", peer_);
    co_return static_cast<std::size_t>(r);
}

task<std::size_t> datagram_socket::send_to(std::string_view data, address to) {
    constexpr const char* operation = "datagram_socket::send_to";
    if (fd_ < 0)
        detail::throw_state_error(EBADF, detail::socket_kind::datagram_socket, operation + (" " + to.to_string()));
    detail::busy_guard guard(sending_, [&] {
        return std::string(operation) + " " + to.to_string() + ": another task is already sending";
    });
    message m(const_cast<char*>(data.data()), data.size(), const_cast<sockaddr*>(to.data()), to.size());
    detail::io_await op(operation);
    op.code = detail::io_opcode::sendmsg;
    op.fd = fd_;
    op.buffer = &m.header;
    const std::int64_t r = co_await op;
    if (r < 0) detail::throw_socket_error(static_cast<int>(-r), operation, to);
    co_return static_cast<std::size_t>(r);
}

task<std::string> datagram_socket::recv(std::size_t max) {
    auto [data, from] = co_await receive(max, "datagram_socket::recv");
    co_return std::move(data);
}

task<std::pair<std::string, address>> datagram_socket::recv_from(std::size_t max) {
    return receive(max, "datagram_socket::recv_from");
}

task<std::pair<std::string, address>> datagram_socket::receive(std::size_t max, const char* operation) {
    if (fd_ < 0) detail::throw_state_error(EBADF, detail::socket_kind::datagram_socket, describe(operation, "from"));
    detail::busy_guard guard(receiving_,
                             [&] { return describe(operation, "from") + ": another task is already receiving"; });
    std::string data(max, '\0');
    address from;
    message m(data.data(), data.size(), from.data(), address::capacity);
    detail::io_await op(operation);
    op.code = detail::io_opcode::recvmsg;
    op.fd = fd_;
    op.buffer = &m.header;
    const std::int64_t r = co_await op;
    if (r < 0) detail::throw_socket_error(static_cast<int>(-r), describe(operation, "from"), std::string_view());
    data.resize(static_cast<std::size_t>(r));
    from.resize(m.header.msg_namelen);
    co_return std::pair<std::string, address>(std::move(data), std::move(from));
}

address datagram_socket::local_address() const {
    if (fd_ < 0) throw std::logic_error("datagram_socket::local_address: the socket is closed");
    address a;
    socklen_t size = address::capacity;
    if (::getsockname(fd_, a.data(), &size) != 0)
        detail::throw_socket_error(errno, "datagram_socket::local_address", std::string_view());
    a.resize(size);
    return a;
}

}  // namespace corio
