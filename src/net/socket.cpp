// Socket plumbing: see corio/detail/socket.hpp and busy_guard.hpp.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <corio/detail/io_await.hpp>
#include <corio/detail/socket.hpp>
#include <corio/net/address.hpp>
#include <corio/task.hpp>

#include "busy_guard.hpp"

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

namespace {

// The errno values of a call refused for the socket's state, with a text
// that says what the state is instead of strerror's ("Bad file
// descriptor"). They compare equal to the generic errno conditions, so
// `e.code() == std::errc::bad_file_descriptor` holds.
class state_category final : public std::error_category {
public:
    explicit constexpr state_category(const char* name, const char* noun) noexcept : name_(name), noun_(noun) {}
    const char* name() const noexcept override { return name_; }
    std::string message(int error) const override {
        switch (error) {
            case EBADF: return std::string("the ") + noun_ + " is closed";
            case EPIPE: return "the sending side is shut (write_eof)";
            case ECONNABORTED: return std::string("the ") + noun_ + " was aborted";
            default: return std::generic_category().message(error);
        }
    }
    std::error_condition default_error_condition(int error) const noexcept override {
        return std::error_condition(error, std::generic_category());
    }

private:
    const char* name_;
    const char* noun_;
};

}  // namespace

void throw_state_error(int error, socket_kind kind, const std::string& operation) {
    static const state_category stream_state_category("corio.stream", "stream");
    static const state_category datagram_state_category("corio.datagram_socket", "socket");
    const std::error_category& category =
        kind == socket_kind::stream ? static_cast<const std::error_category&>(stream_state_category)
                                    : datagram_state_category;
    throw std::system_error(error, category, operation);
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
