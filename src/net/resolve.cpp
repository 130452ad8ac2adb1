// resolve: asynchronous name resolution through c-ares (see
// corio/net/resolve.hpp).
//
// Each lookup opens its own c-ares channel, so it reads /etc/resolv.conf
// and /etc/hosts afresh (as getaddrinfo does) and abandoning it touches no
// other lookup. The channel's sockets go into a private epoll set that the
// sock_state callback keeps in step with what c-ares wants to wait for; the
// task waits for that one descriptor through the loop's backend
// (wait_ready), never longer than c-ares's next retransmission is due, and
// then lets c-ares handle whichever sockets are ready.
#include <ares.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <corio/detail/socket.hpp>
#include <corio/errors.hpp>
#include <corio/net/resolve.hpp>
#include <corio/time/timeout.hpp>
#include <corio/context/with.hpp>

namespace corio {

namespace {

std::atomic<std::uint64_t> channels_opened{0};

class resolve_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "resolve"; }
    std::string message(int code) const override {
        // c-ares 1.18's ares_strerror has no text for the code it added for services.
        if (code == ARES_ESERVICE) return "neither a port number nor a service name in /etc/services";
        return ::ares_strerror(code);
    }
};

std::string quoted(std::string_view host) {
    std::string s = "resolve '";
    s += host;
    s += '\'';
    return s;
}

[[noreturn]] void throw_errno(int error, std::string_view host, const char* call) {
    throw std::system_error(error, std::generic_category(), quoted(host) + ": " + call);
}

[[noreturn]] void throw_status(int status, std::string_view host) {
    if (status == ARES_ENOMEM) throw std::bad_alloc();
    throw std::system_error(status, resolve_category(), quoted(host));
}

// ares_library_init is not thread-safe and must run before the first
// channel; a function-local static makes it once per process, race-free.
// Never cleaned up: other threads may still be resolving at exit.
void library_init(std::string_view host) {
    static const int status = ::ares_library_init(ARES_LIB_INIT_ALL);
    if (status != ARES_SUCCESS) throw_status(status, host);
}

void check_arguments(const std::string& host, const resolve_options& options) {
    if (host.empty()) throw std::invalid_argument("resolve: the host name is empty");
    if (host.find('\0') != std::string::npos)
        throw std::invalid_argument(quoted(host) + ": the host name contains a NUL byte");
    if (options.family != AF_UNSPEC && options.family != AF_INET && options.family != AF_INET6)
        throw std::invalid_argument(quoted(host) + ": family " + std::to_string(options.family) +
                                    " is not AF_UNSPEC, AF_INET or AF_INET6");
    if (options.timeout.count() < 0)
        throw std::invalid_argument(quoted(host) + ": negative timeout " + std::to_string(options.timeout.count()) +
                                    "ms");
    for (const address& server : options.servers) {
        if (server.family() != AF_INET && server.family() != AF_INET6)
            throw std::invalid_argument(quoted(host) + ": name server " + server.to_string() +
                                        " is not an IP address");
    }
}

// A port number, or a name from /etc/services (a small local file, read
// synchronously as c-ares and getaddrinfo do). Empty means port 0, as a
// null service does for getaddrinfo.
std::uint16_t service_port(std::string_view host, const std::string& service) {
    if (service.empty()) return 0;
    const char* const first = service.data();
    const char* const last = first + service.size();
    if (service.find_first_not_of("0123456789") == std::string::npos) {
        std::uint16_t port = 0;
        const auto [end, error] = std::from_chars(first, last, port);
        if (error == std::errc() && end == last) return port;
    } else {
        servent entry{};
        servent* found = nullptr;
        char buffer[4096];
        if (::getservbyname_r(service.c_str(), "tcp", &entry, buffer, sizeof buffer, &found) == 0 &&
            found != nullptr)
            return ntohs(static_cast<std::uint16_t>(found->s_port));
    }
    throw std::system_error(ARES_ESERVICE, resolve_category(), quoted(host) + " service '" + service + "'");
}

// How long to wait for a name server and how many times to ask. c-ares
// 1.18 reads only BIND's retrans:/retry: options and otherwise asks 4 times
// with doubling timeouts (75s for a silent server), so glibc's timeout:N and
// attempts:N are read here, from resolv.conf's "options" lines and then
// RES_OPTIONS, with glibc's defaults and limits (resolv.conf(5)).
struct retry_policy {
    int timeout_s = 5;
    int attempts = 2;
};

