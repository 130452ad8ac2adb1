// Socket plumbing: see corio/detail/socket.hpp.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <corio/detail/io_await.hpp>
#include <corio/detail/socket.hpp>

namespace corio::detail {

[[noreturn]] void throw_socket_error(int error, std::string_view operation, std::string_view peer) {
    std::string what(operation);
    if (!peer.empty()) {
        what += ' ';
        what += peer;
    }
    throw std::system_error(error, std::generic_category(), what);
}

[[noreturn]] void throw_socket_error(int error, std::string_view operation, const address& peer) {
    throw_socket_error(error, operation, peer.family() == AF_UNSPEC ? std::string() : peer.to_string());
}

int open_socket(int family, int type, const char* operation, const address* peer) {
    const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        if (peer != nullptr) throw_socket_error(errno, operation, *peer);
        throw_socket_error(errno, operation, std::string_view());
    }
    return fd;
}

void close_socket(int fd) noexcept {
    if (fd < 0) return;
    if (tls_loop != nullptr) tls_loop->io().forget(fd);
    ::close(fd);
}

task<int> wait_ready(int fd, short events, const char* operation) {
    io_await op(operation);
    op.code = io_opcode::poll;
    op.fd = fd;
    op.mode = static_cast<std::uint16_t>(events);
    const std::int64_t r = co_await op;
    if (r < 0) throw_socket_error(static_cast<int>(-r), operation, std::string_view());
    co_return static_cast<int>(r);
}

}  // namespace corio::detail
