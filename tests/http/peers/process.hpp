// What the HTTP test peers share: a temp folder that removes itself, a child
// process started with PR_SET_PDEATHSIG (so a crashed test leaves no orphan)
// and stopped by PID (SIGTERM, a bounded waitpid, then SIGKILL), running a
// program to completion within a bound, free loopback ports, waiting
// (bounded) for a port to answer, file helpers and SHA-256 (to compare a
// downloaded body with the file served). No corio: the peers must work before
// and without corio's HTTP client.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace corio_http_peers {

using namespace std::chrono_literals;

/// The body of every peer's /hello.txt.
inline constexpr std::string_view hello_body = "Hello, world!";

[[noreturn]] inline void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

/// A fresh directory under /tmp (mkdtemp), removed with everything in it
/// when destroyed.
class temp_dir {
public:
    explicit temp_dir(const std::string& prefix = "corio-http-peer") {
        std::string pattern = "/tmp/" + prefix + "-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) throw_errno("mkdtemp " + pattern);
        path_ = pattern;
    }
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const noexcept { return path_; }
    std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

private:
    std::string path_;
};

inline void write_file(const std::string& path, std::string_view content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
}

/// The file's bytes, or "" when it does not exist.
inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// /usr/bin/NAME when Debian installed it there, else NAME (looked up in
/// PATH by execvp): the tests want Debian's programs, not a pyenv shim.
inline std::string debian_program(const std::string& name) {
    for (const char* dir : {"/usr/sbin/", "/usr/bin/", "/bin/"}) {
        const std::string path = std::string(dir) + name;
        if (::access(path.c_str(), X_OK) == 0) return path;
    }
    return name;
}

inline bool have_program(const std::string& name) {
    if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0;
    return debian_program(name) != name;
}

/// A child process: stdin from /dev/null, stdout and stderr appended to
/// `log_path` (or /dev/null). It dies with the thread that started it
/// (PR_SET_PDEATHSIG), so start peers from the test's own thread. stop() (and
/// the destructor) sends SIGTERM, waits up to `term_wait`, then SIGKILLs.
class child_process {
public:
    explicit child_process(std::vector<std::string> argv, const std::string& log_path = "/dev/null") {
        if (argv.empty()) throw std::invalid_argument("child_process: empty argv");
        // Everything the child needs is made before fork: after it, in a
        // threaded parent, only async-signal-safe calls are allowed.
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (null_fd < 0 || log_fd < 0) {
            if (null_fd >= 0) ::close(null_fd);
            if (log_fd >= 0) ::close(log_fd);
            throw_errno("open " + log_path);
        }
        const pid_t parent = ::getpid();
        const bool search_path = argv[0].find('/') == std::string::npos;
        pid_ = ::fork();
        if (pid_ < 0) {
            ::close(null_fd);
            ::close(log_fd);
            throw_errno("fork");
        }
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(126);  // the parent died before prctl
            // A test may have blocked or ignored signals (signalfd, SIGPIPE):
            // the peer must get SIGTERM and default SIGPIPE like any daemon.
            sigset_t none;
            sigemptyset(&none);
            ::sigprocmask(SIG_SETMASK, &none, nullptr);
            ::signal(SIGPIPE, SIG_DFL);
            ::signal(SIGTERM, SIG_DFL);
            ::dup2(null_fd, 0);
            ::dup2(log_fd, 1);
            ::dup2(log_fd, 2);
            if (search_path) ::execvp(args[0], args.data());
            else ::execv(args[0], args.data());
            ::_exit(127);
        }
        ::close(null_fd);
        ::close(log_fd);
    }
    ~child_process() { stop(); }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    pid_t pid() const noexcept { return pid_; }

    /// Whether it still runs; reaps it (and keeps its status) if it ended.
    bool running() {
        if (pid_ <= 0) return false;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            status_ = decode(status);
            pid_ = -1;
            return false;
        }
        return true;
    }

    /// Waits up to `limit` for it to exit: its exit code (128+N for signal
    /// N), or -1 if it still runs.
    int wait(std::chrono::milliseconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (running()) {
            if (std::chrono::steady_clock::now() >= deadline) return -1;
            std::this_thread::sleep_for(5ms);
        }
        return status_;
    }

    /// The exit status once it ended (see wait), else -1.
    int exit_status() const noexcept { return status_; }

    void stop(std::chrono::milliseconds term_wait = 5000ms) {
        if (!running()) return;
        ::kill(pid_, SIGTERM);
        if (wait(term_wait) != -1) return;
        ::kill(pid_, SIGKILL);
        // SIGKILL cannot be caught; the bound only guards against a child
        // stuck in the kernel.
        (void)wait(5000ms);
    }

private:
    static int decode(int status) {
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
        return -1;
    }
    pid_t pid_ = -1;
    int status_ = -1;
};

struct program_result {
    int exit_code = -1;  // -1: killed at the time limit
    std::string out;     // stdout
    std::string err;     // stderr
};