void apply_resolver_options(std::string_view words, retry_policy& policy) {
    auto value = [](std::string_view word, std::string_view name, int low, int high) -> std::optional<int> {
        if (word.substr(0, name.size()) != name) return std::nullopt;
        int n = 0;
        const std::string_view digits = word.substr(name.size());
        const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
        return std::clamp(n, low, high);
    };
    while (!words.empty()) {
        const std::size_t start = words.find_first_not_of(" \t\r\n");
        if (start == std::string_view::npos) break;
        words.remove_prefix(start);
        const std::size_t size = std::min(words.find_first_of(" \t\r\n"), words.size());
        const std::string_view word = words.substr(0, size);
        words.remove_prefix(size);
        // Zero would make c-ares spin; glibc caps at 30s and 5 attempts.
        if (auto n = value(word, "timeout:", 1, 30)) policy.timeout_s = *n;
        if (auto n = value(word, "attempts:", 1, 5)) policy.attempts = *n;
    }
}

retry_policy read_retry_policy() {
    retry_policy policy;
    if (FILE* conf = std::fopen("/etc/resolv.conf", "re")) {
        char line[1024];
        while (std::fgets(line, sizeof line, conf) != nullptr) {
            std::string_view text(line);
            if (text.substr(0, 7) == "options" && text.size() > 7 && std::isspace(static_cast<unsigned char>(text[7])))
                apply_resolver_options(text.substr(7), policy);
        }
        std::fclose(conf);
    }
    if (const char* env = std::getenv("RES_OPTIONS")) apply_resolver_options(env, policy);
    return policy;
}

// One c-ares lookup: its channel, the epoll set holding the channel's
// sockets, and the answer. c-ares calls back only from inside the ares_*
// calls made on this object (ares_getaddrinfo, ares_process_fd,
// ares_destroy), all while it is alive, so the callbacks may write to it
// even when the lookup is being abandoned (ARES_EDESTRUCTION).
class lookup {
public:
    lookup(std::string_view host, std::uint16_t port) : host_(host), port_(port) {}
    lookup(const lookup&) = delete;
    lookup& operator=(const lookup&) = delete;
    ~lookup() {
        // Destroying the channel ends a pending query and closes its sockets,
        // calling on_sock_state for each: the epoll set must still be open.
        if (channel_ != nullptr) ::ares_destroy(channel_);
        // The loop's backend may hold epfd_ (the epoll backend registers
        // what it polls): close_socket makes it forget the number first.
        detail::close_socket(epfd_);
    }

