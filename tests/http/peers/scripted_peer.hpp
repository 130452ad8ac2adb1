// scripted_peer: a raw-socket HTTP peer for the client's failure tests. It
// listens on 127.0.0.1:0 (plain POSIX sockets, no corio), accepts on its own
// thread and runs each connection's script on a thread of its own: steps
// that send bytes, wait for a request head, a whole request or N bytes,
// sleep, close (FIN, then a bounded drain) or reset (SO_LINGER 0, RST).
// Connection i runs scripts[i], or the last script when there are fewer. It
// records every byte it read, per connection, and how each script ended.
// canned:: has the scripts of issue 14's malformed cases, byte for byte.
// Every wait is bounded (options.io_timeout, and 20 ms slices that watch the
// stop flag); the destructor stops accepting, ends every script and joins
// every thread.
// Also here: refusing_port (connections refused) and unaccepting_peer
// (connect() hangs), for the connector's errors and connect timeouts.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "process.hpp"

namespace corio_http_peers {

struct step {
    enum class kind { send, read_head, read_request, read_bytes, sleep, close, reset };
    kind what = kind::close;
    std::string bytes;                       // send
    std::size_t count = 0;                   // read_bytes
    std::chrono::milliseconds duration{0};   // sleep
};
using script = std::vector<step>;

/// Building blocks of a script.
namespace steps {
inline step send(std::string bytes) { return {step::kind::send, std::move(bytes), 0, {}}; }
/// Reads until the end of a request head (CRLF CRLF).
inline step read_head() { return {step::kind::read_head, {}, 0, {}}; }
/// Reads a head and its body (Content-Length or chunked).
inline step read_request() { return {step::kind::read_request, {}, 0, {}}; }
inline step read_bytes(std::size_t n) { return {step::kind::read_bytes, {}, n, {}}; }
inline step sleep(std::chrono::milliseconds d) { return {step::kind::sleep, {}, 0, d}; }
/// FIN (shutdown SHUT_WR), then reads until the client closes (bounded).
inline step close() { return {step::kind::close, {}, 0, {}}; }
/// SO_LINGER 0 and close: an RST.
inline step reset() { return {step::kind::reset, {}, 0, {}}; }
}  // namespace steps

/// A well-formed response with Content-Length.
inline std::string http_response(int status, std::string_view reason, std::string_view body,
                                 std::string_view extra_headers = "") {
    return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n" + std::string(extra_headers) + "\r\n" + std::string(body);
}

/// A gzip member that inflates to `size` zeros, made by compressing one
/// 1 MiB block of zeros once (a raw deflate stream ended by Z_FULL_FLUSH, so
/// its blocks never refer before their start and the piece can be repeated),
/// then the piece `size / 1 MiB` times, the rest, an empty final block and
/// the trailer (CRC-32 by crc32_combine). 2 GiB costs about 2 MB and no 2 GiB
/// buffer. Cached per size.
inline const std::string& gzip_of_zeros(std::uint64_t size) {
    static std::mutex mutex;
    static std::map<std::uint64_t, std::string> cache;
    std::lock_guard lock(mutex);
    if (auto it = cache.find(size); it != cache.end()) return it->second;
    auto raw_deflate = [](std::size_t n, int flush) {
        z_stream z{};
        if (deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
        std::string zeros(n, '\0'), out(deflateBound(&z, n) + 64, '\0');
        z.next_in = reinterpret_cast<Bytef*>(zeros.data());
        z.avail_in = static_cast<uInt>(n);
        z.next_out = reinterpret_cast<Bytef*>(out.data());
        z.avail_out = static_cast<uInt>(out.size());
        const int rc = deflate(&z, flush);
        out.resize(out.size() - z.avail_out);
        deflateEnd(&z);
        if (rc != Z_OK && rc != Z_STREAM_END) throw std::runtime_error("deflate");
        return out;
    };
    constexpr std::size_t block = 1 << 20;
    const std::string piece = raw_deflate(block, Z_FULL_FLUSH);
    const std::size_t rest = static_cast<std::size_t>(size % block);
    std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);  // gzip, deflate, no name, Unix
    out.reserve(10 + piece.size() * (size / block + 1) + 64);
    for (std::uint64_t i = 0; i < size / block; ++i) out += piece;
    if (rest != 0) out += raw_deflate(rest, Z_FULL_FLUSH);
    out += raw_deflate(0, Z_FINISH);  // the final (empty) block
    const std::string zeros(block, '\0');
    const uLong block_crc = crc32(0, reinterpret_cast<const Bytef*>(zeros.data()), block);
    uLong crc = crc32(0, nullptr, 0);
    for (std::uint64_t i = 0; i < size / block; ++i) crc = crc32_combine(crc, block_crc, block);
    crc = crc32_combine(crc, crc32(0, reinterpret_cast<const Bytef*>(zeros.data()), static_cast<uInt>(rest)),
                        static_cast<z_off_t>(rest));
    for (std::uint64_t v : {std::uint64_t(crc), size & 0xffffffffu})
        for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
    return cache.emplace(size, std::move(out)).first->second;
}

/// Issue 14's malformed cases. Each is a list of per-connection scripts
/// (for scripted_peer's constructor) whose first step reads the request,
/// so the client's bytes are recorded and never reset unread.
namespace canned {
using namespace std::chrono_literals;

/// The bytes the cases below send, so a test can compare them exactly.
namespace bytes {
inline std::string close_mid_body() {
    return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nd\r\nHello, w";
}
inline std::string short_body() { return "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHello, world!"; }
inline std::string malformed_status_line() { return "HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n"; }
inline std::string malformed_header() {
    return "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nThis line has no colon\r\n\r\nHello, world!";
}
inline std::string oversized_header(std::size_t value_size = 9000) {
    return "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nX-Oversized: " + std::string(value_size, 'a') +
           "\r\n\r\nHello, world!";
}
inline std::string bad_chunked() {
    return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nHello\r\n0\r\n\r\n";
}
inline std::string chunk_overrun() {
    return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello, world!\r\n0\r\n\r\n";
}
inline std::string gzip_bomb_head(std::uint64_t inflated) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Encoding: gzip\r\n"
           "Content-Length: " + std::to_string(gzip_of_zeros(inflated).size()) + "\r\n\r\n";
}
inline std::string stall_head() { return "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\n"; }
}  // namespace bytes

/// A chunked body cut inside its first chunk, then FIN.
inline std::vector<script> close_mid_body() {
    return {{steps::read_request(), steps::send(bytes::close_mid_body()), steps::close()}};
}
/// Content-Length: 100 and 13 bytes, then FIN.
inline std::vector<script> short_body() {
    return {{steps::read_request(), steps::send(bytes::short_body()), steps::close()}};
}
/// Content-Length: 100 and 13 bytes, then RST.
inline std::vector<script> reset_mid_body() {
    return {{steps::read_request(), steps::send(bytes::short_body()), steps::sleep(50ms), steps::reset()}};
}
inline std::vector<script> malformed_status_line() {
    return {{steps::read_request(), steps::send(bytes::malformed_status_line()), steps::close()}};
}
inline std::vector<script> malformed_header() {
    return {{steps::read_request(), steps::send(bytes::malformed_header()), steps::close()}};
}
/// One header line of 9000 bytes of value (aiohttp's limit is 8190).
inline std::vector<script> oversized_header(std::size_t value_size = 9000) {
    return {{steps::read_request(), steps::send(bytes::oversized_header(value_size)), steps::close()}};
}
/// A chunk size that is not hex.
inline std::vector<script> bad_chunked() {
    return {{steps::read_request(), steps::send(bytes::bad_chunked()), steps::close()}};
}
/// A chunk longer than its size line says.
inline std::vector<script> chunk_overrun() {
    return {{steps::read_request(), steps::send(bytes::chunk_overrun()), steps::close()}};
}
/// Content-Encoding: gzip whose body inflates to `inflated` zeros.
inline std::vector<script> gzip_bomb(std::uint64_t inflated = std::uint64_t(2) << 30) {
    return {{steps::read_request(), steps::send(bytes::gzip_bomb_head(inflated) + gzip_of_zeros(inflated)),
             steps::close()}};
}
/// The head (Content-Length: 13), then nothing for `stall`, then the body.
inline std::vector<script> stall_after_head(std::chrono::milliseconds stall = 30s) {
    return {{steps::read_request(), steps::send(bytes::stall_head()), steps::sleep(stall),
             steps::send(std::string(hello_body)), steps::close()}};
}
/// Nothing for `stall` after the request, then a whole response.
inline std::vector<script> stall_before_head(std::chrono::milliseconds stall = 30s) {
    return {{steps::read_request(), steps::sleep(stall), steps::send(http_response(200, "OK", "Hello, world!")),
             steps::close()}};
}
/// A kept-alive connection that answers "first", reads the second request
/// and closes (FIN) without answering, as a server whose keep-alive timer
/// fired just then; later connections answer "second" and stay open for
/// more requests ("third", ...).
inline std::vector<script> stale_keepalive() {
    return {{steps::read_request(), steps::send(http_response(200, "OK", "first")), steps::read_request(),
             steps::close()},
            {steps::read_request(), steps::send(http_response(200, "OK", "second")), steps::read_request(),
             steps::send(http_response(200, "OK", "third")), steps::read_request(),
             steps::send(http_response(200, "OK", "fourth"))}};
}
/// As stale_keepalive, but the second request gets an RST.
inline std::vector<script> stale_keepalive_reset() {
    std::vector<script> s = stale_keepalive();
    s[0].back() = steps::reset();
    return s;
}
/// `n` well-formed answers ("response 1", ...) on one kept-alive connection.
inline std::vector<script> keepalive_responses(int n) {
    script s;
    for (int i = 1; i <= n; ++i) {
        s.push_back(steps::read_request());
        s.push_back(steps::send(http_response(200, "OK", "response " + std::to_string(i))));
    }
    return {s};
}
/// 200 with `body` to each request, up to `requests` per kept-alive
/// connection: a well-behaved peer whose received() bytes show exactly
/// what the client sent (chunked uploads, header order, casing).
inline std::vector<script> answer(std::string body = "Hello, world!", int requests = 100) {
    script s;
    for (int i = 0; i < requests; ++i) {
        s.push_back(steps::read_request());
        s.push_back(steps::send(http_response(200, "OK", body)));
    }
    return {s};
}
}  // namespace canned

