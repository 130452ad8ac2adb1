// open_connection and open_unix_connection: resolving, connecting (with
// Happy Eyeballs across several addresses), the connect timeout, the TLS
// handshake after it, and connection_opener. See corio/net/connect.hpp.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <corio/detail/io_await.hpp>
#include <corio/detail/socket.hpp>
#include <corio/errors.hpp>
#include <corio/net/connect.hpp>
#include <corio/net/resolve.hpp>
#include <corio/time/sleep.hpp>
#include <corio/time/timeout.hpp>

#include "stream_state.hpp"

namespace corio::detail {

namespace {

// Closes the descriptors it holds unless released: every exit of a connect
// (failure, cancellation, timeout) gives them back.
struct socket_guard {
    std::vector<int> fds;
    ~socket_guard() {
        for (const int fd : fds)
            if (fd >= 0) close_socket(fd);
    }
};

// The operations errors name.
constexpr const char* tcp_operation = "open_connection to";
constexpr const char* unix_operation = "open_unix_connection to";

int new_socket(const address& peer, const connect_options& options, const char* operation) {
    const int fd = open_socket(peer.family(), SOCK_STREAM, operation, &peer);
    if (options.local_address) {
        const address& local = *options.local_address;
        if (::bind(fd, local.data(), local.size()) != 0) {
            const int e = errno;
            close_socket(fd);
            throw_socket_error(e, std::string(operation) + " " + peer.to_string() + " (binding to " +
                                      local.to_string() + ")",
                               std::string_view());
        }
    }
    return fd;
}

// One address, one attempt. The stream made of the socket sets TCP_NODELAY.
task<int> connect_one(address peer, const connect_options& options, const char* operation) {
    socket_guard guard;
    guard.fds.push_back(new_socket(peer, options, operation));
    const int fd = guard.fds.back();
    auto retry_delay = std::chrono::milliseconds(1);
    for (;;) {
        io_await op(operation);
        op.code = io_opcode::connect;
        op.fd = fd;
        op.buffer = const_cast<sockaddr*>(peer.data());
        op.length = peer.size();
        const std::int64_t r = co_await op;
        if (r == 0) break;
        if (r == -EAGAIN) {
            // A Unix listener with a full backlog: asyncio would fail here;
            // waiting a little lets a busy server catch up.
            co_await corio::sleep(retry_delay);
            retry_delay = std::min(retry_delay * 2, std::chrono::milliseconds(50));
            continue;
        }
        throw_socket_error(static_cast<int>(-r), operation, peer);
    }
    guard.fds.clear();
    co_return fd;
}

// RFC 8305 section 4: alternate address families, starting with the first.
std::vector<address> interleave_families(const std::vector<address>& in) {
    std::vector<address> first, second;
    for (const address& a : in) (a.family() == in.front().family() ? first : second).push_back(a);
    std::vector<address> out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < std::max(first.size(), second.size()); ++i) {
        if (i < first.size()) out.push_back(first[i]);
        if (i < second.size()) out.push_back(second[i]);
    }
    return out;
}

// Happy Eyeballs: a new attempt every `delay` or as soon as the previous
// fails; the first to connect wins and the others are closed. The attempts
// in progress sit in a private epoll set, so one readiness wait covers them.
task<std::pair<int, address>> race(std::vector<address> addresses, const connect_options& options,
                                   const std::string& name) {
    const std::string waiting = std::string(tcp_operation) + " " + name;  // names a failed wait
    socket_guard guard;  // [0]: the epoll set; then one per attempt (-1 once closed)
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) throw_socket_error(errno, tcp_operation, name);
    guard.fds.push_back(ep);
    std::size_t next = 0;
    std::size_t active = 0;
    int last_error = 0;
    address last_failed;

    auto start_next = [&]() -> int {  // the index of an attempt connected at once, or -1
        while (next < addresses.size()) {
            const std::size_t i = next++;
            const address& peer = addresses[i];
            int fd;
            try {
                fd = new_socket(peer, options, tcp_operation);
            } catch (const std::system_error& e) {
                last_error = e.code().value();
                last_failed = peer;
                guard.fds.push_back(-1);
                continue;
            }
            guard.fds.push_back(fd);
            if (::connect(fd, peer.data(), peer.size()) == 0) return static_cast<int>(i);
            if (errno != EINPROGRESS) {
                last_error = errno;
                last_failed = peer;
                close_socket(fd);
                guard.fds.back() = -1;
                continue;
            }
            epoll_event ev{};
            ev.events = EPOLLOUT;
            ev.data.u64 = i;
            ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            ++active;
            return -1;
        }
        return -1;
    };

