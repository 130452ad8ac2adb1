// net_echo_load: the load client of the echo-server benchmarks (bench/compare_net.py).
// Plain C++ on Linux epoll (and OpenSSL for --tls), one thread, no corio: the
// same client drives every server, so that only the server differs.
//
//   net_echo_load --port N [--host 127.0.0.1] [--connections C] [--size BYTES]
//                 [--seconds S] [--warmup-ms MS] [--tls]
//   net_echo_load --port N --idle N [--hold-seconds S] [--tls]
//
// Ping-pong: each connection sends one message of --size bytes, waits until it
// has received exactly that many bytes back (and checks that they are the
// bytes it sent), records the round trip's latency (steady_clock), and sends
// the next one. The connections are opened first (and the TLS handshakes done),
// then --warmup-ms of round trips that are not counted, then --seconds of
// measured round trips. Prints one line:
//   round_trips=N all_round_trips=M seconds=S rt_per_s=X p50_us=Y p99_us=Z max_us=W
//   min_conn_round_trips=K connections=C size=B tls=0|1 cipher=NAME|none
// round_trips and the latencies are those that completed inside the measured
// window; all_round_trips also counts the warm-up (the driver divides the
// server's CPU time by it, as that CPU time covers the whole run).
//
// --tls: TLS 1.3 with TLS_AES_128_GCM_SHA256 only, no certificate verification.
//
// --idle N: opens N connections, does one round trip on each, prints
// `idle_ready connections=N` (the driver reads the server's memory then),
// keeps them open and silent for --hold-seconds (failing if the server closes
// one), closes them and prints `idle_connections=N held_seconds=S`.
//
// Bounded in time: connecting has a 30 s deadline, the run ends at its
// window's end whatever the server does, and alarm(2) kills the process if
// all else fails. Exits 1 with a message on stderr on any connection error,
// a wrong echo, or no round trip at all.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace {

using clock_type = std::chrono::steady_clock;
using ns = std::chrono::nanoseconds;

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "net_echo_load: %s\n", msg.c_str());
    std::exit(1);
}

[[noreturn]] void die_errno(const std::string& what) { die(what + ": " + std::strerror(errno)); }

std::string ssl_errors() {
    std::string out;
    char buf[256];
    while (unsigned long e = ERR_get_error()) {
        ERR_error_string_n(e, buf, sizeof buf);
        out += out.empty() ? "" : "; ";
        out += buf;
    }
    return out.empty() ? "(no OpenSSL error queued)" : out;
}

struct options {
    std::string host = "127.0.0.1";
    int port = 0;
    int connections = 1;
    std::size_t size = 64;
    double seconds = 5;
    int warmup_ms = 500;
    bool tls = false;
    int idle = 0;  // > 0: the idle-memory mode
    double hold_seconds = 3;
};

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: net_echo_load --port N [--host H] [--connections C] [--size BYTES] [--seconds S]\n"
                 "                     [--warmup-ms MS] [--tls] [--idle N --hold-seconds S]\n");
    std::exit(2);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage();
            return argv[++i];
        };
        if (a == "--host") o.host = value();
        else if (a == "--port") o.port = std::atoi(value());
        else if (a == "--connections") o.connections = std::atoi(value());
        else if (a == "--size") o.size = std::strtoull(value(), nullptr, 10);
        else if (a == "--seconds") o.seconds = std::atof(value());
        else if (a == "--warmup-ms") o.warmup_ms = std::atoi(value());
        else if (a == "--tls") o.tls = true;
        else if (a == "--idle") o.idle = std::atoi(value());
        else if (a == "--hold-seconds") o.hold_seconds = std::atof(value());
        else usage();
    }
    if (o.port <= 0 || o.port > 65535 || o.connections < 1 || o.size < 8 || o.size > (64u << 20) ||
        o.seconds <= 0 || o.warmup_ms < 0 || o.idle < 0 || o.hold_seconds < 0)
        usage();
    if (o.idle > 0) o.connections = o.idle;
    return o;
}