struct scripted_peer_options {
    std::chrono::milliseconds io_timeout{10000};   // a read or send that makes no progress
    std::chrono::milliseconds drain_timeout{2000};  // close: waiting for the client's FIN
};

class scripted_peer {
public:
    explicit scripted_peer(std::vector<script> scripts, scripted_peer_options options = {})
        : scripts_(std::move(scripts)), options_(options) {
        if (scripts_.empty()) throw std::invalid_argument("scripted_peer: no script");
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (listener_ < 0) throw_errno("socket");
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listener_, 64) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            ::close(listener_);
            throw_errno("scripted_peer: bind/listen 127.0.0.1:0");
        }
        port_ = ntohs(a.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    scripted_peer(const scripted_peer&) = delete;
    scripted_peer& operator=(const scripted_peer&) = delete;
    ~scripted_peer() { stop(); }

    /// Stops accepting (the port then refuses), ends every script at its
    /// next wait and joins every thread.
    void stop() {
        stop_ = true;
        if (acceptor_.joinable()) acceptor_.join();
        if (listener_ >= 0) ::close(listener_);
        listener_ = -1;
        std::vector<std::thread> workers;
        {
            std::lock_guard lock(mutex_);
            workers.swap(workers_);
        }
        for (auto& t : workers) t.join();
    }

    std::uint16_t port() const noexcept { return port_; }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

    std::size_t connection_count() const {
        std::lock_guard lock(mutex_);
        return records_.size();
    }
    /// Every byte read on connection i so far.
    std::string received(std::size_t i) const {
        std::lock_guard lock(mutex_);
        return i < records_.size() ? records_[i].received : std::string();
    }
    std::vector<std::string> received_all() const {
        std::lock_guard lock(mutex_);
        std::vector<std::string> out;
        for (auto& r : records_) out.push_back(r.received);
        return out;
    }
    /// How connection i's script ended: "done", or what stopped it
    /// ("read_request: client closed after 0 bytes", "send: Broken pipe").
    /// Empty while it runs.
    std::string outcome(std::size_t i) const {
        std::lock_guard lock(mutex_);
        return i < records_.size() ? records_[i].outcome : std::string();
    }
    bool wait_for_connections(std::size_t n, std::chrono::milliseconds limit = 5000ms) const {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, limit, [&] { return records_.size() >= n; });
    }
    /// Waits until every connection accepted so far has ended its script.
    bool wait_until_finished(std::chrono::milliseconds limit = 5000ms) const {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, limit, [&] {
            return std::all_of(records_.begin(), records_.end(), [](auto& r) { return !r.outcome.empty(); });
        });
    }

