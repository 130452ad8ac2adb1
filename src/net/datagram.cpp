// datagram_socket: UDP over recvmsg/sendmsg ops. See corio/net/datagram.hpp.
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

namespace corio {

namespace {

task<address> first_address(std::string host, std::uint16_t port, const char* operation) {
    if (host.empty() || host == "0.0.0.0") co_return *address::parse("0.0.0.0", port);
    if (std::optional<address> literal = address::parse(host, port)) co_return *literal;
    std::vector<address> found = co_await resolve(host, port);
    if (found.empty()) detail::throw_socket_error(EADDRNOTAVAIL, operation, host);
    co_return found.front();
}

// Marks one direction busy for one operation: two tasks receiving from one
// socket would race for datagrams.
class busy_guard {
public:
    busy_guard(bool& flag, const char* operation, const std::string& who) : flag_(flag) {
        if (flag) throw std::logic_error(std::string(operation) + ": another task is already doing this on " + who);
        flag = true;
    }
    ~busy_guard() { flag_ = false; }
    busy_guard(const busy_guard&) = delete;
    busy_guard& operator=(const busy_guard&) = delete;

private:
    bool& flag_;
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

std::string datagram_socket::describe() const {
    if (peer_.family() != AF_UNSPEC) return peer_.to_string();
    try {
        return "udp " + local_address().to_string();
    } catch (...) {
        return "udp socket";
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
    const address where = co_await first_address(std::move(host), port, "bind udp");
    co_return datagram_socket(attached_socket(where, "bind udp", &::bind), address());
}

task<datagram_socket> datagram_socket::connect(std::string host, std::uint16_t port) {
    const address peer = co_await first_address(std::move(host), port, "connect udp to");
    co_return datagram_socket(attached_socket(peer, "connect udp to", &::connect), peer);
}

task<std::size_t> datagram_socket::send(std::string_view data) {
    if (fd_ < 0) detail::throw_socket_error(EBADF, "send (the socket is closed)", peer_);
    if (peer_.family() == AF_UNSPEC)
        throw std::logic_error("datagram_socket.send: the socket is not connected (use send_to)");
    busy_guard guard(sending_, "datagram_socket.send", peer_.to_string());
    detail::io_await op("datagram_socket.send");
    op.code = detail::io_opcode::send;
    op.fd = fd_;
    op.buffer = const_cast<char*>(data.data());
    op.length = static_cast<std::uint32_t>(data.size());
    const std::int64_t r = co_await op;
    if (r < 0) detail::throw_socket_error(static_cast<int>(-r), "send to", peer_);
    co_return static_cast<std::size_t>(r);
}

task<std::size_t> datagram_socket::send_to(std::string_view data, address to) {
    if (fd_ < 0) detail::throw_socket_error(EBADF, "send_to (the socket is closed)", to);
    busy_guard guard(sending_, "datagram_socket.send_to", describe());
    iovec v{const_cast<char*>(data.data()), data.size()};
    msghdr msg{};
    msg.msg_name = const_cast<sockaddr*>(to.data());
    msg.msg_namelen = to.size();
    msg.msg_iov = &v;
    msg.msg_iovlen = 1;
    detail::io_await op("datagram_socket.send_to");
    op.code = detail::io_opcode::sendmsg;
    op.fd = fd_;
    op.buffer = &msg;
    const std::int64_t r = co_await op;
    if (r < 0) detail::throw_socket_error(static_cast<int>(-r), "send_to", to);
    co_return static_cast<std::size_t>(r);
}

task<std::string> datagram_socket::recv(std::size_t max) {
    auto [data, from] = co_await recv_from(max);
    co_return std::move(data);
}

task<std::pair<std::string, address>> datagram_socket::recv_from(std::size_t max) {
    if (fd_ < 0) detail::throw_socket_error(EBADF, "recv (the socket is closed)", peer_);
    busy_guard guard(receiving_, "datagram_socket.recv", describe());
    std::string data(max, '\0');
    address from;
    iovec v{data.data(), data.size()};
    msghdr msg{};
    msg.msg_name = from.data();
    msg.msg_namelen = address::capacity;
    msg.msg_iov = &v;
    msg.msg_iovlen = 1;
    detail::io_await op("datagram_socket.recv");
    op.code = detail::io_opcode::recvmsg;
    op.fd = fd_;
    op.buffer = &msg;
    const std::int64_t r = co_await op;
    if (r < 0) detail::throw_socket_error(static_cast<int>(-r), "recv on", describe());
    data.resize(static_cast<std::size_t>(r));
    from.resize(msg.msg_namelen);
    co_return std::pair<std::string, address>(std::move(data), std::move(from));
}

address datagram_socket::local_address() const {
    if (fd_ < 0) throw std::logic_error("datagram_socket.local_address: the socket is closed");
    address a;
    socklen_t size = address::capacity;
    if (::getsockname(fd_, a.data(), &size) != 0) detail::throw_socket_error(errno, "getsockname", peer_);
    a.resize(size);
    return a;
}

}  // namespace corio