// ready: set up, before its first message; done: after its one round trip (--idle).
enum class state { connecting, handshaking, ready, sending, receiving, done };

struct connection {
    int fd = -1;
    SSL* ssl = nullptr;
    state st = state::connecting;
    bool watched = false;      // added to the epoll set
    std::uint32_t events = 0;  // what epoll watches for now
    std::vector<unsigned char> out, in;
    std::size_t sent = 0, received = 0;
    std::uint64_t seq = 0;
    clock_type::time_point started{};
    std::uint64_t measured = 0;  // round trips inside the measured window
};

class load {
public:
    explicit load(const options& o) : o_(o), conns_(static_cast<std::size_t>(o.connections)) {
        ep_ = epoll_create1(EPOLL_CLOEXEC);
        if (ep_ < 0) die_errno("epoll_create1");
        addr_.sin_family = AF_INET;
        addr_.sin_port = htons(static_cast<std::uint16_t>(o.port));
        if (inet_pton(AF_INET, o.host.c_str(), &addr_.sin_addr) != 1) die("--host: not an IPv4 address: " + o.host);
        if (o.tls) {
            ctx_ = SSL_CTX_new(TLS_client_method());
            if (!ctx_) die("SSL_CTX_new: " + ssl_errors());
            SSL_CTX_set_min_proto_version(ctx_, TLS1_3_VERSION);
            // The one suite offered: AES-128-GCM, the cipher of the `openssl
            // speed -evp aes-128-gcm` figure the TLS throughput is held to.
            if (SSL_CTX_set_ciphersuites(ctx_, "TLS_AES_128_GCM_SHA256") != 1)
                die("SSL_CTX_set_ciphersuites: " + ssl_errors());
            // No certificate verification, on purpose: the servers use a
            // self-signed certificate made for the run, on loopback; the
            // benchmark measures the TLS record and handshake work, not trust.
            SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
        }
        for (auto& c : conns_) {
            c.out.resize(o.size);
            c.in.resize(o.size);
            for (std::size_t i = 0; i < o.size; ++i) c.out[i] = static_cast<unsigned char>('a' + i % 26);
        }
    }

