// The epoll backend, the fallback where io_uring is refused. It waits on an
// eventfd (cross-thread wake-ups) with a nanosecond timeout. Regular files are
// always "ready" for epoll, so file operations cannot wait in it: reads and
// writes first try the kernel's non-blocking fast path (preadv2/pwritev2 with
// RWF_NOWAIT, which succeeds when the data is in the page cache), opens try
// openat2 with RESOLVE_CACHED; what would block runs on the loop's thread
// pool, as aiofiles and libuv do. make_backend, which chooses between the two
// backends, lives here too.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
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
#include <corio/detail/io_op.hpp>

namespace corio::detail {

namespace {

std::int64_t result_of(long r) noexcept { return r < 0 ? -errno : r; }

// The blocking system call behind `op`, run on a pool thread.
std::int64_t run_blocking(io_op& op) noexcept {
    switch (op.code) {
        case io_opcode::read:
            return op.offset < 0 ? result_of(::read(op.fd, op.buffer, op.length))
                                 : result_of(::pread(op.fd, op.buffer, op.length, op.offset));
        case io_opcode::write:
            return op.offset < 0 ? result_of(::write(op.fd, op.buffer, op.length))
                                 : result_of(::pwrite(op.fd, op.buffer, op.length, op.offset));
        case io_opcode::openat: return result_of(::openat(op.fd, op.path, op.flags, op.mode));
        case io_opcode::close: return result_of(::close(op.fd));
        case io_opcode::statx:
            return result_of(::statx(op.fd, op.path, op.flags, op.mode, op.statx_buffer));
        case io_opcode::fsync:
            return result_of((op.flags & 1) != 0 ? ::fdatasync(op.fd) : ::fsync(op.fd));  // 1: IORING_FSYNC_DATASYNC
        case io_opcode::renameat: return result_of(::renameat(op.fd, op.path, op.fd2, op.path2));
        case io_opcode::unlinkat: return result_of(::unlinkat(op.fd, op.path, op.flags));
        case io_opcode::mkdirat: return result_of(::mkdirat(op.fd, op.path, static_cast<mode_t>(op.mode)));
    }
    return -ENOSYS;
}

// The non-blocking attempt; -EAGAIN sends the op to the pool.
std::int64_t try_now(io_op& op) noexcept {
    switch (op.code) {
        case io_opcode::read: {
            iovec v{op.buffer, op.length};
            const std::int64_t r = result_of(::preadv2(op.fd, &v, 1, op.offset, RWF_NOWAIT));
            return r == -EOPNOTSUPP ? -EAGAIN : r;
        }
        case io_opcode::write: {
            iovec v{op.buffer, op.length};
            const std::int64_t r = result_of(::pwritev2(op.fd, &v, 1, op.offset, RWF_NOWAIT));
            return r == -EOPNOTSUPP ? -EAGAIN : r;
        }
        case io_opcode::openat: {
            if ((op.flags & (O_CREAT | O_TRUNC | O_TMPFILE)) != 0) return -EAGAIN;  // RESOLVE_CACHED refuses them
            open_how how{};
            how.flags = static_cast<std::uint64_t>(op.flags);
            how.resolve = RESOLVE_CACHED;
            const std::int64_t r = result_of(::syscall(SYS_openat2, op.fd, op.path, &how, sizeof how));
            return r == -ENOSYS || r == -EINVAL ? -EAGAIN : r;  // kernels before 5.12
        }
        default: return -EAGAIN;
    }
}

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

    bool has_pending() const noexcept override { return false; }  // pool jobs count as remote work

    bool submit(io_op* op) override {
        if (const std::int64_t r = try_now(*op); r != -EAGAIN) {
            op->result = r;
            return true;
        }
        event_loop* loop = tls_loop;
        op->pool_job::run = &run_on_pool;
        op->remote_completion::on_collect = &collected;
        op->loop = loop;
        loop->begin_remote();
        loop->pool().submit(op);
        return false;
    }

    void cancel(io_op* op) noexcept override {
        // A job a worker has started runs to its end (a system call cannot be
        // withdrawn); one still queued completes now with -ECANCELED.
        event_loop* loop = tls_loop;
        if (loop->pool().withdraw(op)) {
            loop->end_remote();
            op->result = -ECANCELED;
            op->complete(op);
        }
    }

    void wake() noexcept override {
        const std::uint64_t one = 1;
        // EAGAIN means the counter is already non-zero: the loop will wake anyway.
        [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof one);
    }

private:
    static void run_on_pool(pool_job* job) noexcept {
        auto* op = static_cast<io_op*>(job);
        op->result = run_blocking(*op);
        op->loop->post_from_thread(op);
    }
    static void collected(remote_completion* c) noexcept {
        auto* op = static_cast<io_op*>(c);
        op->complete(op);
    }

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
