// Test support for the networking tests: running a task on a chosen backend
// (every test is a TEST_P over epoll and io_uring), counting descriptors,
// and starting real peers (socat, nc, openssl) as child processes that are
// stopped by PID when the test ends.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <corio/errors.hpp>
#include <corio/run.hpp>
#include <corio/runtime/run_options.hpp>
#include <corio/task.hpp>

#include "../support/backends.hpp"

namespace corio_net_test {

using corio_test::io_uring_allowed;
using corio_test::open_fd_count;
using corio_test::run_on;

inline bool have_program(const char* path) { return ::access(path, X_OK) == 0; }

/// A child process with its stdin and stdout on pipes; SIGTERM then
/// SIGKILL by PID when destroyed.
class child_process {
public:
    explicit child_process(std::vector<std::string> argv) {
        int in[2], out[2];
        if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
            throw std::system_error(errno, std::generic_category(), "pipe");
        pid_ = ::fork();
        if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
        if (pid_ == 0) {
            ::dup2(in[0], 0);
            ::dup2(out[1], 1);
            ::dup2(out[1], 2);
            std::vector<char*> args;
            for (auto& a : argv) args.push_back(a.data());
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        ::close(in[0]);
        ::close(out[1]);
        stdin_ = in[1];
        stdout_ = out[0];
    }
    ~child_process() { stop(); }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    /// Writes to its stdin and closes it when `close_after`.
    void feed(std::string_view data, bool close_after = true) {
        while (!data.empty()) {
            const ssize_t n = ::write(stdin_, data.data(), data.size());
            if (n <= 0) break;
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        if (close_after) close_stdin();
    }
    void close_stdin() {
        if (stdin_ >= 0) ::close(stdin_);
        stdin_ = -1;
    }
    /// Everything it prints until it exits (or `limit` passes).
    std::string read_all(std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
        std::string out;
        const auto deadline = std::chrono::steady_clock::now() + limit;
        ::fcntl(stdout_, F_SETFL, O_NONBLOCK);
        char buf[4096];
        while (std::chrono::steady_clock::now() < deadline) {
            const ssize_t n = ::read(stdout_, buf, sizeof buf);
            if (n > 0) out.append(buf, static_cast<std::size_t>(n));
            else if (n == 0) break;
            else std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return out;
    }
    /// What it prints until `needle` appears, it exits, or `limit` passes.
    std::string read_until(std::string_view needle, std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
        std::string out;
        const auto deadline = std::chrono::steady_clock::now() + limit;
        ::fcntl(stdout_, F_SETFL, O_NONBLOCK);
        char buf[4096];
        while (out.find(needle) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
            const ssize_t n = ::read(stdout_, buf, sizeof buf);
            if (n > 0) out.append(buf, static_cast<std::size_t>(n));
            else if (n == 0) break;
            else std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return out;
    }
    /// Waits (bounded) for it to exit; its exit status, or -1.
    int wait(std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return -1;
    }
    void stop() {
        close_stdin();
        if (stdout_ >= 0) ::close(stdout_);
        stdout_ = -1;
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        if (wait(std::chrono::milliseconds(2000)) == -1 && pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        pid_ = -1;
    }
    pid_t pid() const noexcept { return pid_; }

private:
    pid_t pid_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
};

/// Whether something accepts TCP connections on 127.0.0.1:`port` (polls
/// for up to `limit`): for waiting until a child server is up.
bool wait_for_port(std::uint16_t port, std::chrono::milliseconds limit = std::chrono::milliseconds(5000));

/// A free TCP port on 127.0.0.1 (bound and released: good enough for tests).
std::uint16_t free_port();

/// The backend under test. Every networking test is a TEST_P of a fixture
/// derived from this one.
class backend_test : public testing::TestWithParam<corio::backend_kind> {
protected:
    void SetUp() override {
        if (GetParam() == corio::backend_kind::io_uring && !io_uring_allowed())
            GTEST_SKIP() << "io_uring is refused here (io_uring_setup); epoll is tested";
    }
    template <class T>
    T run(corio::task<T> t, bool debug = false) {
        return run_on(GetParam(), std::move(t), debug);
    }
};

#define CORIO_NET_ON_BOTH_BACKENDS(fixture) CORIO_TEST_ON_BOTH_BACKENDS(fixture)

}  // namespace corio_net_test

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace corio_net_test {

inline bool wait_for_port(std::uint16_t port, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
        if (ok) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

inline std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t size = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size);
    ::close(fd);
    return ntohs(a.sin_port);
}

}  // namespace corio_net_test
