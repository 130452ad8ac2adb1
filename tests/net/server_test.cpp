// Servers under load and under attack, on both backends (docs/reference.md,
// Networking):
// 10 000 concurrent connections and what each costs, running out of
// descriptors while accepting (in a child process with a low RLIMIT_NOFILE),
// max_connections, a handler's exception, closing a server while handlers
// run (their exits finish first), slowloris peers and endless lines, Happy
// Eyeballs across two addresses of one name, and cancelling a pending
// accept or connect without leaking a descriptor.
//
// Peers that must not share this process's descriptor table or limits (the
// 10 000 clients, the EMFILE server, the Happy Eyeballs client with its own
// /etc/hosts) run in a forked child that only makes system calls or runs its
// own corio loop, and reports through a pipe and its exit status.
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <corio/corio.hpp>

#include "net_test_support.hpp"

using namespace std::chrono_literals;
using corio_net_test::backend_test;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

using clock_type = std::chrono::steady_clock;

long long ms_since(clock_type::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start).count();
}

class server_test : public backend_test {};
CORIO_NET_ON_BOTH_BACKENDS(server_test);

// ---------------------------------------------------------------- helpers

/// Raises the soft RLIMIT_NOFILE to the hard one; gives the hard one.
rlim_t raise_nofile() {
    rlimit r{};
    ::getrlimit(RLIMIT_NOFILE, &r);
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
    return r.rlim_max;
}

/// Bytes malloc has handed out and not taken back (mmapped blocks included).
std::size_t heap_in_use() {
    const struct mallinfo2 m = ::mallinfo2();
    return m.uordblks + m.hblkhd;
}

/// Bytes of freed coroutine frames that corio's per-thread frame cache keeps
/// for reuse: malloc counts them as in use, and a test that ran before
/// leaves up to 16 384 per size class.
std::size_t frame_cache_bytes() {
    const corio::detail::frame_cache* c = corio::detail::tls_frame_cache;
    if (c == nullptr) return 0;
    std::size_t total = 0;
    for (std::size_t k = 0; k < corio::detail::frame_cache::classes; ++k)
        total += c->counts[k] * (k + 1) * corio::detail::frame_cache::granularity;
    return total;
}

/// What live objects hold: malloc's bytes in use minus the cached frames.
std::size_t live_heap() { return heap_in_use() - frame_cache_bytes(); }

/// The resident set, from /proc/self/status.
std::size_t rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    return 0;
}

std::ptrdiff_t delta(std::size_t now, std::size_t before) {
    return static_cast<std::ptrdiff_t>(now) - static_cast<std::ptrdiff_t>(before);
}

/// A line handler: echoes each line until EOF.
corio::task<> echo_lines(corio::stream s) {
    for (;;) {
        std::string line = co_await s.readline();
        if (line.empty()) co_return;
        co_await s.write_all(line);
    }
}

/// Polls `done` every few milliseconds until it holds or `limit` passes.
template <class F>
corio::task<bool> eventually(F done, std::chrono::milliseconds limit) {
    const auto deadline = clock_type::now() + limit;
    while (!done()) {
        if (clock_type::now() >= deadline) co_return false;
        co_await corio::sleep(5ms);
    }
    co_return true;
}

/// One byte from a non-blocking pipe, polled from the loop; nullopt after `limit`.
corio::task<std::optional<char>> read_byte(int fd, std::chrono::milliseconds limit) {
    const auto deadline = clock_type::now() + limit;
    for (;;) {
        char c = 0;
        if (::read(fd, &c, 1) == 1) co_return c;
        if (clock_type::now() >= deadline) co_return std::nullopt;
        co_await corio::sleep(5ms);
    }
}

/// Writes to a pipe whose reader may be gone (a child that failed): EPIPE,
/// not SIGPIPE, so SIGPIPE is ignored in this test program.
void write_text(int fd, std::string_view text) {
    static const bool sigpipe_ignored = (::signal(SIGPIPE, SIG_IGN), true);
    (void)sigpipe_ignored;
    while (!text.empty()) {
        const ssize_t n = ::write(fd, text.data(), text.size());
        if (n <= 0) return;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Every connection in this file goes through here: `open_connection(host,
// port)` inside a co_await expression passes a braced default argument,
// which g++ 12 copies bitwise (a string in connect_options then frees a
// pointer into the caller's frame).
corio::task<corio::stream> connect_to(std::string host, std::uint16_t port,
                                      corio::connect_options options = corio::connect_options()) {
    co_return co_await corio::open_connection(std::move(host), port, std::move(options));
}

corio::task<std::string> readline_of(corio::stream& s) { co_return co_await s.readline(); }

/// A forked copy of this process running `body(report_fd)`; the child exits
/// with what the body returns. Killed by PID if still running when destroyed.
class forked {
public:
    explicit forked(std::function<int(int)> body) {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
        pid_ = ::fork();
        if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
        if (pid_ == 0) {
            ::close(p[0]);
            int code = 0;
            try {
                code = body(p[1]);
            } catch (const std::exception& e) {
                write_text(p[1], std::string("FAIL: the child threw: ") + e.what() + "\n");
                code = 3;
            } catch (...) {
                write_text(p[1], "FAIL: the child threw something else\n");
                code = 4;
            }
            ::_exit(code);
        }
        ::close(p[1]);
        fd_ = p[0];
    }
    ~forked() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (fd_ >= 0) ::close(fd_);
    }
    forked(const forked&) = delete;
    forked& operator=(const forked&) = delete;

    /// One line of the report (without '\n'); what came when `limit` passes or at EOF.
    std::string read_line(std::chrono::milliseconds limit = 10s) {
        const auto deadline = clock_type::now() + limit;
        std::string out;
        while (clock_type::now() < deadline) {
            if (auto nl = pending_.find('\n'); nl != std::string::npos) {
                out = pending_.substr(0, nl);
                pending_.erase(0, nl + 1);
                return out;
            }
            if (!fill(deadline)) break;
        }
        return std::exchange(pending_, {});
    }
    /// The rest of the report, until the child closes its end.
    std::string read_rest(std::chrono::milliseconds limit = 20s) {
        const auto deadline = clock_type::now() + limit;
        while (clock_type::now() < deadline && fill(deadline)) {
        }
        return std::exchange(pending_, {});
    }
    /// Its exit status (128 + signal when killed), or -1 if it runs past `limit`.
    int wait(std::chrono::milliseconds limit = 20s) {
        const auto deadline = clock_type::now() + limit;
        while (pid_ > 0) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            if (clock_type::now() >= deadline) return -1;
            ::usleep(2000);
        }
        return -1;
    }

private:
    bool fill(clock_type::time_point deadline) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0))) <= 0) return false;
        char buf[4096];
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n <= 0) return false;
        pending_.append(buf, static_cast<std::size_t>(n));
        return true;
    }

    pid_t pid_ = -1;
    int fd_ = -1;
    std::string pending_;
};