    // Opens every connection (at most kConnectBurst being set up at once, so a
    // small listen backlog does not drop SYNs) and does the TLS handshakes.
    void connect_all() {
        const auto deadline = clock_type::now() + std::chrono::seconds(30);
        std::size_t next = 0, ready = 0, in_setup = 0;
        std::vector<epoll_event> evs(256);
        while (ready < conns_.size()) {
            while (in_setup < kConnectBurst && next < conns_.size()) {
                start_connect(conns_[next++]);
                ++in_setup;
            }
            int timeout = ms_until(deadline);
            if (timeout <= 0)
                die("connecting: " + std::to_string(ready) + " of " + std::to_string(conns_.size()) +
                    " connections ready after 30 s (is the server accepting?)");
            int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), timeout);
            if (n < 0 && errno != EINTR) die_errno("epoll_wait");
            for (int i = 0; i < n; ++i) {
                auto& c = conns_[evs[i].data.u32];
                if (c.st == state::ready)  // watched for nothing: only errors and hang-ups come here
                    die("connection " + std::to_string(index(c)) + ": closed by the server before its first message");
                if (c.st == state::connecting) finish_connect(c, evs[i].events);
                if (c.st == state::handshaking) handshake(c);
                if (c.st == state::ready) {
                    ++ready;
                    --in_setup;
                }
            }
        }
    }

    // The timed run; prints the result line.
    void run() {
        const auto t0 = clock_type::now();
        window_begin_ = t0 + std::chrono::milliseconds(o_.warmup_ms);
        window_end_ = window_begin_ + std::chrono::duration_cast<ns>(std::chrono::duration<double>(o_.seconds));
        latencies_.reserve(static_cast<std::size_t>(std::min(o_.seconds * 400000.0, 1e8)));
        for (auto& c : conns_) start_round_trip(c, t0);
        std::vector<epoll_event> evs(256);
        for (;;) {
            auto now = clock_type::now();
            if (now >= window_end_) break;
            int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), ms_until(window_end_) + 1);
            if (n < 0 && errno != EINTR) die_errno("epoll_wait");
            for (int i = 0; i < n; ++i) step(conns_[evs[i].data.u32], evs[i].events, /*again=*/true);
        }
        report();
    }

    // --idle: one round trip on each connection, then silence.
    void idle() {
        auto deadline = clock_type::now() + std::chrono::seconds(30);
        window_begin_ = window_end_ = clock_type::time_point::max();  // nothing is measured
        for (auto& c : conns_) start_round_trip(c, clock_type::now());
        std::vector<epoll_event> evs(256);
        while (finished_ < conns_.size()) {
            int timeout = ms_until(deadline);
            if (timeout <= 0)
                die("idle: " + std::to_string(finished_) + " of " + std::to_string(conns_.size()) +
                    " connections had their round trip after 30 s");
            int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), timeout);
            if (n < 0 && errno != EINTR) die_errno("epoll_wait");
            for (int i = 0; i < n; ++i) step(conns_[evs[i].data.u32], evs[i].events, /*again=*/false);
        }
        std::printf("idle_ready connections=%zu\n", conns_.size());
        std::fflush(stdout);
        // Held open and silent: any event now is the server closing or talking.
        const auto hold_end =
            clock_type::now() + std::chrono::duration_cast<ns>(std::chrono::duration<double>(o_.hold_seconds));
        for (int timeout; (timeout = ms_until(hold_end)) > 0;) {
            int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), timeout);
            if (n < 0 && errno != EINTR) die_errno("epoll_wait");
            if (n > 0) die("idle: the server closed or wrote to idle connection " + std::to_string(evs[0].data.u32));
        }
        for (auto& c : conns_) close_conn(c);
        std::printf("idle_connections=%zu held_seconds=%g\n", conns_.size(), o_.hold_seconds);
    }

