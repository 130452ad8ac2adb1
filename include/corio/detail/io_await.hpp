// Awaiting one io_op: `co_await io_await{op fields...}` gives the kernel's
// result (>= 0) or -errno.
//
// Cancellation asks the backend to abandon the op but resumes the task only
// when the op's completion arrives, so the kernel never writes into a frame
// that is gone. An op that finished anyway delivers its result (a read's
// bytes, an open's descriptor) and the cancellation surfaces at the next
// await, since it is level-triggered; an op the kernel abandoned throws
// cancelled_error here.
#pragma once

#include <cerrno>
#include <cstdint>

#include <corio/detail/event_loop.hpp>
#include <corio/detail/fiber.hpp>
#include <corio/detail/io_op.hpp>

namespace corio::detail {

// Throws corio::cancelled_error (defined out of line: errors.hpp is public).
[[noreturn]] void throw_cancelled();

class io_await : public io_op, wait_node {
public:
    explicit io_await(const char* operation) noexcept : operation_(operation) {}
    io_await(const io_await&) = delete;
    io_await& operator=(const io_await&) = delete;

    /// False for operations that must run even in a cancelled scope (a
    /// close: the descriptor must not leak); the cancellation then surfaces
    /// at the next await.
    bool cancellable = true;

    bool await_ready() {
        self_ = &running_fiber(operation_);
        return cancellable && self_->cancelled();  // never submitted: await_resume throws
    }
    bool await_suspend(std::coroutine_handle<> h) {
        submitted_ = true;
        complete = &completed;
        if (tls_loop->io().submit(this)) return false;
        self_->resume_point = h;
        if (cancellable) {
            on_cancel = &abandon;
            self_->waiting = this;
        }
        return true;
    }
    std::int64_t await_resume() {
        if (!submitted_) throw_cancelled();
        if (cancel_requested_ && (result == -ECANCELED || result == -EINTR)) throw_cancelled();
        return result;
    }

private:
    static void completed(io_op* op) noexcept {
        auto* me = static_cast<io_await*>(op);
        tls_loop->wake(me->self_);
    }
    static void abandon(wait_node* w) noexcept {
        auto* me = static_cast<io_await*>(w);
        me->cancel_requested_ = true;
        tls_loop->io().cancel(me);  // the task stays suspended until `completed`
    }

    const char* operation_;
    fiber* self_ = nullptr;
    bool submitted_ = false;
    bool cancel_requested_ = false;
};

}  // namespace corio::detail