private:
    struct record {
        std::string received;
        std::string outcome;
    };
    struct failure {
        std::string why;
    };

    void accept_loop() {
        while (!stop_) {
            pollfd p{listener_, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd < 0) continue;
            std::lock_guard lock(mutex_);
            const std::size_t index = records_.size();
            records_.emplace_back();
            workers_.emplace_back([this, fd, index] { run(fd, index); });
            changed_.notify_all();
        }
    }

    void run(int fd, std::size_t index) {
        const script& s = scripts_[std::min(index, scripts_.size() - 1)];
        std::string pending;  // read but not yet consumed by a step
        std::string outcome = "done";
        bool open = true;
        try {
            for (const step& st : s) {
                switch (st.what) {
                    case step::kind::send: send_all(fd, st.bytes); break;
                    case step::kind::read_head: read_head(fd, index, pending); break;
                    case step::kind::read_request: read_request(fd, index, pending); break;
                    case step::kind::read_bytes:
                        fill(fd, index, pending, [&] { return pending.size() >= st.count; }, "read_bytes");
                        pending.erase(0, st.count);
                        break;
                    case step::kind::sleep: {
                        const auto until = std::chrono::steady_clock::now() + st.duration;
                        while (!stop_ && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
                        if (stop_) throw failure{"sleep: peer stopped"};
                        break;
                    }
                    case step::kind::close: close_gracefully(fd, index); open = false; break;
                    case step::kind::reset: reset(fd); open = false; break;
                }
                if (!open) break;
            }
        } catch (const failure& f) {
            outcome = f.why;
        } catch (const std::exception& e) {  // a request the peer cannot frame
            outcome = std::string("script: ") + e.what();
        }
        if (open) close_gracefully(fd, index);
        std::lock_guard lock(mutex_);
        records_[index].outcome = outcome;
        changed_.notify_all();
    }

    // Waits for POLLIN/POLLOUT in 20 ms slices; false after io_timeout.
    bool wait_io(int fd, short events, std::chrono::milliseconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!stop_ && std::chrono::steady_clock::now() < deadline) {
            pollfd p{fd, events, 0};
            if (::poll(&p, 1, 20) > 0) return true;
        }
        return false;
    }

    void send_all(int fd, std::string_view data) {
        while (!data.empty()) {
            const ssize_t n = ::send(fd, data.data(), std::min<std::size_t>(data.size(), 1 << 16), MSG_NOSIGNAL);
            if (n > 0) {
                data.remove_prefix(static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                if (!wait_io(fd, POLLOUT, options_.io_timeout))
                    throw failure{stop_ ? "send: peer stopped" : "send: no progress within io_timeout"};
                continue;
            }
            throw failure{std::string("send: ") + std::strerror(errno)};
        }
    }

    // Reads into `pending` (and the record) until `enough()`.
    template <class Enough>
    void fill(int fd, std::size_t index, std::string& pending, Enough enough, const char* what) {
        char buf[65536];
        while (!enough()) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0) {
                pending.append(buf, static_cast<std::size_t>(n));
                std::lock_guard lock(mutex_);
                records_[index].received.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            if (n == 0)
                throw failure{std::string(what) + ": client closed with " + std::to_string(pending.size()) +
                              " bytes pending"};
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!wait_io(fd, POLLIN, options_.io_timeout))
                    throw failure{std::string(what) + (stop_ ? ": peer stopped" : ": nothing within io_timeout")};
                continue;
            }
            throw failure{std::string(what) + ": " + std::strerror(errno)};
        }
    }

    // Consumes a head; returns it.
    std::string read_head(int fd, std::size_t index, std::string& pending) {
        fill(fd, index, pending, [&] { return pending.find("\r\n\r\n") != std::string::npos; }, "read_head");
        const std::size_t end = pending.find("\r\n\r\n") + 4;
        std::string head = pending.substr(0, end);
        pending.erase(0, end);
        return head;
    }

    static std::string lower(std::string s) {
        for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    }

    // A head, then its body by Content-Length or chunked framing (enough
    // of RFC 9112 for the requests a client sends).
    void read_request(int fd, std::size_t index, std::string& pending) {
        const std::string head = lower(read_head(fd, index, pending));
        if (head.find("\r\ntransfer-encoding:") != std::string::npos &&
            head.find("chunked", head.find("\r\ntransfer-encoding:")) != std::string::npos) {
            for (;;) {
                fill(fd, index, pending, [&] { return pending.find("\r\n") != std::string::npos; }, "read_request");
                const std::size_t eol = pending.find("\r\n");
                const std::size_t size = std::stoul(pending.substr(0, eol), nullptr, 16);
                pending.erase(0, eol + 2);
                if (size == 0) {  // trailers until an empty line
                    for (;;) {
                        fill(fd, index, pending, [&] { return pending.find("\r\n") != std::string::npos; },
                             "read_request");
                        const std::size_t e = pending.find("\r\n");
                        pending.erase(0, e + 2);
                        if (e == 0) return;
                    }
                }
                fill(fd, index, pending, [&] { return pending.size() >= size + 2; }, "read_request");
                pending.erase(0, size + 2);
            }
        }
        const std::size_t at = head.find("\r\ncontent-length:");
        if (at == std::string::npos) return;
        const std::size_t length = std::stoul(head.substr(at + 17));
        fill(fd, index, pending, [&] { return pending.size() >= length; }, "read_request");
        pending.erase(0, length);
    }

    void close_gracefully(int fd, std::size_t index) {
        ::shutdown(fd, SHUT_WR);
        // Reading until the client's FIN (bounded) keeps unread bytes from
        // turning the close into an RST that could discard our last bytes.
        char buf[65536];
        const auto deadline = std::chrono::steady_clock::now() + options_.drain_timeout;
        while (!stop_ && std::chrono::steady_clock::now() < deadline) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0) {
                std::lock_guard lock(mutex_);
                records_[index].received.append(buf, static_cast<std::size_t>(n));
            } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                break;
            } else {
                pollfd p{fd, POLLIN, 0};
                ::poll(&p, 1, 20);
            }
        }
        ::close(fd);
    }

    static void reset(int fd) {
        linger l{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(fd);
    }

    std::vector<script> scripts_;
    scripted_peer_options options_;
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread acceptor_;
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::vector<record> records_;
    std::vector<std::thread> workers_;
};

