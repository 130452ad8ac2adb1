// corio/sync/barrier.hpp: barrier, a meeting point for n tasks (asyncio.Barrier).
//
// `co_await b.wait()` waits until `parties()` tasks are waiting, then every one
// of them returns; it gives the task's arrival index, 0 to parties() - 1 (the
// last arrival gets parties() - 1 and does not suspend). The barrier then
// starts over for the next round. Also an async context manager whose aenter
// gives the index (`async with barrier as position`). Fairness: waiters are
// released in arrival order. Allocation: none. Throws: std::invalid_argument
// for parties == 0; cancelled_error. Cancel safety: wait() in a cancelled
// scope throws without arriving; a waiter cancelled before the barrier trips
// leaves it (the count goes back down and later arrivals' indexes shift down,
// so the indexes of one round stay 0 to n-1); one cancelled after the trip
// throws, the round having completed for the others. Destroying a barrier
// with waiters is undefined. Unlike asyncio there is no abort()/reset().
#pragma once

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>

#include <corio/detail/event_loop.hpp>
#include <corio/detail/fiber.hpp>
#include <corio/errors.hpp>
#include <corio/sync/waiter_queue.hpp>

namespace corio {

class barrier {
public:
    /// `co_await b.wait()`. A grant is the barrier's trip; it gives the
    /// arrival index.
    class wait_awaiter : public detail::waiter<wait_awaiter> {
    public:
        explicit wait_awaiter(barrier& b) noexcept : barrier_(&b) {}
        // Cancelled after the trip: the round is complete for the others;
        // there is nothing to pass on.
        std::size_t await_resume() {
            (void)finish();
            return index_;
        }

    private:
        friend class barrier;
        friend class detail::waiter<wait_awaiter>;
        detail::operation_name operation() const noexcept { return {"barrier", "wait"}; }
        detail::waiter_fifo<wait_awaiter>& fifo() noexcept { return barrier_->waiters_; }
        detail::wait_state try_now() noexcept {
            if (barrier_->waiters_.size() + 1 != barrier_->parties_) return detail::wait_state::waiting;
            index_ = barrier_->parties_ - 1;
            barrier_->trip();
            return detail::wait_state::ready;
        }
        barrier* barrier_;
        std::size_t index_ = 0;  // set when the barrier trips
    };

    /// std::invalid_argument when `parties` is 0.
    explicit barrier(std::size_t parties) : parties_(parties) {
        if (parties == 0) throw std::invalid_argument("barrier: parties must be > 0, got 0");
    }
    barrier(const barrier&) = delete;
    barrier& operator=(const barrier&) = delete;

    /// Arrives and waits for the others; gives the arrival index.
    [[nodiscard]] wait_awaiter wait() noexcept { return wait_awaiter(*this); }
    /// `async with barrier as position`: wait(); aexit does nothing.
    [[nodiscard]] wait_awaiter aenter() noexcept { return wait_awaiter(*this); }
    [[nodiscard]] std::suspend_never aexit(std::exception_ptr) const noexcept { return {}; }

    /// The number of tasks that must arrive to release the barrier.
    std::size_t parties() const noexcept { return parties_; }
    /// Tasks waiting in the current round.
    std::size_t n_waiting() const noexcept { return waiters_.size(); }

private:
    // A waiter's index is its place in the queue when the barrier trips, so
    // one cancelled before the trip (leaving from the middle) moves those
    // behind it up one place, keeping a round's indexes 0 to n-1.
    void trip() noexcept {
        std::size_t index = 0;
        while (wait_awaiter* w = waiters_.pop_front()) {
            w->index_ = index++;
            w->wake(detail::wait_state::granted);
        }
    }

    detail::waiter_fifo<wait_awaiter> waiters_;
    std::size_t parties_;
};

}  // namespace corio
