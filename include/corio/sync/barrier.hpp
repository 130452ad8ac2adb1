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
    class wait_awaiter : public detail::fifo_hook<wait_awaiter>, detail::wait_node {
    public:
        explicit wait_awaiter(barrier& b) noexcept : barrier_(&b) {}
        bool await_ready() {
            self_ = &detail::waiting_fiber("barrier::wait");
            if (self_->cancelled()) return true;  // idle: await_resume throws
            index_ = barrier_->waiters_.size();
            if (index_ + 1 == barrier_->parties_) {
                barrier_->trip();
                state_ = detail::wait_state::ready;
                return true;
            }
            return false;
        }
        void await_suspend(std::coroutine_handle<> h) noexcept {
            self_->resume_point = h;
            state_ = detail::wait_state::waiting;
            barrier_->waiters_.push_back(this);
            on_cancel = &abort;
            self_->waiting = this;
        }
        std::size_t await_resume() const {
            if (state_ == detail::wait_state::ready) return index_;
            // Cancelled after the trip: the round is complete for the
            // others; there is nothing to hand on.
            if (state_ == detail::wait_state::granted && !self_->cancelled()) [[likely]]
                return index_;
            throw cancelled_error{};
        }

    private:
        friend class barrier;
        static void abort(detail::wait_node* w) noexcept {
            auto* a = static_cast<wait_awaiter*>(w);
            // Those who arrived after us move up one place.
            for (wait_awaiter* later = a->fifo_next; later != nullptr; later = later->fifo_next) --later->index_;
            a->barrier_->waiters_.erase(a);
            a->state_ = detail::wait_state::aborted;
            detail::tls_loop->schedule(a->self_);
        }
        barrier* barrier_;
        detail::fiber* self_ = nullptr;
        std::size_t index_ = 0;
        detail::wait_state state_ = detail::wait_state::idle;
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
    void trip() noexcept {
        while (wait_awaiter* w = waiters_.pop_front()) {
            w->state_ = detail::wait_state::granted;
            detail::tls_loop->wake(w->self_);
        }
    }

    detail::waiter_fifo<wait_awaiter> waiters_;
    std::size_t parties_;
};

}  // namespace corio
