// corio/sync/semaphore.hpp: semaphore and bounded_semaphore (asyncio.Semaphore,
// asyncio.BoundedSemaphore).
//
// A counter of permits: `co_await s.acquire()` takes one (waiting while there
// are none), `s.release()` gives one back; `value()`, `locked()` (value() == 0);
// an async context manager (aenter gives the semaphore) and `scoped()` guard,
// as lock. Fairness: FIFO; release() hands the permit straight to the first
// waiter, so value() stays 0 while anyone waits and a late acquirer never
// overtakes. Allocation: none. Throws: std::invalid_argument for a negative
// initial value; bounded_semaphore::release past the initial value:
// std::logic_error; cancelled_error. Cancel safety: as lock: acquire() in a
// cancelled scope throws without taking a permit; a cancelled waiter takes
// nothing; a woken waiter cancelled before it runs passes its permit on.
#pragma once

#include <cstddef>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string>

#include <corio/detail/event_loop.hpp>
#include <corio/detail/fiber.hpp>
#include <corio/errors.hpp>
#include <corio/sync/waiter_queue.hpp>

namespace corio {

class semaphore;

namespace detail {

/// Every awaiter that takes a permit: acquire, aenter, scoped. A grant is
/// one permit.
class semaphore_acquire_base : public waiter<semaphore_acquire_base> {
public:
    explicit semaphore_acquire_base(semaphore& s, const char* operation) noexcept : sem_(&s), operation_(operation) {}

protected:
    semaphore* sem_;

private:
    friend class waiter<semaphore_acquire_base>;
    operation_name operation() const noexcept { return operation_; }
    inline waiter_fifo<semaphore_acquire_base>& fifo() noexcept;
    inline wait_state try_now() noexcept;
    inline void pass_on();
    const char* operation_;
};

}  // namespace detail

class semaphore {
public:
    struct acquire_awaiter : detail::semaphore_acquire_base {
        explicit acquire_awaiter(semaphore& s) noexcept : semaphore_acquire_base(s, "semaphore::acquire") {}
        void await_resume() { (void)finish(); }
    };
    /// acquire() giving the semaphore itself (as its most derived type S).
    template <class S>
    struct enter_awaiter : detail::semaphore_acquire_base {
        explicit enter_awaiter(S& s) noexcept : semaphore_acquire_base(s, "semaphore::aenter") {}
        S& await_resume() {
            (void)finish();
            return static_cast<S&>(*sem_);
        }
    };
    /// acquire() giving a guard that releases one permit.
    template <class S>
    struct scoped_awaiter : detail::semaphore_acquire_base {
        explicit scoped_awaiter(S& s) noexcept : semaphore_acquire_base(s, "semaphore::scoped") {}
        detail::release_guard<S> await_resume() {
            (void)finish();
            return detail::release_guard<S>(static_cast<S&>(*sem_));
        }
    };
    using guard = detail::release_guard<semaphore>;

    /// std::invalid_argument when `value` is negative.
    explicit semaphore(std::ptrdiff_t value = 1)
        : semaphore(value, std::numeric_limits<std::ptrdiff_t>::max(), "semaphore") {}
    semaphore(const semaphore&) = delete;
    semaphore& operator=(const semaphore&) = delete;

    [[nodiscard]] acquire_awaiter acquire() noexcept { return acquire_awaiter(*this); }
    [[nodiscard]] scoped_awaiter<semaphore> scoped() noexcept { return scoped_awaiter<semaphore>(*this); }
    [[nodiscard]] enter_awaiter<semaphore> aenter() noexcept { return enter_awaiter<semaphore>(*this); }
    [[nodiscard]] detail::release_on_await<semaphore> aexit(std::exception_ptr) noexcept {
        return detail::release_on_await<semaphore>(*this);
    }

    /// Gives a permit back: to the first waiter if there is one, else to the
    /// count. std::logic_error when a bounded_semaphore would exceed its bound.
    void release() {
        if (detail::semaphore_acquire_base* w = waiters_.pop_front()) {
            w->wake(detail::wait_state::granted);  // the permit passes directly
            return;
        }
        // Only a release with nobody waiting can overflow: a waiter implies
        // value() == 0, which is below any bound.
        if (value_ >= bound_) [[unlikely]]
            throw std::logic_error("bounded_semaphore::release: released too many times (value would exceed " +
                                   std::to_string(bound_) + ")");
        ++value_;
    }

    /// Permits available now (0 while anyone waits).
    std::ptrdiff_t value() const noexcept { return value_; }
    /// True when acquire() would wait.
    bool locked() const noexcept { return value_ == 0; }
    /// Tasks queued for a permit.
    std::size_t waiters() const noexcept { return waiters_.size(); }

protected:
    semaphore(std::ptrdiff_t value, std::ptrdiff_t bound, const char* type) : value_(value), bound_(bound) {
        if (value < 0)
            throw std::invalid_argument(std::string(type) + ": initial value must be >= 0, got " + std::to_string(value));
    }

private:
    friend class detail::semaphore_acquire_base;
    detail::waiter_fifo<detail::semaphore_acquire_base> waiters_;
    std::ptrdiff_t value_;
    std::ptrdiff_t bound_;  // max for a plain semaphore
};

/// A semaphore whose value may never exceed its initial value: one release
/// too many is a bug, reported as std::logic_error (asyncio raises ValueError).
class bounded_semaphore : public semaphore {
public:
    using guard = detail::release_guard<bounded_semaphore>;

    /// std::invalid_argument when `value` is negative.
    explicit bounded_semaphore(std::ptrdiff_t value = 1) : semaphore(value, value, "bounded_semaphore") {}

    [[nodiscard]] scoped_awaiter<bounded_semaphore> scoped() noexcept {
        return scoped_awaiter<bounded_semaphore>(*this);
    }
    [[nodiscard]] enter_awaiter<bounded_semaphore> aenter() noexcept {
        return enter_awaiter<bounded_semaphore>(*this);
    }
    [[nodiscard]] detail::release_on_await<bounded_semaphore> aexit(std::exception_ptr) noexcept {
        return detail::release_on_await<bounded_semaphore>(*this);
    }
};

namespace detail {

inline waiter_fifo<semaphore_acquire_base>& semaphore_acquire_base::fifo() noexcept { return sem_->waiters_; }

inline wait_state semaphore_acquire_base::try_now() noexcept {
    // A positive value implies nobody waits (release() grants waiters
    // first), so taking it here is FIFO-fair.
    if (sem_->value_ <= 0) return wait_state::waiting;
    --sem_->value_;
    return wait_state::ready;
}

// Cancelled after the grant: the permit is ours, so giving it back cannot
// overflow a bounded semaphore.
inline void semaphore_acquire_base::pass_on() { sem_->release(); }

}  // namespace detail

}  // namespace corio
