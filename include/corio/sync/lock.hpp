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

/// One task queued for a lock. The lock grants it by setting `state` to
/// granted and waking `self`; it never looks further into the node, so a
/// condition's re-acquisition can queue a plain node without cancellation.
struct lock_waiter : fifo_hook<lock_waiter> {
    fiber* self = nullptr;
    wait_state state = wait_state::idle;
};

/// await_ready/await_suspend of every awaiter that acquires a lock.
class lock_acquire_base : protected lock_waiter, wait_node {
public:
    lock_acquire_base(lock& l, const char* operation) noexcept : lock_(&l), operation_(operation) {}
    inline bool await_ready();
    inline void await_suspend(std::coroutine_handle<> h) noexcept;

protected:
    /// Ends the wait: returns with the lock held, or throws cancelled_error
    /// having passed on a lock that was granted to us.
    inline void finish();
    lock* lock_;

private:
    static void abort(wait_node* w) noexcept;
    const char* operation_;
};

}  // namespace detail

class lock {
public:
    /// `co_await l.acquire()`: waits for the lock (see the file comment).
    struct acquire_awaiter : detail::lock_acquire_base {
        explicit acquire_awaiter(lock& l) noexcept : lock_acquire_base(l, "lock::acquire") {}
        void await_resume() { finish(); }
    };
    /// `co_await l.aenter()`: acquire() giving the lock itself.
    struct enter_awaiter : detail::lock_acquire_base {
        explicit enter_awaiter(lock& l) noexcept : lock_acquire_base(l, "lock::aenter") {}
        lock& await_resume() {
            finish();
            return *lock_;
        }
    };
    using guard = detail::release_guard<lock>;
    /// `co_await l.scoped()`: acquire() giving a guard that releases.
    struct scoped_awaiter : detail::lock_acquire_base {
        explicit scoped_awaiter(lock& l) noexcept : lock_acquire_base(l, "lock::scoped") {}
        guard await_resume() {
            finish();
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
        if (detail::lock_waiter* w = waiters_.pop_front()) {
            w->state = detail::wait_state::granted;  // ownership passes; locked_ stays true
            detail::tls_loop->wake(w->self);
        } else {
            locked_ = false;
        }
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

inline bool lock_acquire_base::await_ready() {
    self = &waiting_fiber(operation_);
    if (self->cancelled()) return true;  // state idle: await_resume throws
    // Free implies nobody waits: release() hands the lock over without
    // unlocking while there are waiters, so this cannot jump the queue.
    if (!lock_->locked_) {
        lock_->locked_ = true;
        state = wait_state::ready;
        return true;
    }
    return false;
}

inline void lock_acquire_base::await_suspend(std::coroutine_handle<> h) noexcept {
    self->resume_point = h;
    state = wait_state::waiting;
    lock_->waiters_.push_back(this);
    on_cancel = &abort;
    self->waiting = this;
}

inline void lock_acquire_base::finish() {
    if (state == wait_state::ready) return;
    if (state == wait_state::granted) {
        if (!self->cancelled()) [[likely]]
            return;
        lock_->release();  // cancelled after the grant: the next waiter gets the lock
    }
    throw cancelled_error{};
}

inline void lock_acquire_base::abort(wait_node* w) noexcept {
    auto* a = static_cast<lock_acquire_base*>(w);
    a->lock_->waiters_.erase(a);
    a->state = wait_state::aborted;
    tls_loop->schedule(a->self);
}

}  // namespace detail

}  // namespace corio
