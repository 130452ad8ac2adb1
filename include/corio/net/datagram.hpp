// corio/net/datagram.hpp: UDP sockets (docs/reference.md, Networking).
//
//   auto server = co_await corio::datagram_socket::bind("127.0.0.1", 0);
//   auto [data, from] = co_await server.recv_from();
//   co_await server.send_to(data, from);
//
//   auto client = co_await corio::datagram_socket::connect("127.0.0.1", port);
//   co_await client.send("ping");
//   std::string answer = co_await client.recv();
//
// Each send is one datagram; each receive gives one datagram, cut to `max`
// bytes as Python's socket.recv does. A datagram lost in the network is not
// an error: put a `timeout` around a receive that may never come. On a
// connected socket, an ICMP "port unreachable" from the peer surfaces as
// ECONNREFUSED at the next receive or send. One task receives and one sends
// at a time (another is std::logic_error). Failures are std::system_error
// naming the call and the address ("datagram_socket::send_to 127.0.0.1:9:
// Connection refused"; "datagram_socket::recv_from: the socket is closed",
// code EBADF). The socket is closed by close() or its destructor (debug
// mode reports one destroyed without close(), as asyncio's "unclosed
// transport").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <corio/net/address.hpp>
#include <corio/task.hpp>

namespace corio {

class datagram_socket {
public:
    datagram_socket() noexcept = default;
    datagram_socket(datagram_socket&& other) noexcept;
    datagram_socket& operator=(datagram_socket&& other) noexcept;
    datagram_socket(const datagram_socket&) = delete;
    datagram_socket& operator=(const datagram_socket&) = delete;
    ~datagram_socket();

    /// A socket bound to `host` ("" for every IPv4 address) and `port`
    /// (0: the kernel picks; see local_address()).
    static task<datagram_socket> bind(std::string host, std::uint16_t port);
    /// A socket whose every send goes to, and every receive comes from,
    /// `host`:`port` (the first address it resolves to).
    static task<datagram_socket> connect(std::string host, std::uint16_t port);

    /// One datagram to the connected peer; gives the bytes sent.
    task<std::size_t> send(std::string_view data);
    task<std::size_t> send_to(std::string_view data, address to);
    task<std::string> recv(std::size_t max = 65536);
    task<std::pair<std::string, address>> recv_from(std::size_t max = 65536);

    address local_address() const;
    /// The connected peer (AF_UNSPEC when not connected).
    const address& peer_address() const noexcept { return peer_; }
    void close() noexcept;
    bool is_closed() const noexcept { return fd_ < 0; }
    int native_handle() const noexcept { return fd_; }

private:
    datagram_socket(int fd, address peer) noexcept : fd_(fd), peer_(std::move(peer)) {}
    // "<operation> to|from PEER" when connected, else "<operation> on LOCAL".
    std::string describe(std::string_view operation, const char* preposition) const;
    task<std::pair<std::string, address>> receive(std::size_t max, const char* operation);
    void drop() noexcept;  // closes, reporting (debug mode) that close() was not called
    int fd_ = -1;
    address peer_;
    bool receiving_ = false;
    bool sending_ = false;
};

}  // namespace corio
