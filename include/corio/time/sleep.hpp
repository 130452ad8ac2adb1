// corio/time/sleep.hpp: sleep and sleep_until (asyncio.sleep).
//
// `sleep(0s)` (or any duration <= 0, or a time already passed) yields: every
// other ready task runs once before this one resumes. Otherwise the task
// waits on the loop's timer heap (no allocation: the timer lives in the
// awaiting frame). Clock: std::chrono::steady_clock.
// Cancel safety: a cancelled sleep throws cancelled_error and leaves nothing
// behind; inside an already-cancelled scope it throws without suspending.
#pragma once

#include <chrono>
#include <coroutine>
#include <stdexcept>

#include <corio/detail/event_loop.hpp>
#include <corio/errors.hpp>

namespace corio {

namespace detail {

// 40 bytes: a sleeping task's frame holds this awaiter, so every byte here is
// a byte per task. The wait node comes first so that nothing pads between
// the bases; the deadline lives only in the timer node; and a yield (a
// deadline already passed) is a timer node with no `fire` function rather
// than a flag of its own.
// One node: the timer's function is also the cancellable wait's (timer_node),
// so a sleep is a 24-byte timer and the fiber to wake.
class sleep_awaiter : timer_node {
public:
    explicit sleep_awaiter(clock::time_point when, bool yield_only) noexcept {
        deadline = when;
        set_fire(yield_only ? nullptr : &on_end);
    }

    bool await_ready() {
        self_ = &running_fiber("sleep");
        return self_->cancelled();
    }
    void await_suspend(std::coroutine_handle<> h) {
        self_->resume_point = h;
        if (!has_fire()) {
            tls_loop->schedule(self_);  // already queued: nothing to abort
            return;
        }
        tls_loop->add_timer(this);
        self_->waiting = this;
    }
    void await_resume() const {
        if (self_->cancelled()) throw cancelled_error{};
    }

private:
    // The deadline passed (the loop took the timer out of the heap) or the
    // fiber was cancelled (the timer is still armed).
    static void on_end(wait_node* w) noexcept {
        auto* s = static_cast<sleep_awaiter*>(w);
        tls_loop->remove_timer(s);
        tls_loop->wake(s->self_);
    }

    fiber* self_ = nullptr;
};

static_assert(sizeof(sleep_awaiter) <= 32, "a sleeping task's frame holds a sleep_awaiter: keep it at 32 bytes");

}  // namespace detail

/// Waits until `deadline`; a deadline already passed yields once.
inline detail::sleep_awaiter sleep_until(std::chrono::steady_clock::time_point deadline) {
    return detail::sleep_awaiter(deadline, deadline <= std::chrono::steady_clock::now());
}

/// Waits `d`; `sleep(0s)` lets every other ready task run once.
template <class Rep, class Period>
detail::sleep_awaiter sleep(std::chrono::duration<Rep, Period> d) {
    if (d <= d.zero()) return detail::sleep_awaiter({}, true);
    return detail::sleep_awaiter(
        std::chrono::steady_clock::now() + std::chrono::ceil<std::chrono::steady_clock::duration>(d), false);
}

}  // namespace corio
