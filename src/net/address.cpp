// address: conversions between sockaddr and text.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>
#include <stdexcept>

#include <corio/net/address.hpp>

namespace corio {

address::address(const sockaddr* data, socklen_t size) noexcept {
    size_ = size > sizeof storage_ ? static_cast<socklen_t>(sizeof storage_) : size;
    std::memcpy(&storage_, data, size_);
}

std::optional<address> address::parse(std::string_view host, std::uint16_t port) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty() || host.size() >= INET6_ADDRSTRLEN + IF_NAMESIZE) return std::nullopt;
    char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
    std::memcpy(text, host.data(), host.size());
    text[host.size()] = '\0';
    address a;
    sockaddr_in v4{};
    if (::inet_pton(AF_INET, text, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons(port);
        std::memcpy(&a.storage_, &v4, sizeof v4);
        a.size_ = sizeof v4;
        return a;
    }
    sockaddr_in6 v6{};
    char* zone = std::strchr(text, '%');
    if (zone != nullptr) *zone++ = '\0';
    if (::inet_pton(AF_INET6, text, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(port);
        if (zone != nullptr) {
            v6.sin6_scope_id = ::if_nametoindex(zone);
            if (v6.sin6_scope_id == 0) {
                char* end = nullptr;
                const unsigned long n = std::strtoul(zone, &end, 10);
                if (end == zone || *end != '\0') return std::nullopt;
                v6.sin6_scope_id = static_cast<std::uint32_t>(n);
            }
        }
        std::memcpy(&a.storage_, &v6, sizeof v6);
        a.size_ = sizeof v6;
        return a;
    }
    return std::nullopt;
}

address address::unix_path(std::string_view path) {
    sockaddr_un un{};
    if (path.empty() || path.size() >= sizeof un.sun_path)
        throw std::invalid_argument("address::unix_path '" + std::string(path) + "': a socket path is 1 to " +
                                    std::to_string(sizeof un.sun_path - 1) + " bytes");
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, path.data(), path.size());
    socklen_t size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
    if (path.front() == '@') un.sun_path[0] = '\0';  // abstract: no terminator counted
    else ++size;
    address a;
    std::memcpy(&a.storage_, &un, sizeof un);
    a.size_ = size;
    return a;
}

std::string address::host() const {
    char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {};
    switch (storage_.ss_family) {
        case AF_INET: {
            const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage_);
            ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
            return text;
        }
        case AF_INET6: {
            const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
            ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
            std::string out = text;
            if (v6->sin6_scope_id != 0) {
                char name[IF_NAMESIZE];
                out += '%';
                out += ::if_indextoname(v6->sin6_scope_id, name) != nullptr ? std::string(name)
                                                                              : std::to_string(v6->sin6_scope_id);
            }
            return out;
        }
        case AF_UNIX: {
            const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
            const std::size_t offset = offsetof(sockaddr_un, sun_path);
            if (size_ <= offset) return {};  // unnamed (a connecting client)
            std::size_t n = size_ - offset;
            if (un->sun_path[0] == '\0') return "@" + std::string(un->sun_path + 1, n - 1);
            return std::string(un->sun_path, ::strnlen(un->sun_path, n));
        }
        default: return {};
    }
}

std::uint16_t address::port() const noexcept {
    switch (storage_.ss_family) {
        case AF_INET: return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
        case AF_INET6: return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
        default: return 0;
    }
}

std::string address::to_string() const {
    switch (storage_.ss_family) {
        case AF_INET: return host() + ":" + std::to_string(port());
        case AF_INET6: return "[" + host() + "]:" + std::to_string(port());
        case AF_UNIX: return "unix:" + host();
        default: return "(no address)";
    }
}

bool operator==(const address& a, const address& b) noexcept {
    return a.size_ == b.size_ && std::memcmp(&a.storage_, &b.storage_, a.size_) == 0;
}

}  // namespace corio
