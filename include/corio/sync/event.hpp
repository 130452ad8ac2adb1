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
    /// `co_await e.wait()`. A grant is the flag having been up.
    class wait_awaiter : public detail::waiter<wait_awaiter> {
    public:
        explicit wait_awaiter(event& e) noexcept : event_(&e) {}
        // Woken by set() and cancelled before running: set() woke everyone,
        // so there is nothing to pass on and the cancellation wins.
        void await_resume() { (void)finish(); }

    private:
        friend class detail::waiter<wait_awaiter>;
        detail::operation_name operation() const noexcept { return {"event", "wait"}; }
        detail::waiter_fifo<wait_awaiter>& fifo() noexcept { return event_->waiters_; }
        detail::wait_state try_now() const noexcept {
            return event_->set_ ? detail::wait_state::ready : detail::wait_state::waiting;
        }
        event* event_;
    };

    event() noexcept = default;
    event(const event&) = delete;
    event& operator=(const event&) = delete;

    /// Raises the flag and wakes every waiter (FIFO). Idempotent.
    void set() noexcept {
        if (set_) return;
        set_ = true;
        waiters_.wake_all(detail::wait_state::granted);
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
