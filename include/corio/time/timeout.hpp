// corio/time/timeout.hpp: timeout, timeout_at (asyncio.timeout), move_on_after,
// move_on_at (Trio), wait_for (asyncio.wait_for).
//
//   co_await corio::with(corio::timeout(2s), [&](corio::timeout_scope&) -> corio::task<> { ... });
//
// A timeout is an async context manager holding a cancel scope. The deadline
// is fixed when the object is created; aenter gives the scope itself. When
// the deadline passes, the body is cancelled (every unshielded await in it
// throws cancelled_error); at exit, a timeout turns that cancellation into
// timeout_error and a move_on scope swallows it (for a void body;
// `cancelled_caught()` tells whether it fired). A deadline already passed
// cancels at the first await, without waiting for the loop's timer. Nested
// scopes each convert only their own expiry; when several fired, the
// outermost fired scope catches the cancellation (Trio).
// No allocation: the timer and the scope live in the object.
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>

#include <corio/detail/event_loop.hpp>
#include <corio/errors.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>
#include <corio/context/with.hpp>

namespace corio {

class timeout_scope {
public:
    using time_point = std::chrono::steady_clock::time_point;

    timeout_scope(std::optional<time_point> deadline, bool raise) noexcept : deadline_(deadline), raise_(raise) {
        timer_.owner = this;
    }
    // Movable until entered (with() moves an rvalue manager into its frame).
    timeout_scope(timeout_scope&& other) noexcept : deadline_(other.deadline_), raise_(other.raise_) {
        if (other.entered_) std::terminate();  // an entered scope is pinned: its timer points at it
        timer_.owner = this;
    }
    timeout_scope(const timeout_scope&) = delete;
    timeout_scope& operator=(const timeout_scope&) = delete;
    timeout_scope& operator=(timeout_scope&&) = delete;
    ~timeout_scope() {
        if (entered_ && !exited_) {
            if (tls_loop_ok()) detail::tls_loop->remove_timer(&timer_);
            fiber_->pop_scope(&scope_);
        }
    }

    struct enter_awaiter {
        timeout_scope* self;
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        timeout_scope& await_resume() const {
            self->enter();
            return *self;
        }
    };
    enter_awaiter aenter() noexcept { return {this}; }

    struct exit_awaiter {
        timeout_scope* self;
        std::exception_ptr error;
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        bool await_resume() const { return self->exit(error); }
    };
    exit_awaiter aexit(std::exception_ptr error) noexcept { return {this, std::move(error)}; }

    /// Moves the deadline (nullopt: none). A scope that already fired stays cancelled.
    void reschedule(std::optional<time_point> deadline) {
        deadline_ = deadline;
        if (!entered_ || exited_ || fired_) return;
        detail::tls_loop->remove_timer(&timer_);
        arm();
    }
    std::optional<time_point> when() const noexcept { return deadline_; }
    /// The deadline passed while the scope was active.
    bool expired() const noexcept { return fired_; }
    /// The scope fired and caught the cancellation it caused at exit.
    bool cancelled_caught() const noexcept { return caught_; }

private:
    struct expiry : detail::timer_node {
        timeout_scope* owner = nullptr;
    };

    static bool tls_loop_ok() noexcept { return detail::tls_loop != nullptr; }

    void enter() {
        if (entered_) throw std::logic_error("timeout_scope::aenter: the scope was already entered (a timeout is entered once)");
        fiber_ = &detail::running_fiber("timeout");
        fiber_->push_scope(&scope_);
        entered_ = true;
        arm();
    }

    void arm() {
        if (!deadline_) return;
        if (*deadline_ <= detail::clock::now()) {
            fire_now();
            return;
        }
        timer_.deadline = *deadline_;
        timer_.set_fire(&on_timer);
        detail::tls_loop->add_timer(&timer_);
    }

    void fire_now() noexcept {
        fired_ = true;
        scope_.cancel();
    }

    static void on_timer(detail::wait_node* t) noexcept { static_cast<expiry*>(t)->owner->fire_now(); }

    bool exit(const std::exception_ptr& error) {
        detail::tls_loop->remove_timer(&timer_);
        // Asked of the scopes outside ours, not of the fiber: the exit shield
        // that `with` pushed for this very aexit must not hide them.
        const bool outer_cancelled = detail::cancelled_from(scope_.parent);
        fiber_->pop_scope(&scope_);
        exited_ = true;
        // Ours to catch: we fired, the body ended cancelled, and no scope
        // further out is cancelled too (then the outermost one catches).
        if (fired_ && error && !outer_cancelled && is_cancellation(error)) {
            caught_ = true;
            if (raise_) throw timeout_error();
            return true;
        }
        return false;
    }

    detail::cancel_scope scope_;
    expiry timer_;
    detail::fiber* fiber_ = nullptr;
    std::optional<time_point> deadline_;
    bool raise_;
    bool entered_ = false;
    bool exited_ = false;
    bool fired_ = false;
    bool caught_ = false;
};

/// asyncio.timeout(d): the body is cancelled after `d`, and the with raises timeout_error.
template <class Rep, class Period>
timeout_scope timeout(std::chrono::duration<Rep, Period> d) {
    return timeout_scope(std::chrono::steady_clock::now() + std::chrono::ceil<std::chrono::steady_clock::duration>(d),
                         true);
}
/// asyncio.timeout_at(t); nullopt: no deadline (set one later with reschedule).
inline timeout_scope timeout_at(std::optional<std::chrono::steady_clock::time_point> deadline) {
    return timeout_scope(deadline, true);
}
/// trio.move_on_after(d): the body is cancelled after `d` and the block just ends.
template <class Rep, class Period>
timeout_scope move_on_after(std::chrono::duration<Rep, Period> d) {
    return timeout_scope(std::chrono::steady_clock::now() + std::chrono::ceil<std::chrono::steady_clock::duration>(d),
                         false);
}
inline timeout_scope move_on_at(std::optional<std::chrono::steady_clock::time_point> deadline) {
    return timeout_scope(deadline, false);
}

/// asyncio.wait_for: on expiry the task (or any awaitable) is cancelled and
/// awaited, then timeout_error is thrown.
template <detail::awaitable A, class Rep, class Period>
task<detail::await_result_t<A>> wait_for(A work, std::chrono::duration<Rep, Period> d) {
    using T = detail::await_result_t<A>;
    co_return co_await with(timeout(d), [&work](timeout_scope&) -> task<T> { co_return co_await std::move(work); });
}

}  // namespace corio