/// Runs a program to completion (killed after `limit`), with its stdout
/// and stderr captured through files in a temp folder (no pipes to drain).
inline program_result run_program(std::vector<std::string> argv, std::chrono::milliseconds limit = 30000ms) {
    temp_dir dir("corio-run");
    const std::string out_path = dir / "out", err_path = dir / "err";
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (null_fd < 0 || out_fd < 0 || err_fd < 0) throw_errno("run_program: open");
    const pid_t parent = ::getpid();
    const bool search_path = argv.at(0).find('/') == std::string::npos;
    const pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork");
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(126);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        ::dup2(null_fd, 0);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        if (search_path) ::execvp(args[0], args.data());
        else ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(null_fd);
    ::close(out_fd);
    ::close(err_fd);
    program_result result;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
            result.exit_code = -1;
            break;
        }
        std::this_thread::sleep_for(2ms);
    }
    result.out = read_file(out_path);
    result.err = read_file(err_path);
    return result;
}

/// `count` distinct ports free on 127.0.0.1 now (bound to port 0 together,
/// read back, released). Another process may take one before the peer
/// binds it: the peers retry with fresh ports when their bind fails.
inline std::vector<std::uint16_t> free_ports(std::size_t count) {
    std::vector<int> fds;
    std::vector<std::uint16_t> ports;
    for (std::size_t i = 0; i < count; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) throw_errno("socket");
        fds.push_back(fd);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            for (int f : fds) ::close(f);
            throw_errno("bind 127.0.0.1:0");
        }
        ports.push_back(ntohs(a.sin_port));
    }
    for (int f : fds) ::close(f);
    return ports;
}

/// A blocking TCP connection to 127.0.0.1:port, or -1.
inline int connect_loopback(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

/// Waits until every port accepts a connection, `child` dies, or `limit`
/// passes; true when all answered.
inline bool wait_for_ports(const std::vector<std::uint16_t>& ports, child_process& child,
                           std::chrono::milliseconds limit = 15000ms) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::size_t ready = 0;
    while (ready < ports.size()) {
        if (!child.running() || std::chrono::steady_clock::now() >= deadline) return false;
        const int fd = connect_loopback(ports[ready]);
        if (fd >= 0) {
            ::close(fd);
            ++ready;
            continue;
        }
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

/// SHA-256 (FIPS 180-4), fed in pieces, as lowercase hex: a test compares
/// a downloaded body with the file served without linking libcrypto, and
/// without holding a large download in memory.
class sha256 {
public:
    sha256& update(std::string_view data) {
        const auto* p = reinterpret_cast<const unsigned char*>(data.data());
        std::size_t n = data.size();
        length_ += n;
        if (buffered_ != 0) {
            const std::size_t take = std::min(n, std::size_t(64) - buffered_);
            std::memcpy(buffer_.data() + buffered_, p, take);
            buffered_ += take, p += take, n -= take;
            if (buffered_ < 64) return *this;
            block(buffer_.data());
            buffered_ = 0;
        }
        for (; n >= 64; p += 64, n -= 64) block(p);
        std::memcpy(buffer_.data(), p, n);
        buffered_ = n;
        return *this;
    }

    /// The digest of everything fed so far (the state is kept as is).
    std::string hex() const {
        sha256 copy = *this;
        const std::uint64_t bits = length_ * 8;
        std::array<unsigned char, 72> pad{};
        pad[0] = 0x80;
        const std::size_t zeros = (buffered_ < 56 ? 56 : 120) - buffered_;
        for (int i = 0; i < 8; ++i) pad[zeros + 7 - i] = static_cast<unsigned char>(bits >> (8 * i));
        copy.update(std::string_view(reinterpret_cast<const char*>(pad.data()), zeros + 8));
        std::string out;
        char buf[9];
        for (std::uint32_t v : copy.h_) {
            std::snprintf(buf, sizeof buf, "%08x", v);
            out += buf;
        }
        return out;
    }

private:
    static std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

    void block(const unsigned char* p) {
        static constexpr std::array<std::uint32_t, 64> k = {
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
            0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
            0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
            0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
            0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
            0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
            0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
        std::array<std::uint32_t, 64> w{};
        for (int i = 0; i < 16; ++i)
            w[i] = (std::uint32_t(p[4 * i]) << 24) | (std::uint32_t(p[4 * i + 1]) << 16) |
                   (std::uint32_t(p[4 * i + 2]) << 8) | std::uint32_t(p[4 * i + 3]);
        for (int i = 16; i < 64; ++i) {
            const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
        for (int i = 0; i < 64; ++i) {
            const std::uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
            const std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
        }
        h_[0] += a, h_[1] += b, h_[2] += c, h_[3] += d, h_[4] += e, h_[5] += f, h_[6] += g, h_[7] += h;
    }

    std::array<std::uint32_t, 8> h_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::array<unsigned char, 64> buffer_{};
    std::size_t buffered_ = 0;
    std::uint64_t length_ = 0;
};

inline std::string sha256_hex(std::string_view data) { return sha256().update(data).hex(); }

}  // namespace corio_http_peers
