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
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <corio/runtime/run_options.hpp>
#include <corio/detail/backend.hpp>
#include <corio/detail/io_op.hpp>

namespace corio::detail {

namespace {

constexpr int connect_started = 1;  // io_op::flags of a connect: the epoll backend's own mark

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
        default: return -ENOSYS;  // sockets never reach the pool
    }
}

// The non-blocking attempt. -EAGAIN: it would block; -EOPNOTSUPP: this file
// has no non-blocking mode (RWF_NOWAIT on a terminal).
std::int64_t try_now(io_op& op) noexcept {
    switch (op.code) {
        case io_opcode::read: {
            iovec v{op.buffer, op.length};
            return result_of(::preadv2(op.fd, &v, 1, op.offset, RWF_NOWAIT));
        }
        case io_opcode::write: {
            iovec v{op.buffer, op.length};
            return result_of(::pwritev2(op.fd, &v, 1, op.offset, RWF_NOWAIT));
        }
        case io_opcode::openat: {
            if ((op.flags & (O_CREAT | O_TRUNC | O_TMPFILE)) != 0) return -EAGAIN;  // RESOLVE_CACHED refuses them
            open_how how{};
            how.flags = static_cast<std::uint64_t>(op.flags);
            how.resolve = RESOLVE_CACHED;
            const std::int64_t r = result_of(::syscall(SYS_openat2, op.fd, op.path, &how, sizeof how));
            return r == -ENOSYS || r == -EINVAL ? -EAGAIN : r;  // kernels before 5.12
        }
        case io_opcode::close:
            // Closing a read-only file writes nothing back: no wait, even
            // on NFS, so no round trip through the pool.
            return op.quick_close ? result_of(::close(op.fd)) : -EAGAIN;
        case io_opcode::recv: return result_of(::recv(op.fd, op.buffer, op.length, op.flags | MSG_DONTWAIT));
        case io_opcode::send:
            return result_of(::send(op.fd, op.buffer, op.length, op.flags | MSG_DONTWAIT | MSG_NOSIGNAL));
        case io_opcode::recvmsg:
            return result_of(::recvmsg(op.fd, static_cast<msghdr*>(op.buffer), op.flags | MSG_DONTWAIT));
        case io_opcode::sendmsg:
            return result_of(
                ::sendmsg(op.fd, static_cast<msghdr*>(op.buffer), op.flags | MSG_DONTWAIT | MSG_NOSIGNAL));
        case io_opcode::accept:
            return result_of(::accept4(op.fd, static_cast<sockaddr*>(op.buffer),
                                       reinterpret_cast<socklen_t*>(op.address_length),
                                       SOCK_NONBLOCK | SOCK_CLOEXEC));
        case io_opcode::connect: {
            if ((op.flags & connect_started) == 0) {
                const std::int64_t r =
                    result_of(::connect(op.fd, static_cast<const sockaddr*>(op.buffer), op.length));
                if (r == -EINPROGRESS) {
                    op.flags |= connect_started;
                    return -EAGAIN;
                }
                // A Unix socket whose listener's backlog is full says EAGAIN
                // and must call connect again later: the caller retries.
                return r == -EAGAIN ? -EALREADY : r;
            }
            int error = 0;
            socklen_t size = sizeof error;
            if (::getsockopt(op.fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return -errno;
            if (error != 0) return -error;
            sockaddr_storage peer{};
            socklen_t peer_size = sizeof peer;
            // Writable without an error yet not connected: still in progress.
            if (::getpeername(op.fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0)
                return errno == ENOTCONN ? -EAGAIN : -errno;
            return 0;
        }
        case io_opcode::poll: {
            pollfd p{op.fd, static_cast<short>(op.mode), 0};
            const int r = ::poll(&p, 1, 0);
            if (r < 0) return -errno;
            return r == 0 ? -EAGAIN : p.revents;
        }
        default: return -EAGAIN;
    }
}

bool is_socket_op(io_opcode code) noexcept { return code >= io_opcode::recv; }

// Socket ops that wait for the socket to become readable (the others wait
// for writable).
bool waits_readable(const io_op& op) noexcept {
    switch (op.code) {
        case io_opcode::recv:
        case io_opcode::recvmsg:
        case io_opcode::accept: return true;
        case io_opcode::poll: return (op.mode & POLLIN) != 0;
        default: return false;
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
        ev.data.u64 = 0;  // fds are registered as fd + 1
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
            if (events[i].data.u64 == 0) {
                std::uint64_t count;
                while (::read(wake_fd_, &count, sizeof count) > 0) {
                }
                continue;
            }
            const int fd = static_cast<int>(events[i].data.u64 - 1);
            const std::uint32_t ev = events[i].events;
            watch& w = watches_[static_cast<std::size_t>(fd)];
            if (w.edge) {
                if ((ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) w.hung_up = true;
                if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
                    w.maybe_readable = true;
                    if (w.reader != nullptr) {
                        if (w.reader->multishot) accept_all(w);
                        else retry(w.reader, w.reader);
                    }
                }
                if (w.writer != nullptr && (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) retry(w.writer, w.writer);
                continue;
            }
            if (w.reader != nullptr && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) retry(w.reader, w.reader);
            if (w.writer != nullptr && (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) retry(w.writer, w.writer);
            update(fd);
        }
    }

    // Pool jobs count as remote work in the loop; these are ops parked in epoll.
    bool has_pending() const noexcept override { return watching_ != 0; }

    bool submit(io_op* op) override {
        if (is_socket_op(op->code)) return submit_socket(op);
        const std::int64_t r = try_now(*op);
        if (r != -EAGAIN && r != -EOPNOTSUPP) {
            op->result = r;
            return true;
        }
        // A pipe, FIFO, terminal or socket that is not ready: wait for
        // readiness in epoll, where cancellation is a deregistration. Regular
        // files cannot be polled (EPERM): they go to the pool.
        if ((op->code == io_opcode::read || op->code == io_opcode::write) && op->may_poll && park(op)) return false;
        event_loop* loop = tls_loop;
        op->pool_job::run = &run_on_pool;
        op->remote_completion::on_collect = &collected;
        op->loop = loop;
        loop->begin_remote();
        loop->pool().submit(op);
        return false;
    }

    void cancel(io_op* op) noexcept override {
        if (op->fd >= 0 && static_cast<std::size_t>(op->fd) < watches_.size()) {
            watch& w = watches_[static_cast<std::size_t>(op->fd)];
            io_op** slot = w.reader == op ? &w.reader : w.writer == op ? &w.writer : nullptr;
            if (slot != nullptr) {
                *slot = nullptr;
                --watching_;
                if (!w.edge) update(op->fd);
                op->result = -ECANCELED;
                op->more = false;
                op->complete(op);
                return;
            }
        }
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

    void forget(int fd) noexcept override {
        if (fd < 0 || static_cast<std::size_t>(fd) >= watches_.size()) return;
        watch& w = watches_[static_cast<std::size_t>(fd)];
        if (w.registered != 0) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
        w = watch{};
    }

private:
    // What epoll knows of one fd. Pipes and FIFOs are registered
    // level-triggered only while an op waits on them. Sockets are registered
    // once, edge-triggered for both directions, until forget(): no epoll_ctl
    // per wait. An op always tries its system call before it parks, so an
    // edge that came while nobody waited is never needed.
    struct watch {
        io_op* reader = nullptr;
        io_op* writer = nullptr;
        std::uint32_t registered = 0;  // the events epoll has for this fd (0: not added)
        bool edge = false;
        // False after a stream socket's read came back short or EAGAIN, until
        // the next readable edge: a read can then wait without trying.
        bool maybe_readable = true;
        // EOF or an error is pending (sticky): a short read may have taken
        // the data in front of a FIN whose edge was already seen.
        bool hung_up = false;
    };

    bool submit_socket(io_op* op) {
        const auto fd = static_cast<std::size_t>(op->fd);
        if (fd >= watches_.size()) watches_.resize(fd + 64);
        watch* w = &watches_[fd];
        const bool reads = waits_readable(*op);
        if (op->multishot) {
            // Parked until cancelled; an edge delivers every pending
            // connection. MOD re-arms an already registered socket, which
            // queues an event at once when connections are waiting.
            if (w->reader != nullptr || !register_edge(op->fd, true)) {
                op->result = w->reader != nullptr ? -EBUSY : -errno;
                return true;
            }
            w = &watches_[fd];
            w->reader = op;
            ++watching_;
            return false;
        }
        const bool skip_try = reads && op->stream_socket && w->registered != 0 && !w->maybe_readable && !w->hung_up;
        if (!skip_try) {
            const std::int64_t r = try_now(*op);
            if (r != -EAGAIN) {
                if (op->stream_socket && op->code == io_opcode::recv && r > 0 && r < op->length)
                    w->maybe_readable = false;
                op->result = r == -EALREADY ? -EAGAIN : r;
                return true;
            }
            if (reads) w->maybe_readable = false;
        }
        io_op*& slot = reads ? w->reader : w->writer;
        if (slot != nullptr) {  // one reader and one writer per socket
            op->result = -EBUSY;
            return true;
        }
        if (w->registered == 0 && !register_edge(op->fd, false)) {
            op->result = -errno;
            return true;
        }
        slot = op;
        ++watching_;
        return false;
    }

    bool register_edge(int fd, bool rearm) noexcept {
        watch& w = watches_[static_cast<std::size_t>(fd)];
        if (w.registered != 0 && !rearm) return true;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.u64 = static_cast<std::uint64_t>(fd) + 1;
        if (::epoll_ctl(epoll_fd_, w.registered == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) != 0) return false;
        w.registered = ev.events;
        w.edge = true;
        return true;
    }

    // A multishot accept's edge: every connection waiting, one completion
    // each. The callback may cancel the op (a server at its connection
    // limit), which ends the loop.
    void accept_all(watch& w) noexcept {
        io_op* op = w.reader;
        while (w.reader == op) {
            std::int64_t r = try_now(*op);
            if (r == -EAGAIN) return;
            if (r == -ECONNABORTED || r == -EINTR || r == -EPROTO) continue;  // that peer gave up
            if (r < 0) {
                w.reader = nullptr;
                --watching_;
            }
            op->result = r;
            op->more = r >= 0;
            op->complete(op);
        }
    }

    bool park(io_op* op) {
        const auto fd = static_cast<std::size_t>(op->fd);
        if (fd >= watches_.size()) watches_.resize(fd + 64);
        watch& w = watches_[fd];
        io_op*& slot = op->code == io_opcode::read ? w.reader : w.writer;
        if (slot != nullptr) return false;  // one reader and one writer per fd; others take the pool
        slot = op;
        if (!update(op->fd)) {
            slot = nullptr;
            return false;
        }
        ++watching_;
        return true;
    }

    // Makes epoll's interest match the ops parked on `fd`; false when the fd
    // cannot be polled.
    bool update(int fd) noexcept {
        watch& w = watches_[static_cast<std::size_t>(fd)];
        const std::uint32_t want = (w.reader != nullptr ? std::uint32_t{EPOLLIN} : 0u) |
                                   (w.writer != nullptr ? std::uint32_t{EPOLLOUT} : 0u);
        if (want == w.registered) return true;
        epoll_event ev{};
        ev.events = want;
        ev.data.u64 = static_cast<std::uint64_t>(fd) + 1;
        const int r = want == 0 ? ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr)
                      : w.registered == 0 ? ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev)
                                          : ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
        if (r != 0 && want != 0) return false;
        w.registered = want;
        return true;
    }

    // A parked op whose fd became ready: try again; completes it unless the
    // readiness was spurious.
    void retry(io_op* op, io_op*& slot) noexcept {
        std::int64_t r = try_now(*op);
        if (r == -EAGAIN) return;  // spurious: keep waiting
        if (r == -EALREADY) r = -EAGAIN;  // a Unix connect to a full backlog
        if (op->stream_socket && op->code == io_opcode::recv && r > 0 && r < op->length)
            watches_[static_cast<std::size_t>(op->fd)].maybe_readable = false;
        if (r == -EOPNOTSUPP) {
            // No RWF_NOWAIT here (pipes, terminals): the fd is ready, so a
            // plain read returns what is there, and a write of at most
            // PIPE_BUF bytes finds room (a larger one would wait for all).
            iovec v{op->buffer, op->code == io_opcode::read ? op->length : std::min<std::uint32_t>(op->length, PIPE_BUF)};
            r = op->code == io_opcode::read ? result_of(::readv(op->fd, &v, 1)) : result_of(::writev(op->fd, &v, 1));
        }
        slot = nullptr;
        --watching_;
        op->result = r;
        op->complete(op);
    }

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
    std::vector<watch> watches_;  // by fd
    std::size_t watching_ = 0;
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
