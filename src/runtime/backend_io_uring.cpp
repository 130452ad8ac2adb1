// The io_uring backend (liburing). For now it waits for timers (through the
// ring's own nanosecond timeout) and for cross-thread wake-ups (a read of an
// eventfd kept armed in the ring); file and socket operations join it with
// the I/O issue. Many containers refuse io_uring_setup (Docker's default
// seccomp profile: EPERM), so make_backend probes it at run time and falls
// back to epoll for `automatic`.
#include <liburing.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <system_error>

#include <corio/detail/backend.hpp>

namespace corio::detail {

namespace {

constexpr std::uint64_t wake_tag = 1;

class io_uring_backend final : public backend {
public:
    io_uring_backend() {
        if (const int r = ::io_uring_queue_init(256, &ring_, 0); r < 0)
            throw std::system_error(-r, std::generic_category(), "run: io_uring_setup");
        wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
        if (wake_fd_ < 0) {
            const int e = errno;
            ::io_uring_queue_exit(&ring_);
            throw std::system_error(e, std::generic_category(), "run: eventfd");
        }
        arm_wake();
    }
    ~io_uring_backend() override {
        // Tearing the ring down cancels the pending eventfd read; the buffer
        // it targets is a member, so it is still alive until then.
        ::io_uring_queue_exit(&ring_);
        ::close(wake_fd_);
    }

    backend_kind kind() const noexcept override { return backend_kind::io_uring; }

    void wait(std::chrono::nanoseconds timeout) override {
        io_uring_cqe* cqe = nullptr;
        int r;
        if (timeout.count() < 0) {
            r = ::io_uring_submit_and_wait(&ring_, 1);
        } else if (timeout.count() == 0) {
            r = ::io_uring_submit(&ring_);
        } else {
            __kernel_timespec ts{};
            ts.tv_sec = timeout.count() / 1'000'000'000;
            ts.tv_nsec = timeout.count() % 1'000'000'000;
            r = ::io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
        }
        if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY)
            throw std::system_error(-r, std::generic_category(), "event loop: io_uring_enter");
        unsigned head;
        unsigned seen = 0;
        bool rearm = false;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            ++seen;
            if (::io_uring_cqe_get_data64(cqe) == wake_tag) rearm = true;
        }
        ::io_uring_cq_advance(&ring_, seen);
        if (rearm) arm_wake();
    }

    void wake() noexcept override {
        const std::uint64_t one = 1;
        [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof one);
    }

private:
    void arm_wake() {
        io_uring_sqe* sqe = ::io_uring_get_sqe(&ring_);
        if (sqe == nullptr) {
            ::io_uring_submit(&ring_);
            sqe = ::io_uring_get_sqe(&ring_);
        }
        ::io_uring_prep_read(sqe, wake_fd_, &wake_buffer_, sizeof wake_buffer_, 0);
        ::io_uring_sqe_set_data64(sqe, wake_tag);
        ::io_uring_submit(&ring_);
    }

    io_uring ring_{};
    int wake_fd_ = -1;
    std::uint64_t wake_buffer_ = 0;  // the eventfd read lands here
};

}  // namespace

std::unique_ptr<backend> make_io_uring_backend() { return std::make_unique<io_uring_backend>(); }

}  // namespace corio::detail
