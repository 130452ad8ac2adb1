// corio/sync/event.hpp: event, a flag tasks can wait for (asyncio.Event).
//
// `set()` raises the flag and wakes every waiter; `clear()` lowers it;
// `is_set()`; `co_await e.wait()` returns at once while the flag is up, else
// waits for the next set(). A waiter woken by set() returns even if clear()
// comes before it runs (the wake-up is not taken back). Fairness: waiters wake
// in the order they started waiting. Allocation: none. Throws: cancelled_error
// only. Cancel safety: wait() in a cancelled scope throws even when the flag
// is up; a cancelled waiter leaves nothing behind, and since set() wakes
// everyone, a woken waiter cancelled before it runs has nothing to pass on.
// Destroying an event with waiters is undefined.
#pragma once

#include <cstddef>

#include <corio/detail/event_loop.hpp>
#include <corio/detail/fiber.hpp>
#include <corio/errors.hpp>
#include <corio/sync/waiter_queue.hpp>

namespace corio {

class event {
public:
    class wait_awaiter : public detail::fifo_hook<wait_awaiter>, detail::wait_node {
    public:
        explicit wait_awaiter(event& e) noexcept : event_(&e) {}
        bool await_ready() {
            self_ = &detail::waiting_fiber("event::wait");
            if (self_->cancelled()) return true;  // state idle: await_resume throws
            if (event_->set_) {
                state_ = detail::wait_state::ready;
                return true;
            }
            return false;
        }
        void await_suspend(std::coroutine_handle<> h) noexcept {
            self_->resume_point = h;
            state_ = detail::wait_state::waiting;
            event_->waiters_.push_back(this);
            on_cancel = &abort;
            self_->waiting = this;
        }
        void await_resume() const {
            if (state_ == detail::wait_state::ready) return;
            // Granted and cancelled before running: everyone was woken, so
            // there is nothing to hand on; the cancellation wins.
            if (state_ == detail::wait_state::granted && !self_->cancelled()) [[likely]]
                return;
            throw cancelled_error{};
        }

    private:
        friend class event;
        static void abort(detail::wait_node* w) noexcept {
            auto* a = static_cast<wait_awaiter*>(w);
            a->event_->waiters_.erase(a);
            a->state_ = detail::wait_state::aborted;
            detail::tls_loop->schedule(a->self_);
        }
        event* event_;
        detail::fiber* self_ = nullptr;
        detail::wait_state state_ = detail::wait_state::idle;
    };

    event() noexcept = default;
    event(const event&) = delete;
    event& operator=(const event&) = delete;

    /// Raises the flag and wakes every waiter (FIFO). Idempotent.
    void set() noexcept {
        if (set_) return;
        set_ = true;
        while (wait_awaiter* w = waiters_.pop_front()) {
            w->state_ = detail::wait_state::granted;
            detail::tls_loop->wake(w->self_);
        }
    }
    /// Lowers the flag; waiters already woken still return.
    void clear() noexcept { set_ = false; }
    bool is_set() const noexcept { return set_; }

    /// Waits until the flag is up (see the file comment).
    [[nodiscard]] wait_awaiter wait() noexcept { return wait_awaiter(*this); }

    /// Tasks waiting for set().
    std::size_t waiters() const noexcept { return waiters_.size(); }

private:
    detail::waiter_fifo<wait_awaiter> waiters_;
    bool set_ = false;
};

}  // namespace corio
