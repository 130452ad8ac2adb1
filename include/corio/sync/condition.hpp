// corio/sync/condition.hpp: condition, a condition variable for tasks
// (asyncio.Condition).
//
// Owns a lock or shares one passed by reference; an async context manager over
// it (aenter gives the condition). With the lock held: `co_await c.wait()`,
// `co_await c.wait_for(pred)`, `notify(n = 1)`, `notify_all()`.
// Fairness: FIFO; a notified waiter queues for the lock behind tasks already
// waiting for it. Allocation: none for wait(); wait_for() is a task (one frame
// from the frame cache). Throws: std::logic_error when called without the lock
// held; cancelled_error. Cancel safety: wait() returns or throws holding the
// lock again, as asyncio: a cancelled wait re-acquires it (uncancellably)
// before throwing. A waiter cancelled before notify takes no notification;
// one notified and cancelled before it runs passes it to the next waiter.
// Destroying a condition with waiters is undefined.
#pragma once

#include <concepts>
#include <cstddef>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <corio/detail/event_loop.hpp>
#include <corio/detail/fiber.hpp>
#include <corio/errors.hpp>
#include <corio/sync/lock.hpp>
#include <corio/sync/waiter_queue.hpp>
#include <corio/task.hpp>

namespace corio {

class condition {
public:
    /// `co_await c.wait()`.
    ///
    ///   await_ready: lock not held → logic_error; cancelled → throw (lock kept)
    ///   await_suspend: queue on the condition, release the lock  ─ waiting
    ///     notify: leave the condition, queue for the lock        ─ notified
    ///     on_cancel: leave the condition, queue for the lock     ─ aborted
    ///   the lock is granted → the task resumes holding it; notified and
    ///   cancelled meanwhile → notify(1) on its behalf, then throw.
    ///
    /// Once queued for the lock the wait is not cancellable (fiber::waiting
    /// is null): the lock must come back before wait() may throw.
    class wait_awaiter : public detail::waiter<wait_awaiter> {
    public:
        explicit wait_awaiter(condition& c) noexcept : cond_(&c) {}
        // Not the common fast path: misuse is reported before a
        // cancellation, and a wait never returns without a notify.
        bool await_ready() {
            self = &detail::running_fiber(operation());
            cond_->check_locked("condition::wait");
            return self->cancelled();  // idle: throws, never having released
        }
        void await_suspend(std::coroutine_handle<> h) noexcept {
            waiter::await_suspend(h);
            relock_.self = self;
            cond_->lock_->release();  // cannot throw: check_locked saw it locked
        }
        // Here the lock is ours again (unless cancelled on entry: never released).
        void await_resume() { (void)finish(); }

    private:
        friend class condition;
        friend class detail::waiter<wait_awaiter>;
        detail::operation_name operation() const noexcept { return {"condition", "wait"}; }
        detail::waiter_fifo<wait_awaiter>& fifo() noexcept { return cond_->waiters_; }
        void pass_on() noexcept { cond_->notify_unchecked(1); }
        void resume_aborted() noexcept { cond_->lock_->enqueue(&relock_); }  // scheduled once the lock is ours
        condition* cond_;
        detail::lock_waiter relock_;  // our place in the lock's queue, after notify or abort
    };

    /// `co_await c.aenter()`: acquires the lock, gives the condition.
    struct enter_awaiter : detail::lock_acquire_base {
        explicit enter_awaiter(condition& c) noexcept : lock_acquire_base(*c.lock_, "condition::aenter"), cond_(&c) {}
        condition& await_resume() {
            (void)finish();
            return *cond_;
        }

    private:
        condition* cond_;
    };

    /// A condition with its own lock.
    condition() noexcept : lock_(&own_) {}
    /// A condition sharing `l`, which must outlive it.
    explicit condition(corio::lock& l) noexcept : lock_(&l) {}
    condition(const condition&) = delete;
    condition& operator=(const condition&) = delete;

    // ---- the lock
    [[nodiscard]] lock::acquire_awaiter acquire() noexcept { return lock_->acquire(); }
    void release() { lock_->release(); }
    bool locked() const noexcept { return lock_->locked(); }
    [[nodiscard]] enter_awaiter aenter() noexcept { return enter_awaiter(*this); }
    [[nodiscard]] detail::release_on_await<condition> aexit(std::exception_ptr) noexcept {
        return detail::release_on_await<condition>(*this);
    }
    /// The lock this condition uses.
    corio::lock& underlying_lock() noexcept { return *lock_; }

    // ---- waiting
    /// Releases the lock, waits for notify, re-acquires (see wait_awaiter).
    [[nodiscard]] wait_awaiter wait() noexcept { return wait_awaiter(*this); }

    /// Waits until `pred()` is true and gives its last value; `pred` is
    /// stored in the task's frame and called with the lock held. Checks for
    /// cancellation even when `pred()` is already true.
    template <class Predicate>
        requires std::invocable<Predicate&>
    task<std::decay_t<std::invoke_result_t<Predicate&>>> wait_for(Predicate pred) {
        detail::fiber& self = detail::running_fiber("condition::wait_for");
        check_locked("condition::wait_for");
        if (self.cancelled()) throw cancelled_error{};
        auto result = pred();
        while (!result) {
            co_await wait();
            result = pred();
        }
        co_return result;
    }

    // ---- notifying
    /// Wakes up to `n` waiters (FIFO); each re-acquires the lock after the
    /// caller releases it. std::logic_error without the lock held.
    void notify(std::size_t n = 1) {
        check_locked("condition::notify");
        notify_unchecked(n);
    }
    /// Wakes every waiter.
    void notify_all() {
        check_locked("condition::notify_all");
        notify_unchecked(std::numeric_limits<std::size_t>::max());
    }

    /// Tasks waiting for a notification (not those re-acquiring the lock).
    std::size_t waiters() const noexcept { return waiters_.size(); }

private:
    void check_locked(const char* operation) const {
        if (!lock_->locked()) [[unlikely]]
            throw std::logic_error(std::string(operation) + ": lock is not acquired");
    }
    void notify_unchecked(std::size_t n) noexcept {
        for (; n != 0; --n) {
            wait_awaiter* w = waiters_.pop_front();
            if (w == nullptr) break;
            w->state = detail::wait_state::granted;
            // No longer cancellable: from here the wait ends only once the
            // lock is back, and a cancellation then passes the notification.
            w->self->waiting = nullptr;
            lock_->enqueue(&w->relock_);
        }
    }

    corio::lock own_;
    corio::lock* lock_;
    detail::waiter_fifo<wait_awaiter> waiters_;
};

}  // namespace corio