private:
    static constexpr std::size_t kConnectBurst = 64;

    static int ms_until(clock_type::time_point t) {
        auto d = std::chrono::duration_cast<std::chrono::milliseconds>(t - clock_type::now()).count();
        return d <= 0 ? 0 : static_cast<int>(std::min<long long>(d, 1 << 30));
    }

    std::uint32_t index(const connection& c) const { return static_cast<std::uint32_t>(&c - conns_.data()); }

    void watch(connection& c, std::uint32_t events) {
        if (c.watched && c.events == events) return;
        epoll_event ev{};
        ev.events = events;
        ev.data.u32 = index(c);
        if (epoll_ctl(ep_, c.watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c.fd, &ev) < 0) die_errno("epoll_ctl");
        c.watched = true;
        c.events = events;
    }

    // Set up and waiting for its first message: watched for nothing (errors
    // and hang-ups still come), so that TLS session tickets waiting to be read
    // do not wake the loop while the other connections are set up.
    void set_ready(connection& c) {
        c.st = state::ready;
        watch(c, 0);
    }

    void start_connect(connection& c) {
        c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c.fd < 0) die_errno("socket (raise the open-files limit?)");
        int one = 1;
        if (setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) die_errno("TCP_NODELAY");
        if (connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_) < 0 && errno != EINPROGRESS)
            die_errno("connect to " + o_.host + ":" + std::to_string(o_.port));
        c.st = state::connecting;
        watch(c, EPOLLOUT);
    }

    void finish_connect(connection& c, std::uint32_t events) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) die_errno("getsockopt(SO_ERROR)");
        if (err != 0 || (events & EPOLLERR)) {
            errno = err;
            die_errno("connect to " + o_.host + ":" + std::to_string(o_.port));
        }
        if (!ctx_) {
            set_ready(c);
            return;
        }
        c.ssl = SSL_new(ctx_);
        if (!c.ssl || SSL_set_fd(c.ssl, c.fd) != 1) die("SSL_new: " + ssl_errors());
        SSL_set_connect_state(c.ssl);
        c.st = state::handshaking;
    }

    void handshake(connection& c) {
        int r = SSL_do_handshake(c.ssl);
        if (r == 1) {
            set_ready(c);
            return;
        }
        watch(c, want(c, r, "TLS handshake"));
    }

    // The epoll events an SSL call that did not finish waits for; dies on errors.
    std::uint32_t want(connection& c, int r, const char* what) {
        int e = SSL_get_error(c.ssl, r);
        if (e == SSL_ERROR_WANT_READ) return EPOLLIN;
        if (e == SSL_ERROR_WANT_WRITE) return EPOLLOUT;
        if (e == SSL_ERROR_ZERO_RETURN) die(std::string(what) + ": the server closed the connection");
        if (e == SSL_ERROR_SYSCALL) {
            std::string err = errno ? std::strerror(errno) : "unexpected EOF";
            die(std::string(what) + ": " + err + " " + ssl_errors());
        }
        die(std::string(what) + ": " + ssl_errors());
    }

    void start_round_trip(connection& c, clock_type::time_point now) {
        ++c.seq;
        std::memcpy(c.out.data(), &c.seq, sizeof c.seq);  // every message differs
        c.sent = c.received = 0;
        c.started = now;
        c.st = state::sending;
        step(c, EPOLLOUT, /*again=*/true);
    }

    // Advances c as far as it goes without blocking. again: start the next
    // round trip when one completes (the timed run), else stop there (--idle).
    void step(connection& c, std::uint32_t events, bool again) {
        if (c.st == state::done) {
            // Only the idle mode leaves connections here while watching them.
            die("connection " + std::to_string(index(c)) + ": the server closed it or sent unasked bytes");
        }
        if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            die("connection " + std::to_string(index(c)) + ": " + (err ? std::strerror(err) : "hung up"));
        }
        while (c.st == state::sending || c.st == state::receiving) {
            if (c.st == state::sending) {
                if (!send_some(c)) return;
                c.st = state::receiving;
            }
            if (!receive_some(c)) return;
            auto now = clock_type::now();
            if (std::memcmp(c.in.data(), c.out.data(), c.in.size()) != 0)
                die("connection " + std::to_string(index(c)) + ": the echo differs from the message sent");
            ++all_round_trips_;
            if (now >= window_begin_ && now < window_end_) {
                latencies_.push_back(static_cast<std::uint64_t>(std::chrono::duration_cast<ns>(now - c.started).count()));
                ++c.measured;
            }
            if (!again) {
                c.st = state::done;
                ++finished_;
                watch(c, EPOLLIN);
                return;
            }
            if (now >= window_end_) return;  // the run is over; this connection stays quiet
            ++c.seq;
            std::memcpy(c.out.data(), &c.seq, sizeof c.seq);
            c.sent = c.received = 0;
            c.started = now;
            c.st = state::sending;
        }
    }

    // true when the whole message is written.
    bool send_some(connection& c) {
        while (c.sent < c.out.size()) {
            const unsigned char* p = c.out.data() + c.sent;
            const std::size_t len = c.out.size() - c.sent;
            if (c.ssl) {
                int r = SSL_write(c.ssl, p, static_cast<int>(len));  // all or nothing (no partial-write mode)
                if (r <= 0) {
                    watch(c, want(c, r, "SSL_write"));
                    return false;
                }
                c.sent += static_cast<std::size_t>(r);
            } else {
                ssize_t r = write(c.fd, p, len);
                if (r < 0) {
                    if (errno == EINTR) continue;
                    if (errno != EAGAIN) die_errno("write on connection " + std::to_string(index(c)));
                    watch(c, EPOLLOUT);
                    return false;
                }
                c.sent += static_cast<std::size_t>(r);
            }
        }
        return true;
    }

    // true when the whole echo is in. Reads at most what is missing: the
    // server has nothing else to send.
    bool receive_some(connection& c) {
        while (c.received < c.in.size()) {
            unsigned char* p = c.in.data() + c.received;
            const std::size_t len = c.in.size() - c.received;
            if (c.ssl) {
                int r = SSL_read(c.ssl, p, static_cast<int>(std::min<std::size_t>(len, 1 << 30)));
                if (r <= 0) {
                    watch(c, want(c, r, "SSL_read"));
                    return false;
                }
                c.received += static_cast<std::size_t>(r);
            } else {
                ssize_t r = read(c.fd, p, len);
                if (r < 0) {
                    if (errno == EINTR) continue;
                    if (errno != EAGAIN) die_errno("read on connection " + std::to_string(index(c)));
                    watch(c, EPOLLIN);
                    return false;
                }
                if (r == 0)
                    die("connection " + std::to_string(index(c)) + ": the server closed it in the middle of an echo");
                c.received += static_cast<std::size_t>(r);
            }
        }
        return true;
    }

    void close_conn(connection& c) {
        if (c.ssl) {
            SSL_free(c.ssl);  // no close_notify: the benchmark does not time the closing
            c.ssl = nullptr;
        }
        if (c.fd >= 0) close(c.fd);
        c.fd = -1;
    }

    void report() {
        const double secs = std::chrono::duration<double>(window_end_ - window_begin_).count();
        const std::size_t n = latencies_.size();
        if (n == 0) die("no round trip completed in the measured " + std::to_string(secs) + " s: is the server answering?");
        auto pct = [&](double p) {  // nearest rank: the smallest value with at least p of them at or below it
            const double rank = std::ceil(p * static_cast<double>(n));
            const std::size_t k = std::min(n - 1, rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1);
            std::nth_element(latencies_.begin(), latencies_.begin() + static_cast<std::ptrdiff_t>(k), latencies_.end());
            return static_cast<double>(latencies_[k]) / 1e3;
        };
        const double p50 = pct(0.50), p99 = pct(0.99);
        const double max = static_cast<double>(*std::max_element(latencies_.begin(), latencies_.end())) / 1e3;
        std::uint64_t min_conn = UINT64_MAX;
        for (auto& c : conns_) min_conn = std::min(min_conn, c.measured);
        std::printf("round_trips=%zu all_round_trips=%" PRIu64 " seconds=%.3f rt_per_s=%.1f p50_us=%.2f p99_us=%.2f "
                    "max_us=%.1f min_conn_round_trips=%" PRIu64 " connections=%zu size=%zu tls=%d cipher=%s\n",
                    n, all_round_trips_, secs, static_cast<double>(n) / secs, p50, p99, max, min_conn, conns_.size(),
                    o_.size, o_.tls ? 1 : 0, conns_[0].ssl ? SSL_get_cipher_name(conns_[0].ssl) : "none");
        std::fflush(stdout);
        for (auto& c : conns_) close_conn(c);
    }

    const options& o_;
    std::vector<connection> conns_;
    int ep_ = -1;
    sockaddr_in addr_{};
    SSL_CTX* ctx_ = nullptr;
    clock_type::time_point window_begin_{}, window_end_{};
    std::vector<std::uint64_t> latencies_;
    std::uint64_t all_round_trips_ = 0;
    std::size_t finished_ = 0;  // connections done with their one round trip (--idle)
};

// Many connections need many descriptors: the soft limit goes up to the hard one.
void raise_nofile(int wanted) {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < static_cast<rlim_t>(wanted) + 16)
        die("--connections " + std::to_string(wanted) + " needs more open files than the limit " +
            std::to_string(rl.rlim_cur));
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    // Last-resort bound on the whole process, whatever the server does.
    alarm(static_cast<unsigned>(60 + o.warmup_ms / 1000 + o.seconds + o.hold_seconds));
    signal(SIGPIPE, SIG_IGN);  // a closed connection is an error we report, not a silent death
    raise_nofile(o.connections);
    load l(o);
    l.connect_all();
    if (o.idle > 0)
        l.idle();
    else
        l.run();
    return 0;
}