/// A port that refuses every connection (ECONNREFUSED): bound on
/// 127.0.0.1 but never listening, so no other process can take it while
/// the object lives.
class refusing_port {
public:
    refusing_port() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw_errno("socket");
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            ::close(fd_);
            throw_errno("refusing_port: bind 127.0.0.1:0");
        }
        port_ = ntohs(a.sin_port);
    }
    refusing_port(const refusing_port&) = delete;
    refusing_port& operator=(const refusing_port&) = delete;
    ~refusing_port() { ::close(fd_); }
    std::uint16_t port() const noexcept { return port_; }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

/// A listener that never accepts, its accept queue (backlog 0) filled by
/// connections of its own: Linux then drops a client's SYNs, so connect()
/// hangs until the client's connect timeout (sock_connect, connect) fires.
class unaccepting_peer {
public:
    unaccepting_peer() {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listener_ < 0) throw_errno("socket");
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listener_, 0) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            ::close(listener_);
            throw_errno("unaccepting_peer: bind/listen 127.0.0.1:0");
        }
        port_ = ntohs(a.sin_port);
        // Non-blocking: the fillers past the queue's room hang themselves.
        for (int i = 0; i < 3; ++i) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            if (fd < 0) continue;
            (void)::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
            fillers_.push_back(fd);
        }
        std::this_thread::sleep_for(20ms);  // let the handshakes that can complete do so
    }
    unaccepting_peer(const unaccepting_peer&) = delete;
    unaccepting_peer& operator=(const unaccepting_peer&) = delete;
    ~unaccepting_peer() {
        for (int fd : fillers_) ::close(fd);
        ::close(listener_);
    }
    std::uint16_t port() const noexcept { return port_; }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::vector<int> fillers_;
};

}  // namespace corio_http_peers
