// corio/net/resolve.hpp: asynchronous name resolution (asyncio's
// loop.getaddrinfo), through c-ares.
//
//   std::vector<corio::address> a = co_await corio::resolve("example.com", 443);
//
// Honours /etc/hosts and /etc/resolv.conf (nameserver, search, ndots, and
// the timeout:/attempts: options, also from RES_OPTIONS; glibc's defaults,
// 5s and 2 attempts, when unset), gives IPv6 and IPv4 addresses in the order RFC 6724 prefers,
// and is cancellable: cancelling it (or a `timeout` around it) abandons the
// queries and closes their sockets. A literal address ("127.0.0.1", "::1",
// "[::1]") is parsed, never sent to a resolver.
//
// Failures: an empty host or an option that cannot be right is
// std::invalid_argument; a name that does not resolve, an unknown service,
// or name servers that give no answer within resolv.conf's timeout and
// attempts are std::system_error in resolve_category(); `options.timeout`
// passing is timeout_error. Each names the host.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include <corio/net/address.hpp>
#include <corio/task.hpp>

namespace corio {

struct resolve_options {
    int family = AF_UNSPEC;  // AF_INET or AF_INET6 for one family only
    /// Gives up after this long (timeout_error); zero: resolv.conf's own
    /// timeout and attempts decide (then system_error, ARES_ETIMEOUT).
    std::chrono::milliseconds timeout{0};
    /// Asks these name servers (port 0: 53) instead of resolv.conf's, as
    /// aiodns's `nameservers=`; /etc/hosts is still read first.
    std::vector<address> servers;
};

/// The addresses of `host` for `service` (a port number, a name from
/// /etc/services, or "" for port 0), each once. A name that does not resolve is std::system_error in
/// resolve_category() naming the host and the resolver's reason.
task<std::vector<address>> resolve(std::string host, std::string service, resolve_options options = resolve_options());
task<std::vector<address>> resolve(std::string host, std::uint16_t port, resolve_options options = resolve_options());

/// The category of resolver failures: c-ares status codes (ARES_ENOTFOUND,
/// ARES_ENODATA, ARES_ETIMEOUT, ARES_ESERVICE...), messages from ares_strerror.
const std::error_category& resolve_category() noexcept;

}  // namespace corio