/// The "FAIL: ..." lines of a child's report, and the rest as information.
void check_report(const std::string& report) {
    std::istringstream in(report);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("FAIL", 0) == 0) ADD_FAILURE() << line;
        else if (!line.empty()) std::printf("  [child] %s\n", line.c_str());
    }
}

/// A blocking TCP connect from this thread to `a`; -1 on failure. Its
/// receives give up after 5 s (a broken server fails the test, not hangs it).
int raw_connect(const corio::address& a) {
    const int fd = ::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    const timeval five{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
    if (::connect(fd, a.data(), a.size()) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

/// Reads one '\n'-terminated line with a blocking socket (bytes one by one
/// would be slow: the peer's lines are short and come whole).
std::string recv_line(int fd) {
    std::string out;
    char buf[256];
    while (out.empty() || out.back() != '\n') {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

/// A listener that never accepts, its backlog full: later SYNs to it are
/// dropped, so a connect to it stays pending (a blackholed address).
class blackhole {
public:
    blackhole(const char* host, std::uint16_t port) {
        const corio::address a = *corio::address::parse(host, port);
        listener_ = ::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (a.family() == AF_INET6) ::setsockopt(listener_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (::bind(listener_, a.data(), a.size()) != 0 || ::listen(listener_, 0) != 0) return;
        socklen_t size = corio::address::capacity;
        ::getsockname(listener_, where_.data(), &size);
        where_.resize(size);
        for (int i = 0; i < 8; ++i) {
            const int c = ::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            fillers_.push_back(c);
            (void)::connect(c, where_.data(), where_.size());
            pollfd p{c, POLLOUT, 0};
            if (::poll(&p, 1, 100) == 0) {  // still pending after 100 ms: SYNs are dropped now
                ok_ = true;
                return;
            }
        }
    }
    ~blackhole() {
        for (const int fd : fillers_) ::close(fd);
        if (listener_ >= 0) ::close(listener_);
    }
    blackhole(const blackhole&) = delete;
    blackhole& operator=(const blackhole&) = delete;
    bool ok() const { return ok_; }
    std::uint16_t port() const { return where_.port(); }

private:
    int listener_ = -1;
    std::vector<int> fillers_;
    corio::address where_;
    bool ok_ = false;
};

// ------------------------------------------- 1. 10 000 concurrent connections

// CORIO_SERVER_TEST_CONNECTIONS overrides the count (for a quick look).
const int many = [] {
    const char* env = std::getenv("CORIO_SERVER_TEST_CONNECTIONS");
    return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : 10000;
}();

// The clients, in a child with its own descriptor table: connect all, one
// round trip each while all are open, report 'R', wait for 'C', close all.
int many_clients(std::uint16_t port, int report, int go) {
    const corio::address server = *corio::address::parse("127.0.0.1", port);
    std::vector<int> fds;
    fds.reserve(many);
    for (int i = 0; i < many; ++i) {
        const int fd = raw_connect(server);
        if (fd < 0) {
            write_text(report, "FAIL: connect " + std::to_string(i) + ": " + std::strerror(errno) + "\n");
            return 2;
        }
        fds.push_back(fd);
    }
    for (int i = 0; i < many; ++i)
        if (!send_all(fds[i], "ping " + std::to_string(i) + "\n")) {
            write_text(report, "FAIL: send " + std::to_string(i) + "\n");
            return 2;
        }
    int wrong = 0;
    for (int i = 0; i < many; ++i)
        if (recv_line(fds[i]) != "ping " + std::to_string(i) + "\n") ++wrong;
    write_text(report, wrong == 0 ? "R" : "W");
    char c = 0;
    (void)::read(go, &c, 1);
    for (const int fd : fds) ::close(fd);
    return wrong == 0 ? 0 : 1;
}

struct many_outcome {
    std::string failure;
    std::size_t running_at_peak = 0;
    std::ptrdiff_t heap_delta = 0;
    std::ptrdiff_t rss_delta = 0;
    long long open_ms = 0;
    long long close_ms = 0;
    int child_status = -1;
};

corio::task<many_outcome> many_connections() {
    many_outcome o;
    corio::server_options options;
    options.backlog = 4096;
    auto srv = co_await corio::start_server(echo_lines, "127.0.0.1", 0, options);
    {  // warm-up: whatever the first connection allocates once (frame caches, the backend's tables)
        corio::stream s = co_await connect_to("127.0.0.1", srv.port());
        co_await s.write_all("warm\n");
        co_await s.readline();
        co_await s.close();
        co_await eventually([&] { return srv.connections() == 0; }, 2s);
    }
    ::malloc_trim(0);
    const std::size_t heap_before = live_heap();
    const std::size_t rss_before = rss_bytes();
    const std::size_t cached_before = frame_cache_bytes();

    int report[2], go[2];
    if (::pipe2(report, O_CLOEXEC | O_NONBLOCK) != 0 || ::pipe2(go, O_CLOEXEC) != 0)
        throw std::system_error(errno, std::generic_category(), "pipe");
    const std::uint16_t port = srv.port();
    const auto start = clock_type::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
        // Only the pipes are kept: the loop's and the server's descriptors
        // stay the parent's alone.
        for (int fd = 3; fd < 1024; ++fd)
            if (fd != report[1] && fd != go[0]) ::close(fd);
        const int flags = ::fcntl(report[1], F_GETFL);
        ::fcntl(report[1], F_SETFL, flags & ~O_NONBLOCK);
        ::_exit(many_clients(port, report[1], go[0]));
    }
    ::close(report[1]);
    ::close(go[0]);
    const std::optional<char> ready = co_await read_byte(report[0], 25s);
    o.open_ms = ms_since(start);
    if (ready != 'R') {
        o.failure = ready ? "a client got a wrong reply" : "the clients did not finish their round trips within 25 s";
    } else {
        co_await corio::sleep(20ms);  // every handler is back in its readline
        o.running_at_peak = srv.connections();
        o.heap_delta = delta(live_heap(), heap_before);
        // Frames taken from the cache were resident already: count them too.
        o.rss_delta = delta(rss_bytes(), rss_before) + delta(cached_before, frame_cache_bytes());
    }
    write_text(go[1], "C");
    ::close(go[1]);
    const auto closing = clock_type::now();
    if (!co_await eventually([&] { return srv.connections() == 0; }, 20s) && o.failure.empty())
        o.failure = std::to_string(srv.connections()) + " handlers still run 20 s after the clients closed";
    o.close_ms = ms_since(closing);
    srv.close();
    co_await srv.wait_closed();
    // The child has closed everything by now; reap it (bounded).
    const auto deadline = clock_type::now() + 10s;
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) != pid) {
        if (clock_type::now() >= deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        co_await corio::sleep(5ms);
    }
    o.child_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::string rest;
    char buf[512];
    for (ssize_t n; (n = ::read(report[0], buf, sizeof buf)) > 0;) rest.append(buf, static_cast<std::size_t>(n));
    if (!rest.empty()) o.failure += " [client: " + rest + "]";
    ::close(report[0]);
    co_return o;
}

TEST_P(server_test, ten_thousand_concurrent_connections_cost_bounded_memory) {
    const rlim_t hard = raise_nofile();
    if (hard < static_cast<rlim_t>(many) + 256)
        GTEST_SKIP() << "RLIMIT_NOFILE's hard limit is " << hard << ": " << many << " connections do not fit";
    const int fds_before = corio_net_test::open_fd_count();
    const many_outcome o = run(many_connections());
    EXPECT_EQ(o.failure, "");
    EXPECT_EQ(o.child_status, 0);
    EXPECT_EQ(o.running_at_peak, static_cast<std::size_t>(many));  // all open at once
    EXPECT_EQ(corio_net_test::open_fd_count(), fds_before);

    const double heap_per = static_cast<double>(o.heap_delta) / many;
    const double rss_per = static_cast<double>(o.rss_delta) / many;
    const std::string backend = corio::to_string(GetParam());
    RecordProperty("heap_bytes_per_connection_" + backend, static_cast<int>(heap_per));
    RecordProperty("rss_bytes_per_connection_" + backend, static_cast<int>(rss_per));
    std::printf("  %s: %d connections: heap %.0f B/connection, RSS %.0f B/connection%s; "
                "opened with a round trip each in %lld ms, all ended %lld ms after the clients closed\n",
                backend.c_str(), many, heap_per, rss_per,
                sanitized ? " (sanitized build: malloc is ASan's, not measured)" : "", o.open_ms, o.close_ms);
    if (sanitized) return;  // ASan's redzones and quarantine say nothing about corio's costs
    EXPECT_GT(heap_per, 0.0);  // the measure measures something
    EXPECT_LT(heap_per, 16.0 * 1024);
    EXPECT_LT(rss_per, 16.0 * 1024);
}

// ----------------------------------------------- 2. EMFILE while accepting

// The server, in a child whose RLIMIT_NOFILE leaves room for a handful of
// connections. It reports its port, serves until 'Q' comes on `control`,
// then reports how many lines it answered.
corio::task<> emfile_server(int report, int control, rlim_t limit) {
    std::size_t answered = 0;
    std::size_t most = 0;
    corio::server* srv_ptr = nullptr;
    auto handler = [&](corio::stream s) -> corio::task<> {
        most = std::max(most, srv_ptr->connections());
        for (;;) {
            std::string line = co_await s.readline();
            if (line.empty()) co_return;
            co_await s.write_all("echo " + line);
            ++answered;
        }
    };
    corio::server_options options;
    options.backlog = 64;
    auto srv = co_await corio::start_server(handler, "127.0.0.1", 0, options);
    srv_ptr = &srv;
    write_text(report, std::to_string(srv.port()) + "\n");
    const std::optional<char> quit = co_await read_byte(control, 30s);
    std::string out = "answered=" + std::to_string(answered) + " most_at_once=" + std::to_string(most) +
                      " serving=" + (srv.is_serving() ? "yes" : "no") + " limit=" + std::to_string(limit) + "\n";
    if (quit != 'Q') out += "FAIL: no 'Q' from the test within 30 s\n";
    srv.close();
    co_await srv.wait_closed();
    write_text(report, out);
}

TEST_P(server_test, out_of_descriptors_while_accepting_pauses_and_loses_nobody) {
    int control[2];
    ASSERT_EQ(::pipe2(control, O_CLOEXEC), 0);
    const corio::backend_kind backend = GetParam();
    forked child([&](int report) -> int {
        ::close(control[1]);
        // Only the report and control pipes are kept (as 3 and 4), then the
        // limit leaves the loop (2 descriptors), the listener (1) and about 5 connections.
        ::dup2(report, 100);
        ::dup2(control[0], 101);
        for (int fd = 3; fd < 1024; ++fd)
            if (fd != 100 && fd != 101) ::close(fd);
        ::dup2(100, 3);
        ::dup2(101, 4);
        ::close(100);
        ::close(101);
        ::fcntl(4, F_SETFL, O_NONBLOCK);
        const rlim_t limit = 5 + 2 + 1 + 5;
        rlimit r{};
        ::getrlimit(RLIMIT_NOFILE, &r);
        r.rlim_cur = limit;
        if (::setrlimit(RLIMIT_NOFILE, &r) != 0) return 5;
        corio_net_test::run_on(backend, emfile_server(3, 4, limit));
        return 0;
    });
    ::close(control[0]);
    const std::string port_line = child.read_line();
    const int port = std::atoi(port_line.c_str());
    ASSERT_GT(port, 0) << "the child server did not report its port: " << port_line << child.read_rest(1s);
    const corio::address server = *corio::address::parse("127.0.0.1", static_cast<std::uint16_t>(port));

    // One round trip before the flood. In a sanitized build the runtime needs
    // descriptors of its own: UBSan's vptr check opens a pipe the first time
    // it meets a dynamic type, and a server out of descriptors (by design,
    // here) made it report the handler's call as a bad vptr (io_uring's
    // multishot accept takes them all before the first handler runs).
    {
        const int fd = raw_connect(server);
        ASSERT_GE(fd, 0) << "warm-up connect: " << std::strerror(errno);
        ASSERT_TRUE(send_all(fd, "warm-up\n"));
        ASSERT_EQ(recv_line(fd), "echo warm-up\n");
        ::close(fd);
    }

    // More connections than the server has descriptors for: the kernel
    // completes every handshake (backlog 64); the server accepts a few.
    constexpr int clients = 16;
    std::vector<int> fds;
    for (int i = 0; i < clients; ++i) {
        const int fd = raw_connect(server);
        ASSERT_GE(fd, 0) << "connect " << i << ": " << std::strerror(errno);
        fds.push_back(fd);
        ASSERT_TRUE(send_all(fd, "hello " + std::to_string(i) + "\n"));
    }
    // Rounds: wait for the answers that come, check them, close those
    // connections; the server must then accept the ones that waited.
    std::vector<bool> answered(clients, false);
    std::vector<int> per_round;
    int total = 0;
    int wrong = 0;
    const auto deadline = clock_type::now() + 15s;
    while (total < clients && clock_type::now() < deadline) {
        // A round ends 300 ms after its last answer, but not before its
        // first: a busy machine may keep the server off the CPU for longer.
        int this_round = 0;
        auto quiet_since = clock_type::now();
        while (this_round == 0 ? clock_type::now() < deadline : clock_type::now() - quiet_since < 300ms) {
            std::vector<pollfd> p;
            std::vector<int> who;
            for (int i = 0; i < clients; ++i)
                if (!answered[i]) {
                    p.push_back(pollfd{fds[i], POLLIN, 0});
                    who.push_back(i);
                }
            if (p.empty() || ::poll(p.data(), p.size(), 50) <= 0) continue;
            for (std::size_t k = 0; k < p.size(); ++k) {
                if ((p[k].revents & POLLIN) == 0) continue;
                const int i = who[k];
                const std::string reply = recv_line(fds[i]);
                if (reply != "echo hello " + std::to_string(i) + "\n") ++wrong;
                answered[i] = true;
                ++this_round;
                ++total;
                quiet_since = clock_type::now();
            }
        }
        per_round.push_back(this_round);
        if (per_round.size() == 1) {
            // The first ones are served on and on while the others wait.
            for (int i = 0; i < clients; ++i) {
                if (!answered[i]) continue;
                send_all(fds[i], "again\n");
                if (recv_line(fds[i]) != "echo again\n") ++wrong;
            }
        }
        for (int i = 0; i < clients; ++i)
            if (answered[i] && fds[i] >= 0) {
                ::close(fds[i]);
                fds[i] = -1;
            }
    }
    // Still accepting after all that.
    const int late = raw_connect(server);
    std::string late_reply;
    if (late >= 0) {
        send_all(late, "late\n");
        late_reply = recv_line(late);
        ::close(late);
    }
    for (const int fd : fds)
        if (fd >= 0) ::close(fd);
    write_text(control[1], "Q");
    ::close(control[1]);
    const std::string report = child.read_rest();
    const int status = child.wait();

    std::string rounds;
    for (const int n : per_round) rounds += std::to_string(n) + " ";
    std::printf("  answered per round: %s(the child: %s)\n", rounds.c_str(), report.c_str());
    ASSERT_FALSE(per_round.empty());
    EXPECT_GT(per_round.front(), 0) << "the server answered nobody";
    EXPECT_LT(per_round.front(), clients) << "the limit did not bite: the test tests nothing";
    EXPECT_EQ(total, clients) << "connections were lost; per round: " << rounds;
    EXPECT_EQ(wrong, 0);
    EXPECT_EQ(late_reply, "echo late\n");
    EXPECT_EQ(status, 0) << report;
    // the first lines, the first round's second ones, the late one, the warm-up
    EXPECT_NE(report.find("answered=" + std::to_string(clients + per_round.front() + 1 + 1)), std::string::npos)
        << report;
    EXPECT_NE(report.find("serving=yes"), std::string::npos) << report;
    check_report(report);
}

// --------------------------------------------------- 3. max_connections

struct limit_outcome {
    std::size_t waiting_running = 0;      // handlers running while 10 connections are open
    std::size_t waiting_connections = 0;  // server.connections() then
    std::size_t peak = 0;
    std::size_t peak_connections = 0;
    std::vector<std::string> replies;
};

corio::task<limit_outcome> limited_server() {
    limit_outcome o;
    std::size_t running = 0;
    corio::server* srv_ptr = nullptr;
    auto handler = [&](corio::stream s) -> corio::task<> {
        ++running;
        o.peak = std::max(o.peak, running);
        o.peak_connections = std::max(o.peak_connections, srv_ptr->connections());
        struct leave {
            std::size_t& n;
            ~leave() { --n; }
        } guard{running};
        std::string line = co_await s.readline();
        co_await corio::sleep(20ms);  // overlap: the slot stays taken a while
        co_await s.write_all("done " + line);
    };
    corio::server_options options;
    options.max_connections = 3;
    auto srv = co_await corio::start_server(handler, "127.0.0.1", 0, options);
    srv_ptr = &srv;
    std::vector<corio::stream> clients;
    for (int i = 0; i < 10; ++i) clients.push_back(co_await connect_to("127.0.0.1", srv.port()));
    // The accepts take loop turns: wait for three handlers (not a fixed
    // sleep, which a busy machine could outlast), then a while more, in
    // which a fourth would start if the limit did not hold.
    co_await eventually([&] { return running >= 3; }, 10s);
    co_await corio::sleep(50ms);
    o.waiting_running = running;
    o.waiting_connections = srv.connections();
    for (int i = 0; i < 10; ++i) clients[i].write("c" + std::to_string(i) + "\n");
    std::vector<corio::task<std::string>> replies;
    for (auto& c : clients) replies.push_back(readline_of(c));
    o.replies = co_await corio::wait_for(corio::gather(std::move(replies)), 10s);
    for (auto& c : clients) co_await c.close();
    srv.close();
    co_await srv.wait_closed();
    co_return o;
}

TEST_P(server_test, max_connections_holds_and_the_rest_are_served_later) {
    const int fds_before = corio_net_test::open_fd_count();
    const limit_outcome o = run(limited_server());
    EXPECT_EQ(o.waiting_running, 3u);
    EXPECT_EQ(o.waiting_connections, 3u);
    EXPECT_EQ(o.peak, 3u);
    EXPECT_EQ(o.peak_connections, 3u);
    ASSERT_EQ(o.replies.size(), 10u);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(o.replies[i], "done c" + std::to_string(i) + "\n");
    EXPECT_EQ(corio_net_test::open_fd_count(), fds_before);
}

// ------------------------------------------ 4. a handler's exception

struct failing_outcome {
    std::string first_before, first_after, fresh;
    int ended_cleanly = 0;  // failing connections the client saw end (EOF or reset)
    std::size_t connections = 0;
    bool serving = false;
};

corio::task<failing_outcome> failing_handlers() {
    failing_outcome o;
    auto handler = [](corio::stream s) -> corio::task<> {
        for (;;) {
            std::string line = co_await s.readline();
            if (line.empty()) co_return;
            if (line == "boom\n") throw std::runtime_error("boom from the handler");
            co_await s.write_all(line);
        }
    };
    auto srv = co_await corio::start_server(handler, "127.0.0.1", 0);
    corio::stream first = co_await connect_to("127.0.0.1", srv.port());
    co_await first.write_all("one\n");
    o.first_before = co_await first.readline();
    for (int i = 0; i < 20; ++i) {
        corio::stream victim = co_await connect_to("127.0.0.1", srv.port());
        co_await victim.write_all("boom\n");
        try {
            if ((co_await corio::wait_for(victim.read(100), 5s)).empty()) ++o.ended_cleanly;
        } catch (const std::system_error&) {
            ++o.ended_cleanly;  // a reset is an end too
        }
        co_await victim.close();
    }
    co_await first.write_all("two\n");
    o.first_after = co_await first.readline();
    corio::stream fresh = co_await connect_to("127.0.0.1", srv.port());
    co_await fresh.write_all("three\n");
    o.fresh = co_await fresh.readline();
    o.connections = srv.connections();
    o.serving = srv.is_serving();
    co_await fresh.close();
    co_await first.close();
    srv.close();
    co_await srv.wait_closed();
    co_return o;
}

TEST_P(server_test, a_handler_exception_closes_only_its_connection) {
    const int fds_before = corio_net_test::open_fd_count();
    testing::internal::CaptureStderr();
    const failing_outcome o = run(failing_handlers(), /*debug=*/true);
    const std::string debug_output = testing::internal::GetCapturedStderr();
    EXPECT_EQ(o.first_before, "one\n");
    EXPECT_EQ(o.ended_cleanly, 20);
    EXPECT_EQ(o.first_after, "two\n");
    EXPECT_EQ(o.fresh, "three\n");
    EXPECT_EQ(o.connections, 2u);
    EXPECT_TRUE(o.serving);
    EXPECT_NE(debug_output.find("boom from the handler"), std::string::npos) << debug_output;
    EXPECT_EQ(corio_net_test::open_fd_count(), fds_before);
}

// -------------------------------- 5. closing the server cancels handlers

// An async context manager whose exit takes a while: wait_closed must wait for it.
struct slow_exit {
    int* exits;
    corio::task<slow_exit&> aenter() { co_return *this; }
    corio::task<> aexit(std::exception_ptr) {
        co_await corio::sleep(30ms);
        ++*exits;
    }
};

struct closing_outcome {
    int entered = 0;
    int exits = 0;       // at the moment the server's close returned
    int cancelled = 0;   // handlers that saw cancelled_error
    int eof_seen = 0;    // clients that read EOF afterwards
    long long close_ms = 0;
};

corio::task<closing_outcome> close_while_handlers_run(bool through_with) {
    closing_outcome o;
    constexpr int n = 5;
    auto handler = [&o](corio::stream s) -> corio::task<> {
        try {
            auto body = [&o, &s](slow_exit&) -> corio::task<> {
                ++o.entered;
                co_await s.readline();  // the client sends nothing: this waits
                co_await corio::sleep(1h);
            };
            co_await corio::with(slow_exit{&o.exits}, std::move(body));
        } catch (const corio::cancelled_error&) {
            ++o.cancelled;
            throw;
        }
    };
    auto srv = co_await corio::start_server(handler, "127.0.0.1", 0);
    std::vector<corio::stream> clients;
    for (int i = 0; i < n; ++i) clients.push_back(co_await connect_to("127.0.0.1", srv.port()));
    co_await eventually([&] { return o.entered == n; }, 5s);
    const auto start = clock_type::now();
    if (through_with) {
        co_await corio::with(srv, [](corio::server&) -> corio::task<> { co_return; });
    } else {
        srv.close();
        co_await srv.wait_closed();
    }
    o.close_ms = ms_since(start);
    const int exits_at_close = o.exits;  // what ran before the close returned
    for (auto& c : clients)
        if ((co_await corio::wait_for(c.read(10), 5s)).empty()) ++o.eof_seen;
    for (auto& c : clients) co_await c.close();
    o.exits = exits_at_close;
    co_return o;
}

TEST_P(server_test, closing_cancels_handlers_and_waits_for_their_exits) {
    for (const bool through_with : {true, false}) {
        SCOPED_TRACE(through_with ? "exit of with(server, ...)" : "close() then wait_closed()");
        const int fds_before = corio_net_test::open_fd_count();
        const closing_outcome o = run(close_while_handlers_run(through_with));
        EXPECT_EQ(o.entered, 5);
        EXPECT_EQ(o.exits, 5);  // every slow exit ran before the close returned
        EXPECT_EQ(o.cancelled, 5);
        EXPECT_EQ(o.eof_seen, 5);
        EXPECT_GE(o.close_ms, 25);  // it did wait for the 30 ms exits
        EXPECT_LT(o.close_ms, 2000);
        EXPECT_EQ(corio_net_test::open_fd_count(), fds_before);
    }
}

// ------------------------------------------------------ 6. slowloris

struct slowloris_outcome {
    std::size_t idle_accepted = 0;
    std::ptrdiff_t idle_heap = 0;     // for all the idle connections
    std::ptrdiff_t trickle_heap = 0;  // after they each sent a partial line
    long long worst_round_trip_ms = 0;
    int round_trips = 0;
    int overruns = 0;
    std::size_t overrun_consumed = 0;
    std::ptrdiff_t endless_heap = 0;  // while the endless line was being sent
    std::string failure;
};

corio::task<slowloris_outcome> slowloris() {
    slowloris_outcome o;
    constexpr int idle = 1000;
    constexpr int trickling = 200;
    auto handler = [&o](corio::stream s) -> corio::task<> {
        try {
            for (;;) {
                std::string line = co_await s.readline();
                if (line.empty()) co_return;
                co_await s.write_all(line);
            }
        } catch (const corio::limit_overrun_error& e) {
            ++o.overruns;
            o.overrun_consumed = e.consumed();
        }
    };
    corio::server_options options;
    options.backlog = 2048;
    auto srv = co_await corio::start_server(handler, "127.0.0.1", 0, options);
    const corio::address where = *corio::address::parse("127.0.0.1", srv.port());
    {  // warm-up
        corio::stream s = co_await connect_to("127.0.0.1", srv.port());
        co_await s.write_all("warm\n");
        co_await s.readline();
        co_await s.close();
        co_await eventually([&] { return srv.connections() == 0; }, 2s);
    }
    ::malloc_trim(0);
    const std::size_t heap_before = live_heap();

    // Raw sockets (no corio memory on the client side): the kernel
    // completes the handshakes while this task does not yield.
    std::vector<int> peers;
    for (int i = 0; i < idle; ++i) {
        const int fd = raw_connect(where);
        if (fd < 0) {
            o.failure = "connect " + std::to_string(i) + ": " + std::strerror(errno);
            break;
        }
        peers.push_back(fd);
    }
    co_await eventually([&] { return srv.connections() == peers.size(); }, 10s);
    o.idle_accepted = srv.connections();
    o.idle_heap = delta(live_heap(), heap_before);

    // A partial line, a byte at a time, from some of them, while a normal
    // client is served.
    for (int tick = 0; tick < 10; ++tick) {
        for (int i = 0; i < trickling && i < static_cast<int>(peers.size()); ++i) send_all(peers[i], "G");
        const auto start = clock_type::now();
        corio::stream s = co_await corio::wait_for(connect_to("127.0.0.1", srv.port()), 5s);
        co_await s.write_all("normal " + std::to_string(tick) + "\n");
        if (co_await corio::wait_for(s.readline(), 5s) == "normal " + std::to_string(tick) + "\n") ++o.round_trips;
        co_await s.close();
        o.worst_round_trip_ms = std::max(o.worst_round_trip_ms, ms_since(start));
        co_await corio::sleep(20ms);
    }
    o.trickle_heap = delta(live_heap(), heap_before);
    for (const int fd : peers) ::close(fd);
    peers.clear();
    co_await eventually([&] { return srv.connections() == 0; }, 10s);

    // An endless line: 8 MiB without a newline. The handler's readline
    // gives up at the limit (64 KiB); the connection then ends.
    {
        corio::stream s = co_await connect_to("127.0.0.1", srv.port());
        const std::string chunk(64 * 1024, 'a');
        std::size_t peak = 0;
        try {
            co_await corio::with(corio::move_on_after(10s), [&](corio::timeout_scope&) -> corio::task<> {
                for (int i = 0; i < 128; ++i) {
                    co_await s.write_all(chunk);
                    peak = std::max(peak, live_heap());
                }
            });
        } catch (const std::system_error&) {
            // reset or broken pipe: the server closed the connection
        }
        s.abort();
        o.endless_heap = delta(peak, heap_before);
    }
    co_await eventually([&] { return o.overruns == 1 && srv.connections() == 0; }, 5s);
    srv.close();
    co_await srv.wait_closed();
    co_return o;
}

TEST_P(server_test, slowloris_peers_cost_bounded_memory_and_block_nobody) {
    const int fds_before = corio_net_test::open_fd_count();
    const slowloris_outcome o = run(slowloris());
    EXPECT_EQ(o.failure, "");
    EXPECT_EQ(o.idle_accepted, 1000u);
    EXPECT_EQ(o.round_trips, 10);
    EXPECT_LT(o.worst_round_trip_ms, 3000);  // milliseconds, unless the machine is busy; blocked is 5 s
    EXPECT_EQ(o.overruns, 1);
    EXPECT_GE(o.overrun_consumed, 64u * 1024);
    EXPECT_LE(o.overrun_consumed, 2u * 64 * 1024);
    std::printf("  %s: idle connections %.0f B each, after a partial line %.0f B each; endless line: +%td B "
                "(readline gave up after %zu B); a normal client's worst round trip %lld ms\n",
                corio::to_string(GetParam()), static_cast<double>(o.idle_heap) / 1000,
                static_cast<double>(o.trickle_heap) / 1000, o.endless_heap, o.overrun_consumed,
                o.worst_round_trip_ms);
    if (!sanitized) {
        EXPECT_LT(o.idle_heap / 1000, 16 * 1024);
        EXPECT_LT(o.trickle_heap / 1000, 16 * 1024);
        // The handler's buffer, the client's 64 KiB chunk and write buffer: well under 1 MiB.
        EXPECT_LT(o.endless_heap, 1 << 20);
    }
    EXPECT_EQ(corio_net_test::open_fd_count(), fds_before);
}

// --------------------------------------------------- 7. Happy Eyeballs

constexpr const char* he_name = "he.corio-test.invalid";

// In the child: every scenario against a name that /etc/hosts (this
// child's own, see below) gives as ::1 and 127.0.0.1. Reports FAIL lines.
corio::task<std::string> happy_eyeballs_scenarios() {
    std::string out;
    auto fail = [&out](const std::string& what) { out += "FAIL: " + what + "\n"; };
    std::vector<corio::address> found = co_await corio::resolve(he_name, 1);
    if (found.size() != 2) {
        fail(std::string(he_name) + " resolves to " + std::to_string(found.size()) + " addresses, not 2");
        co_return out;
    }
    const std::string first = found[0].host(), second = found[1].host();
    out += "order: " + first + " then " + second + "\n";
    corio::connect_options options;
    options.happy_eyeballs_delay = 200ms;
    options.connect_timeout = 3s;  // a broken race fails here instead of hanging
    auto answer = [](corio::stream s) -> corio::task<> { co_await s.write_all("hi from the server\n"); };

    {  // The first address does not answer: the second is tried after the delay and wins.
        auto srv = co_await corio::start_server(answer, second, 0);
        blackhole hole(first.c_str(), srv.port());
        if (!hole.ok()) {
            fail("could not blackhole " + first);
        } else {
            const auto start = clock_type::now();
            corio::stream s = co_await connect_to(he_name, srv.port(), options);
            const long long ms = ms_since(start);
            const std::string line = co_await s.readline();
            out += "blackholed first: " + s.peer_address().to_string() + " after " + std::to_string(ms) + " ms\n";
            if (s.peer_address().host() != second) fail("blackholed first: connected to " + s.peer_address().host());
            if (line != "hi from the server\n") fail("blackholed first: read " + line);
            if (ms < 150 || ms > 1500) fail("blackholed first: took " + std::to_string(ms) + " ms (delay 200)");
            co_await s.close();
        }
        srv.close();
        co_await srv.wait_closed();
    }
    {  // Both answer: the first wins, without waiting for any delay (a long
       // one, so that a busy machine's slow connect is not taken for it).
        auto srv = co_await corio::start_server(answer, first, 0);
        auto other = co_await corio::start_server(answer, second, srv.port());
        corio::connect_options slow = options;
        slow.happy_eyeballs_delay = 2s;
        const auto start = clock_type::now();
        corio::stream s = co_await connect_to(he_name, srv.port(), slow);
        const long long ms = ms_since(start);
        out += "both working: " + s.peer_address().to_string() + " after " + std::to_string(ms) + " ms\n";
        if (s.peer_address().host() != first) fail("both working: connected to " + s.peer_address().host());
        if (ms >= 1000) fail("both working: took " + std::to_string(ms) + " ms (delay 2 s)");
        co_await s.close();
        other.close();
        co_await other.wait_closed();
        srv.close();
        co_await srv.wait_closed();
    }
    {  // The first refuses: the second is tried at once, not after the delay.
        auto srv = co_await corio::start_server(answer, second, 0);
        corio::connect_options slow = options;
        slow.happy_eyeballs_delay = 2s;
        const auto start = clock_type::now();
        corio::stream s = co_await connect_to(he_name, srv.port(), slow);
        const long long ms = ms_since(start);
        out += "first refused: " + s.peer_address().to_string() + " after " + std::to_string(ms) + " ms\n";
        if (s.peer_address().host() != second) fail("first refused: connected to " + s.peer_address().host());
        if (ms >= 1000) fail("first refused: took " + std::to_string(ms) + " ms (delay 2 s)");
        co_await s.close();
        srv.close();
        co_await srv.wait_closed();
    }
    {  // Neither answers: connect_timeout bounds the whole race, nothing leaks.
        blackhole hole(first.c_str(), 0);
        blackhole other(second.c_str(), hole.port());
        if (!hole.ok() || !other.ok()) {
            out += "(both blackholed: could not take the same port on both addresses; skipped)\n";
        } else {
            const int fds_before = corio_net_test::open_fd_count();
            corio::connect_options bounded = options;
            bounded.connect_timeout = 500ms;
            const auto start = clock_type::now();
            int code = 0;
            try {
                corio::stream s = co_await connect_to(he_name, hole.port(), bounded);
            } catch (const std::system_error& e) {
                code = e.code().value();
            }
            const long long ms = ms_since(start);
            out += "neither answers: error " + std::to_string(code) + " after " + std::to_string(ms) + " ms\n";
            if (code != ETIMEDOUT) fail("neither answers: error " + std::to_string(code) + ", not ETIMEDOUT");
            if (ms < 450 || ms > 2000) fail("neither answers: took " + std::to_string(ms) + " ms (timeout 500)");
            if (corio_net_test::open_fd_count() != fds_before) fail("neither answers: descriptors leaked");
        }
    }
    co_return out;
}

TEST_P(server_test, happy_eyeballs_across_two_addresses_of_one_name) {
    // open_connection resolves with the system's configuration only, so the
    // name is given two addresses by an /etc/hosts of the child's own: a
    // private mount namespace with a file bound over /etc/hosts (the real
    // one is not touched). Needs CAP_SYS_ADMIN; skipped without it.
    char hosts[] = "/tmp/corio-hosts-XXXXXX";
    const int hfd = ::mkstemp(hosts);
    ASSERT_GE(hfd, 0);
    write_text(hfd, std::string("::1 ") + he_name + "\n127.0.0.1 " + he_name + "\n");
    ::close(hfd);
    const corio::backend_kind backend = GetParam();
    forked child([&](int report) -> int {
        if (::unshare(CLONE_NEWNS) != 0) {
            write_text(report, std::string("SKIP: unshare(CLONE_NEWNS): ") + std::strerror(errno) + "\n");
            return 0;
        }
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount(hosts, "/etc/hosts", nullptr, MS_BIND, nullptr) != 0) {
            write_text(report, std::string("SKIP: bind-mounting over /etc/hosts: ") + std::strerror(errno) + "\n");
            return 0;
        }
        write_text(report, corio_net_test::run_on(backend, happy_eyeballs_scenarios()));
        return 0;
    });
    const std::string report = child.read_rest(30s);
    const int status = child.wait();
    ::unlink(hosts);
    if (report.rfind("SKIP: ", 0) == 0) GTEST_SKIP() << report;
    EXPECT_EQ(status, 0) << report;
    EXPECT_NE(report.find("order: "), std::string::npos) << report;
    check_report(report);
}

// ------------------------- 8. cancelling a pending accept or connect

struct pending_outcome {
    long long worst_close_ms = 0;
    bool refused_after = false;
    int serve_forever_timeouts = 0;
    int connect_timeouts = 0;
    int connect_cancelled = 0;
    long long worst_connect_ms = 0;
};

corio::task<pending_outcome> cancel_pending(std::uint16_t blackholed4, std::uint16_t blackholed6) {
    pending_outcome o;
    // A server nobody connects to: its accept is pending when it closes.
    for (int i = 0; i < 50; ++i) {
        auto srv = co_await corio::start_server(echo_lines, "127.0.0.1", 0);
        co_await corio::sleep(std::chrono::milliseconds(i % 3));
        const auto start = clock_type::now();
        srv.close();
        co_await srv.wait_closed();
        o.worst_close_ms = std::max(o.worst_close_ms, ms_since(start));
    }
    // serve_forever inside with(server), cancelled by a timeout: the exit
    // closes it, and the port no longer listens.
    std::uint16_t port = 0;
    for (int i = 0; i < 10; ++i) {
        auto srv = co_await corio::start_server(echo_lines, "127.0.0.1", 0);
        port = srv.port();
        try {
            co_await corio::wait_for(corio::with(srv, [](corio::server& s) { return s.serve_forever(); }), 10ms);
        } catch (const corio::timeout_error&) {
            ++o.serve_forever_timeouts;
        }
    }
    try {
        corio::stream s = co_await connect_to("127.0.0.1", port);
    } catch (const std::system_error& e) {
        o.refused_after = e.code().value() == ECONNREFUSED;
    }
    // A connect that stays pending (the listener's backlog is full),
    // cancelled by a timeout or from another task.
    for (int i = 0; i < 20; ++i) {
        const bool six = i % 2 == 1 && blackholed6 != 0;
        const auto start = clock_type::now();
        try {
            co_await corio::wait_for(connect_to(six ? "::1" : "127.0.0.1", six ? blackholed6 : blackholed4),
                                     std::chrono::milliseconds(5 + i));
        } catch (const corio::timeout_error&) {
            ++o.connect_timeouts;
        }
        auto pending = corio::spawn(connect_to(six ? "::1" : "127.0.0.1", six ? blackholed6 : blackholed4));
        co_await corio::sleep(std::chrono::milliseconds(1 + i % 5));
        pending.cancel();
        bool cancelled = false;
        try {
            co_await pending;
        } catch (const corio::cancelled_error&) {
            cancelled = true;
        }
        if (cancelled) ++o.connect_cancelled;
        o.worst_connect_ms = std::max(o.worst_connect_ms, ms_since(start));
    }
    co_return o;
}

TEST_P(server_test, cancelling_a_pending_accept_or_connect_leaks_nothing) {
    blackhole four("127.0.0.1", 0);
    ASSERT_TRUE(four.ok()) << "could not fill a listener's backlog";
    blackhole six("::1", 0);
    const int fds_before = corio_net_test::open_fd_count();
    const pending_outcome o = run(cancel_pending(four.port(), six.ok() ? six.port() : 0));
    EXPECT_EQ(corio_net_test::open_fd_count(), fds_before);
    EXPECT_LT(o.worst_close_ms, 2000);  // at once, give or take a busy machine
    EXPECT_EQ(o.serve_forever_timeouts, 10);
    EXPECT_TRUE(o.refused_after);
    EXPECT_EQ(o.connect_timeouts, 20);
    EXPECT_EQ(o.connect_cancelled, 20);
    EXPECT_LT(o.worst_connect_ms, 1000);
}

}  // namespace