    void open(const std::vector<address>& servers) {
        library_init(host_);
        epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (epfd_ < 0) throw_errno(errno, host_, "epoll_create1");
        const retry_policy policy = read_retry_policy();
        ares_options options{};
        options.sock_state_cb = &on_sock_state;
        options.sock_state_cb_data = this;
        options.timeout = policy.timeout_s * 1000;
        options.tries = policy.attempts;
        ares_channel channel = nullptr;
        const int status =
            ::ares_init_options(&channel, &options, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
        if (status != ARES_SUCCESS) throw_status(status, host_);
        channel_ = channel;
        channels_opened.fetch_add(1, std::memory_order_relaxed);
        if (!servers.empty()) use_servers(servers);
    }

    void start(int family) {
        ares_addrinfo_hints hints{};
        hints.ai_family = family;
        hints.ai_socktype = SOCK_STREAM;
        // No service: c-ares reads a bad one as port 0 (service_port checks it).
        ::ares_getaddrinfo(channel_, host_.c_str(), nullptr, &hints, &on_answer, this);
    }

    bool done() const noexcept { return done_; }
    int epoll_fd() const noexcept { return epfd_; }

    /// When c-ares next needs to act (a retransmission, a server to give
    /// up on); nullopt when it waits for nothing but its sockets.
    std::optional<std::chrono::milliseconds> next_timeout() const {
        timeval tv{};
        if (::ares_timeout(channel_, nullptr, &tv) == nullptr) return std::nullopt;
        // Rounded up: waking before the retransmission is due would spin.
        return std::chrono::milliseconds(static_cast<std::int64_t>(tv.tv_sec) * 1000 + (tv.tv_usec + 999) / 1000);
    }

    /// Hands c-ares the sockets that are ready, or lets it see its timeouts.
    void process() {
        epoll_event events[16];
        int n = ::epoll_wait(epfd_, events, 16, 0);
        if (n < 0 && errno != EINTR) throw_errno(errno, host_, "epoll_wait");
        for (int i = 0; i < n && !done_; ++i) {
            const int fd = events[i].data.fd;
            const std::uint32_t ev = events[i].events;
            // An error or hangup goes to c-ares as readable: its read sees the
            // error and drops or retries the connection.
            const bool readable = (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0;
            const bool writable = (ev & EPOLLOUT) != 0;
            ::ares_process_fd(channel_, readable ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD);
        }
        if (n <= 0 && !done_) ::ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        if (watch_error_ != 0) throw_errno(watch_error_, host_, "epoll_ctl");
    }

    /// The answer, once done(); system_error when the name did not resolve.
    std::vector<address> take_result() {
        if (status_ != ARES_SUCCESS) throw_status(status_, host_);
        if (found_.empty()) throw_status(ARES_ENODATA, host_);
        return std::move(found_);
    }

private:
    void use_servers(const std::vector<address>& servers) {
        std::vector<ares_addr_port_node> nodes(servers.size());
        for (std::size_t i = 0; i < servers.size(); ++i) {
            ares_addr_port_node& node = nodes[i];
            const address& server = servers[i];
            node.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
            node.family = server.family();
            if (server.family() == AF_INET) {
                const auto* v4 = reinterpret_cast<const sockaddr_in*>(server.data());
                std::memcpy(&node.addr.addr4, &v4->sin_addr, sizeof node.addr.addr4);
            } else {
                const auto* v6 = reinterpret_cast<const sockaddr_in6*>(server.data());
                std::memcpy(&node.addr.addr6, &v6->sin6_addr, sizeof node.addr.addr6);
            }
            // Port 0 means c-ares's default, 53.
            node.udp_port = server.port();
            node.tcp_port = server.port();
        }
        const int status = ::ares_set_servers_ports(channel_, nodes.data());
        if (status != ARES_SUCCESS) throw_status(status, host_);
    }

    // c-ares's sockets, with the interest it asks for, mirrored in epfd_.
    // A C callback: failures are kept for process() to throw.
    static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) noexcept {
        auto* self = static_cast<lookup*>(data);
        if (!readable && !writable) {
            ::epoll_ctl(self->epfd_, EPOLL_CTL_DEL, fd, nullptr);  // ENOENT after a failed ADD: nothing to undo
            return;
        }
        epoll_event ev{};
        ev.events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
        ev.data.fd = fd;
        if (::epoll_ctl(self->epfd_, EPOLL_CTL_ADD, fd, &ev) == 0) return;
        if (errno == EEXIST && ::epoll_ctl(self->epfd_, EPOLL_CTL_MOD, fd, &ev) == 0) return;
        if (self->watch_error_ == 0) self->watch_error_ = errno;
    }

    static void on_answer(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) noexcept {
        auto* self = static_cast<lookup*>(arg);
        self->done_ = true;
        self->status_ = status;
        if (result == nullptr) return;
        if (status == ARES_SUCCESS) {
            try {
                self->collect(result);
            } catch (...) {  // std::bad_alloc: must not cross into C
                self->found_.clear();
                self->status_ = ARES_ENOMEM;
            }
        }
        ::ares_freeaddrinfo(result);
    }

    // In c-ares's order (RFC 6724 sorted), each address once, with the port.
    void collect(const ares_addrinfo* result) {
        for (const ares_addrinfo_node* node = result->nodes; node != nullptr; node = node->ai_next) {
            if (node->ai_addr == nullptr) continue;
            sockaddr_storage storage{};
            socklen_t size = 0;
            if (node->ai_family == AF_INET && node->ai_addrlen >= sizeof(sockaddr_in)) {
                size = sizeof(sockaddr_in);
                std::memcpy(&storage, node->ai_addr, size);
                reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(port_);
            } else if (node->ai_family == AF_INET6 && node->ai_addrlen >= sizeof(sockaddr_in6)) {
                size = sizeof(sockaddr_in6);
                std::memcpy(&storage, node->ai_addr, size);
                reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(port_);
            } else {
                continue;
            }
            address a(reinterpret_cast<const sockaddr*>(&storage), size);
            bool seen = false;
            for (const address& b : found_) seen = seen || a == b;
            if (!seen) found_.push_back(a);
        }
    }

    std::string host_;
    std::uint16_t port_;
    ares_channel channel_ = nullptr;
    int epfd_ = -1;
    bool done_ = false;
    int status_ = ARES_SUCCESS;
    int watch_error_ = 0;
    std::vector<address> found_;
};

// c-ares 1.18 leaks a copy of the name when "localhost" is missing from
// /etc/hosts for the family asked and it falls back to the loopback address
// (RFC 6761). Asking for both families avoids that fallback whenever
// /etc/hosts names localhost at all; the family is then picked here, with
// the same fallback.
bool localhost_workaround(const std::string& host, int family) noexcept {
    return family != AF_UNSPEC && host == "localhost";
}

std::vector<address> only_family(std::vector<address> found, int family, std::uint16_t port) {
    std::erase_if(found, [family](const address& a) { return a.family() != family; });
    if (found.empty()) found.push_back(*address::parse(family == AF_INET ? "127.0.0.1" : "::1", port));
    return found;
}

task<std::vector<address>> resolve_port(std::string host, std::uint16_t port, resolve_options options) {
    using clock = std::chrono::steady_clock;
    check_arguments(host, options);
    if (std::optional<address> literal = address::parse(host, port)) {
        // getaddrinfo's EAI_ADDRFAMILY: the literal is of the other family.
        if (options.family != AF_UNSPEC && literal->family() != options.family) throw_status(ARES_EBADFAMILY, host);
        std::vector<address> one;
        one.push_back(*literal);
        co_return one;
    }

    std::optional<clock::time_point> deadline;
    if (options.timeout.count() > 0) deadline = clock::now() + options.timeout;

    lookup query(host, port);
    query.open(options.servers);
    const bool pick_family = localhost_workaround(host, options.family);
    query.start(pick_family ? AF_UNSPEC : options.family);  // may answer at once (/etc/hosts, "localhost")
    while (!query.done()) {
        std::optional<std::chrono::milliseconds> bound = query.next_timeout();
        if (deadline) {
            const clock::time_point now = clock::now();
            if (now >= *deadline)
                throw timeout_error(quoted(host) + ": no answer within " + std::to_string(options.timeout.count()) +
                                    "ms");
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - now);
            if (!bound || left < *bound) bound = left;
        }
        if (!bound) {
            co_await detail::wait_ready(query.epoll_fd(), POLLIN, "resolve");
        } else if (bound->count() > 0) {
            // Leaving the wait when the bound passes is what move_on_after is
            // for; an outer cancellation still propagates through it.
            auto wait = [fd = query.epoll_fd()](timeout_scope&) -> task<> {
                co_await detail::wait_ready(fd, POLLIN, "resolve");
            };
            auto bounded = with(move_on_after(*bound), std::move(wait));
            co_await std::move(bounded);
        }
        query.process();
    }
    std::vector<address> found = query.take_result();
    if (pick_family) found = only_family(std::move(found), options.family, port);
    co_return found;
}

}  // namespace

const std::error_category& resolve_category() noexcept {
    static const resolve_category_impl category;
    return category;
}

task<std::vector<address>> resolve(std::string host, std::string service, resolve_options options) {
    // Checked before the service, so that an empty host is named as such.
    check_arguments(host, options);
    const std::uint16_t port = service_port(host, service);
    co_return co_await resolve_port(std::move(host), port, std::move(options));
}

task<std::vector<address>> resolve(std::string host, std::uint16_t port, resolve_options options) {
    return resolve_port(std::move(host), port, std::move(options));
}

namespace detail {

// The tests' hook (tests/net/resolver_probe.hpp declares it): c-ares channels
// opened so far. Declared here too, so that the definition has a prototype.
std::uint64_t resolver_channels_opened() noexcept;
std::uint64_t resolver_channels_opened() noexcept { return channels_opened.load(std::memory_order_relaxed); }

}  // namespace detail

}  // namespace corio
