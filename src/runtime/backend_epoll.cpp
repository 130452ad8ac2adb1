// The epoll backend: for now it waits on an eventfd (cross-thread wake-ups)
// with a nanosecond timeout; socket and file readiness join it with the I/O
// issue. It is the fallback where io_uring is refused. make_backend, which
// chooses between the two, lives here too.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <system_error>

#include <corio/detail/backend.hpp>

namespace corio::detail {

namespace {

class epoll_backend final : public backend {
public:
    epoll_backend() {
        epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "run: epoll_create1");
        wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wake_fd_ < 0) {
            const int e = errno;
            ::close(epoll_fd_);
            throw std::system_error(e, std::generic_category(), "run: eventfd");
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = nullptr;
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
            const int e = errno;
            ::close(wake_fd_);
            ::close(epoll_fd_);
            throw std::system_error(e, std::generic_category(), "run: epoll_ctl(eventfd)");
        }
    }
    ~epoll_backend() override {
        ::close(wake_fd_);
        ::close(epoll_fd_);
    }

    backend_kind kind() const noexcept override { return backend_kind::epoll; }

    void wait(std::chrono::nanoseconds timeout) override {
        epoll_event events[64];
        int n;
        if (timeout.count() < 0) {
            n = ::epoll_pwait2(epoll_fd_, events, 64, nullptr, nullptr);
        } else {
            timespec ts{};
            ts.tv_sec = static_cast<time_t>(timeout.count() / 1'000'000'000);
            ts.tv_nsec = static_cast<long>(timeout.count() % 1'000'000'000);
            n = ::epoll_pwait2(epoll_fd_, events, 64, &ts, nullptr);
        }
        if (n < 0 && errno == ENOSYS) {  // kernels before 5.11: millisecond timeouts
            const int ms = timeout.count() < 0 ? -1 : static_cast<int>((timeout.count() + 999'999) / 1'000'000);
            n = ::epoll_wait(epoll_fd_, events, 64, ms);
        }
        if (n < 0) {
            if (errno == EINTR) return;
            throw std::system_error(errno, std::generic_category(), "event loop: epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            if (events[i].data.ptr == nullptr) {
                std::uint64_t count;
                while (::read(wake_fd_, &count, sizeof count) > 0) {
                }
            }
        }
    }

    void wake() noexcept override {
        const std::uint64_t one = 1;
        // EAGAIN means the counter is already non-zero: the loop will wake anyway.
        [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof one);
    }

private:
    int epoll_fd_ = -1;
    int wake_fd_ = -1;
};

}  // namespace

std::unique_ptr<backend> make_io_uring_backend();  // backend_io_uring.cpp

std::unique_ptr<backend> make_backend(backend_kind requested) {
    if (requested == backend_kind::automatic) {
        if (const char* env = std::getenv("CORIO_BACKEND"); env != nullptr && *env != '\0') {
            if (std::strcmp(env, "epoll") == 0) requested = backend_kind::epoll;
            else if (std::strcmp(env, "io_uring") == 0) requested = backend_kind::io_uring;
            else
                throw std::invalid_argument(std::string("run: CORIO_BACKEND=") + env +
                                            " is not a backend (epoll or io_uring)");
        }
    }
    if (requested == backend_kind::io_uring) return make_io_uring_backend();  // refused: system_error
    if (requested == backend_kind::automatic) {
        try {
            return make_io_uring_backend();
        } catch (const std::system_error&) {
            // The kernel or a seccomp policy refuses io_uring: epoll it is.
        }
    }
    return std::make_unique<epoll_backend>();
}

const char* to_string_impl(backend_kind kind) noexcept {
    switch (kind) {
        case backend_kind::automatic: return "automatic";
        case backend_kind::io_uring: return "io_uring";
        case backend_kind::epoll: return "epoll";
    }
    return "unknown";
}

}  // namespace corio::detail

namespace corio {
const char* to_string(backend_kind kind) noexcept { return detail::to_string_impl(kind); }
}  // namespace corio
