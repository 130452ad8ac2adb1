// corio/net/address.hpp: a socket address (IPv4, IPv6 or a Unix path), as
// the `(host, port)` tuples of asyncio's peername/sockname are.
//
//   corio::address a = s.peer_address();
//   a.host();       // "127.0.0.1", "::1", "/run/app.sock"
//   a.port();       // 8080 (0 for a Unix path)
//   a.to_string();  // "127.0.0.1:8080", "[::1]:8080", "unix:/run/app.sock"
//
// `address::parse` reads a literal IP address only: names go to `resolve`
// (corio/net/resolve.hpp), and a literal never does.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace corio {

class address {
public:
    address() noexcept = default;
    /// A copy of what the kernel gave (accept, getpeername, recvfrom).
    address(const sockaddr* data, socklen_t size) noexcept;

    /// `host` as a literal IPv4 or IPv6 address ("127.0.0.1", "::1",
    /// "[::1]", "fe80::1%eth0"); nullopt when it is not one (a name).
    static std::optional<address> parse(std::string_view host, std::uint16_t port);
    /// A Unix socket path; a leading '@' names the abstract namespace.
    /// std::invalid_argument when it does not fit in sockaddr_un.
    static address unix_path(std::string_view path);

    /// The text form of the IP address, or the Unix path.
    std::string host() const;
    std::uint16_t port() const noexcept;
    /// AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC for a default-constructed one.
    int family() const noexcept { return storage_.ss_family; }
    /// "127.0.0.1:80", "[::1]:80" or "unix:/path", for messages and logs.
    std::string to_string() const;

    const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
    socklen_t size() const noexcept { return size_; }
    /// For filling by the kernel: sets the size it reported.
    void resize(socklen_t size) noexcept { size_ = size; }
    static constexpr socklen_t capacity = sizeof(sockaddr_storage);

    friend bool operator==(const address& a, const address& b) noexcept;
    friend std::ostream& operator<<(std::ostream& out, const address& a) { return out << a.to_string(); }

private:
    sockaddr_storage storage_{};
    socklen_t size_ = 0;
};

}  // namespace corio
