// corio/sync/lock.hpp: lock, a mutual-exclusion lock for tasks (asyncio.Lock).
//
// `co_await l.acquire()` / `l.release()`, `locked()`; an async context manager
// (`co_await corio::with(l, [&](corio::lock&) -> corio::task<> {...})`, aenter
// gives the lock) and `auto guard = co_await l.scoped();` (released when the
// guard dies). Fairness: FIFO. release() hands the lock straight to the first
// waiter (it stays locked() meanwhile), so a late acquirer never overtakes one
// that waits. Allocation: none (the waiter lives in the awaiting frame).
// Throws: std::logic_error from release() of an unlocked lock; cancelled_error.
// Cancel safety: acquire() inside a cancelled scope throws without taking the
// lock, even when it is free; a waiter cancelled while it waits leaves the
// queue having taken nothing; one woken and cancelled before it runs passes
// the lock to the next waiter, then throws. No owner is recorded: any task may
// release (as in asyncio). Destroying a lock with waiters is undefined.
#pragma once

#include <exception>
#include <stdexcept>

#include <corio/detail/event_loop.hpp>
#include <corio/detail/fiber.hpp>
#include <corio/errors.hpp>
#include <corio/sync/waiter_queue.hpp>

namespace corio {

class lock;
class condition;

namespace detail {

/// An entry in a lock's queue. The lock grants it by waking it with
/// `granted` and never looks further, so a condition's re-acquisition can
/// queue a plain node, which cancellation does not reach.
struct lock_waiter : waiter_node<lock_waiter> {};

/// Every awaiter that acquires a lock: acquire, aenter, scoped, and
/// condition::aenter. A grant is the lock itself.
class lock_acquire_base : public waiter<lock_acquire_base, lock_waiter> {
public:
    lock_acquire_base(lock& l, const char* operation) noexcept : lock_(&l), operation_(operation) {}

protected:
    lock* lock_;

private:
    friend class waiter<lock_acquire_base, lock_waiter>;
    operation_name operation() const noexcept { return operation_; }
    inline waiter_fifo<lock_waiter>& fifo() noexcept;
    inline wait_state try_now() noexcept;
    inline void pass_on();
    const char* operation_;
};

}  // namespace detail

class lock {
public:
    /// `co_await l.acquire()`: waits for the lock (see the file comment).
    struct acquire_awaiter : detail::lock_acquire_base {
        explicit acquire_awaiter(lock& l) noexcept : lock_acquire_base(l, "lock::acquire") {}
        void await_resume() { (void)finish(); }
    };
    /// `co_await l.aenter()`: acquire() giving the lock itself.
    struct enter_awaiter : detail::lock_acquire_base {
        explicit enter_awaiter(lock& l) noexcept : lock_acquire_base(l, "lock::aenter") {}
        lock& await_resume() {
            (void)finish();
            return *lock_;
        }
    };
    using guard = detail::release_guard<lock>;
    /// `co_await l.scoped()`: acquire() giving a guard that releases.
    struct scoped_awaiter : detail::lock_acquire_base {
        explicit scoped_awaiter(lock& l) noexcept : lock_acquire_base(l, "lock::scoped") {}
        guard await_resume() {
            (void)finish();
            return guard(*lock_);
        }
    };

    lock() noexcept = default;
    lock(const lock&) = delete;
    lock& operator=(const lock&) = delete;

    [[nodiscard]] acquire_awaiter acquire() noexcept { return acquire_awaiter(*this); }
    [[nodiscard]] scoped_awaiter scoped() noexcept { return scoped_awaiter(*this); }
    [[nodiscard]] enter_awaiter aenter() noexcept { return enter_awaiter(*this); }
    /// Releases when awaited; gives false (never suppresses).
    [[nodiscard]] detail::release_on_await<lock> aexit(std::exception_ptr) noexcept {
        return detail::release_on_await<lock>(*this);
    }

    /// Releases the lock, handing it to the first waiter if there is one.
    /// std::logic_error when the lock is not locked.
    void release() {
        if (!locked_) [[unlikely]]
            throw std::logic_error("lock::release: lock is not acquired");
        if (detail::lock_waiter* w = waiters_.pop_front())
            w->wake(detail::wait_state::granted);  // ownership passes: locked_ stays true
        else
            locked_ = false;
    }

    /// True while some task holds the lock (or it is on its way to a woken waiter).
    bool locked() const noexcept { return locked_; }
    /// Tasks queued for the lock (a statistic, as Trio's).
    std::size_t waiters() const noexcept { return waiters_.size(); }

private:
    friend class detail::lock_acquire_base;
    friend class condition;

    /// Takes the lock for `w` if it is free (scheduling w's fiber), else
    /// queues w. Used by condition to re-acquire without cancellation.
    void enqueue(detail::lock_waiter* w) noexcept {
        if (!locked_) {
            locked_ = true;
            w->state = detail::wait_state::granted;
            detail::tls_loop->schedule(w->self);
        } else {
            w->state = detail::wait_state::waiting;
            waiters_.push_back(w);
        }
    }

    detail::waiter_fifo<detail::lock_waiter> waiters_;
    bool locked_ = false;
};

namespace detail {

inline waiter_fifo<lock_waiter>& lock_acquire_base::fifo() noexcept { return lock_->waiters_; }

inline wait_state lock_acquire_base::try_now() noexcept {
    // Free implies nobody waits: release() hands the lock over without
    // unlocking while there are waiters, so this cannot jump the queue.
    if (lock_->locked_) return wait_state::waiting;
    lock_->locked_ = true;
    return wait_state::ready;
}

// Cancelled after the grant: the lock is ours, so this cannot throw.
inline void lock_acquire_base::pass_on() { lock_->release(); }

}  // namespace detail

}  // namespace corio