    int winner = start_next();
    while (winner < 0) {
        if (active == 0 && next >= addresses.size())
            throw_socket_error(last_error != 0 ? last_error : ECONNREFUSED,
                               std::string(tcp_operation) + " " + name + " (" + std::to_string(addresses.size()) +
                                   " addresses; the last tried was " + last_failed.to_string() + ")",
                               std::string_view());
        bool timed_out = false;
        if (next < addresses.size()) {
            try {
                co_await corio::wait_for(wait_ready(ep, POLLIN, waiting.c_str()), options.happy_eyeballs_delay);
            } catch (const timeout_error&) {
                timed_out = true;
            }
        } else {
            co_await wait_ready(ep, POLLIN, waiting.c_str());
        }
        epoll_event events[16];
        const int n = ::epoll_wait(ep, events, 16, 0);
        for (int k = 0; k < n && winner < 0; ++k) {
            const auto i = static_cast<std::size_t>(events[k].data.u64);
            const int fd = guard.fds[i + 1];
            int error = 0;
            socklen_t size = sizeof error;
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
            if (error == 0) {
                winner = static_cast<int>(i);
                break;
            }
            last_error = error;
            last_failed = addresses[i];
            ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
            close_socket(fd);
            guard.fds[i + 1] = -1;
            --active;
            if (winner < 0) winner = start_next();
        }
        if (timed_out && winner < 0) winner = start_next();
    }
    const auto w = static_cast<std::size_t>(winner);
    const int fd = guard.fds[w + 1];
    ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    guard.fds[w + 1] = -1;
    co_return std::pair<int, address>(fd, addresses[w]);
}

task<stream> connect_tcp_now(std::string host, std::uint16_t port, connect_options options) {
    if (host.empty()) throw std::invalid_argument("open_connection: the host is empty");
    if (std::optional<address> literal = address::parse(host, port)) {
        const int fd = co_await connect_one(*literal, options, tcp_operation);
        co_return stream(fd, *literal, options.limits);
    }
    std::vector<address> found = co_await corio::resolve(host, port, options.resolve);
    if (found.size() == 1) {
        const int fd = co_await connect_one(found.front(), options, tcp_operation);
        co_return stream(fd, found.front(), options.limits);
    }
    const std::string name = host + ":" + std::to_string(port);
    auto [fd, peer] = co_await race(interleave_families(found), options, name);
    co_return stream(fd, std::move(peer), options.limits);
}

task<stream> connect_tcp(std::string host, std::uint16_t port, connect_options options) {
    if (!options.connect_timeout) co_return co_await connect_tcp_now(std::move(host), port, std::move(options));
    const auto limit = *options.connect_timeout;
    const std::string name = address::parse(host, port) ? address::parse(host, port)->to_string()
                                                        : host + ":" + std::to_string(port);
    try {
        co_return co_await corio::wait_for(connect_tcp_now(std::move(host), port, std::move(options)), limit);
    } catch (const timeout_error&) {
        // below: no co_await may stand in a catch block (g++ 12)
    }
    throw_socket_error(ETIMEDOUT,
                       std::string(tcp_operation) + " " + name + " (no connection within " +
                           std::to_string(limit.count()) + " ms)",
                       std::string_view());
}

task<stream> connect_unix(std::string path, connect_options options) {
    const address peer = address::unix_path(path);
    int fd = -1;
    if (options.connect_timeout) {
        bool timed_out = false;
        try {
            fd = co_await corio::wait_for(connect_one(peer, options, unix_operation), *options.connect_timeout);
        } catch (const timeout_error&) {
            timed_out = true;
        }
        if (timed_out)
            throw_socket_error(ETIMEDOUT,
                               std::string(unix_operation) + " " + peer.to_string() + " (no connection within " +
                                   std::to_string(options.connect_timeout->count()) + " ms)",
                               std::string_view());
    } else {
        fd = co_await connect_one(peer, options, unix_operation);
    }
    co_return stream(fd, peer, options.limits);
}

}  // namespace

}  // namespace corio::detail

namespace corio {

namespace {

// The TLS handshake after connecting, bounded by tls_handshake_timeout.
task<stream> then_tls(task<stream> connecting, tls_context context, std::string server_hostname,
                      std::chrono::milliseconds limit) {
    if (context.is_server()) {
        detail::close_unstarted(connecting);  // refused: no "never awaited" report beside the error
        throw std::invalid_argument("open_connection: connect_options::tls is a server context (use "
                                    "tls_context::client())");
    }
    stream s = co_await std::move(connecting);
    co_await detail::handshake_within(s, std::move(context), std::move(server_hostname), limit);
    co_return s;
}

}  // namespace

task<stream&> connection_opener::aenter() {
    if (stream_) throw std::logic_error("connection_opener::aenter: this opener was already entered");
    stream_.emplace(co_await std::move(connect_));
    co_return *stream_;
}

task<> connection_opener::aexit(std::exception_ptr) {
    if (stream_) co_await stream_->close();
}

connection_opener open_connection(std::string host, std::uint16_t port, connect_options options) {
    if (!options.tls) return connection_opener(detail::connect_tcp(std::move(host), port, std::move(options)));
    tls_context context = *options.tls;
    std::string name = options.server_hostname.empty() ? host : options.server_hostname;
    const auto limit = options.tls_handshake_timeout;
    return connection_opener(
        then_tls(detail::connect_tcp(std::move(host), port, std::move(options)), std::move(context), std::move(name), limit));
}

connection_opener open_unix_connection(std::string path, connect_options options) {
    if (!options.tls) return connection_opener(detail::connect_unix(std::move(path), std::move(options)));
    tls_context context = *options.tls;
    std::string name = options.server_hostname;  // required: a path is no host name
    const auto limit = options.tls_handshake_timeout;
    return connection_opener(
        then_tls(detail::connect_unix(std::move(path), std::move(options)), std::move(context), std::move(name), limit));
}

}  // namespace corio
