// The io_uring backend (liburing). Every io_op becomes one SQE whose
// user_data is the op; SQEs are batched and submitted when the loop waits, so
// 64 tasks reading at once cost one io_uring_enter. Timers use the ring's own
// nanosecond timeout; cross-thread wake-ups are a read of an eventfd kept
// armed in the ring. Cancellation is IORING_OP_ASYNC_CANCEL; the op's own
// completion still comes and is what resumes its task, so the buffers it
// owns outlive the kernel's use of them. Many containers refuse
// io_uring_setup (Docker's default seccomp profile: EPERM), so make_backend
// probes it at run time and falls back to epoll for `automatic`.
#include <liburing.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <system_error>

#include <corio/runtime/run_options.hpp>
#include <corio/detail/backend.hpp>
#include <corio/detail/io_op.hpp>

namespace corio::detail {

namespace {

// user_data values that are not io_op pointers (those are aligned).
constexpr std::uint64_t wake_tag = 1;
constexpr std::uint64_t cancel_tag = 2;

class io_uring_backend final : public backend {
public:
    io_uring_backend() {
        // Completions are processed only when the loop asks for them
        // (DEFER_TASKRUN, kernels >= 6.1), by the one thread that submits
        // (SINGLE_ISSUER): no interrupts of the running task. Older kernels
        // get COOP_TASKRUN, then plain setup.
        int r = -EINVAL;
        for (const unsigned flags : {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
                                     unsigned{IORING_SETUP_COOP_TASKRUN}, 0u}) {
            io_uring_params params{};
            params.flags = flags;
            r = ::io_uring_queue_init_params(256, &ring_, &params);
            if (r != -EINVAL) break;
        }
        if (r < 0) throw std::system_error(-r, std::generic_category(), "run: io_uring_setup");
        // Every io_uring_enter then skips the ring's file-table lookup.
        (void)::io_uring_register_ring_fd(&ring_);
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
            r = ::io_uring_submit_and_get_events(&ring_);
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
            const std::uint64_t tag = ::io_uring_cqe_get_data64(cqe);
            if (tag == wake_tag) {
                rearm = true;
            } else if (tag != cancel_tag) {
                auto* op = reinterpret_cast<io_op*>(static_cast<std::uintptr_t>(tag));
                op->result = cqe->res;
                op->more = (cqe->flags & IORING_CQE_F_MORE) != 0;
                if (!op->more) --in_flight_;  // a multishot op stays in flight while MORE is set
                op->complete(op);
            }
        }
        ::io_uring_cq_advance(&ring_, seen);
        if (rearm) arm_wake();
    }

    bool has_pending() const noexcept override { return in_flight_ != 0; }

    bool submit(io_op* op) override {
        io_uring_sqe* sqe = next_sqe();
        switch (op->code) {
            case io_opcode::read:
                ::io_uring_prep_read(sqe, op->fd, op->buffer, op->length, static_cast<__u64>(op->offset));
                break;
            case io_opcode::write:
                ::io_uring_prep_write(sqe, op->fd, op->buffer, op->length, static_cast<__u64>(op->offset));
                break;
            case io_opcode::openat:
                ::io_uring_prep_openat(sqe, op->fd, op->path, op->flags, op->mode);
                break;
            case io_opcode::close: ::io_uring_prep_close(sqe, op->fd); break;
            case io_opcode::statx:
                ::io_uring_prep_statx(sqe, op->fd, op->path, op->flags, op->mode, op->statx_buffer);
                break;
            case io_opcode::fsync:
                ::io_uring_prep_fsync(sqe, op->fd, static_cast<unsigned>(op->flags));
                break;
            case io_opcode::renameat:
                ::io_uring_prep_renameat(sqe, op->fd, op->path, op->fd2, op->path2, 0);
                break;
            case io_opcode::unlinkat: ::io_uring_prep_unlinkat(sqe, op->fd, op->path, op->flags); break;
            case io_opcode::mkdirat:
                ::io_uring_prep_mkdirat(sqe, op->fd, op->path, static_cast<mode_t>(op->mode));
                break;
            case io_opcode::recv: ::io_uring_prep_recv(sqe, op->fd, op->buffer, op->length, op->flags); break;
            case io_opcode::send:
                ::io_uring_prep_send(sqe, op->fd, op->buffer, op->length, op->flags | MSG_NOSIGNAL);
                break;
            case io_opcode::recvmsg:
                ::io_uring_prep_recvmsg(sqe, op->fd, static_cast<msghdr*>(op->buffer), static_cast<unsigned>(op->flags));
                break;
            case io_opcode::sendmsg:
                ::io_uring_prep_sendmsg(sqe, op->fd, static_cast<const msghdr*>(op->buffer),
                                        static_cast<unsigned>(op->flags | MSG_NOSIGNAL));
                break;
            case io_opcode::accept: {
                auto* address = static_cast<sockaddr*>(op->buffer);
                auto* length = reinterpret_cast<socklen_t*>(op->address_length);
                if (op->multishot)
                    ::io_uring_prep_multishot_accept(sqe, op->fd, address, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
                else
                    ::io_uring_prep_accept(sqe, op->fd, address, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
                break;
            }
            case io_opcode::connect:
                ::io_uring_prep_connect(sqe, op->fd, static_cast<const sockaddr*>(op->buffer), op->length);
                break;
            case io_opcode::poll: ::io_uring_prep_poll_add(sqe, op->fd, op->mode); break;
        }
        ::io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uintptr_t>(op));
        ++in_flight_;
        return false;
    }

    void cancel(io_op* op) noexcept override {
        io_uring_sqe* sqe = next_sqe();
        ::io_uring_prep_cancel64(sqe, reinterpret_cast<std::uintptr_t>(op), 0);
        ::io_uring_sqe_set_data64(sqe, cancel_tag);
    }

    void forget(int) noexcept override {}  // the ring keeps nothing per descriptor

    void wake() noexcept override {
        const std::uint64_t one = 1;
        [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof one);
    }

private:
    // A full submission queue is flushed to the kernel to make room.
    io_uring_sqe* next_sqe() noexcept {
        io_uring_sqe* sqe = ::io_uring_get_sqe(&ring_);
        while (sqe == nullptr) {
            ::io_uring_submit(&ring_);
            sqe = ::io_uring_get_sqe(&ring_);
        }
        return sqe;
    }

    void arm_wake() {
        io_uring_sqe* sqe = next_sqe();
        ::io_uring_prep_read(sqe, wake_fd_, &wake_buffer_, sizeof wake_buffer_, 0);
        ::io_uring_sqe_set_data64(sqe, wake_tag);
        ::io_uring_submit(&ring_);
    }

    io_uring ring_{};
    int wake_fd_ = -1;
    std::uint64_t wake_buffer_ = 0;  // the eventfd read lands here
    std::size_t in_flight_ = 0;
};

}  // namespace

std::unique_ptr<backend> make_io_uring_backend() { return std::make_unique<io_uring_backend>(); }

}  // namespace corio::detail
