// Internal socket plumbing shared by streams, servers, datagram sockets,
// TLS and the resolver: creating non-blocking sockets, closing them past
// the backend, waiting for readiness, and the errors that name the
// operation and the peer.
#pragma once

#include <poll.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace corio {
// Declared here, defined in public headers (which detail/ does not include).
class address;
template <class T>
class task;
}  // namespace corio

namespace corio::detail {

/// A non-blocking, close-on-exec socket; system_error naming `operation`.
int open_socket(int family, int type, const char* operation, const address* peer = nullptr);

/// Closes `fd` after telling this thread's loop (if any) to forget it.
void close_socket(int fd) noexcept;

/// Waits until `fd` is readable (POLLIN) or writable (POLLOUT); gives the
/// events seen. Cancellable.
task<int> wait_ready(int fd, short events, const char* operation);

/// "operation peer: reason" as a std::system_error (generic category).
[[noreturn]] void throw_socket_error(int error, std::string_view operation, const address& peer);
[[noreturn]] void throw_socket_error(int error, std::string_view operation, std::string_view peer);

}  // namespace corio::detail
