// The promise part that async_generator and context_manager share: a
// coroutine started lazily by its first resume, that hands a value to its
// resumer at each co_yield (by address: the value lives in the coroutine's
// frame until it is resumed) and goes back to that resumer by symmetric
// transfer, keeping an exception it ends with for the resumer to see.
// `Derived::resumed_at_yield()` says what happens when it is resumed at a
// co_yield (a generator being closed throws generator_exit there; a
// context_manager rethrows the body's exception).
#pragma once

#include <coroutine>
#include <exception>
#include <memory>

#include <corio/detail/promise_base.hpp>
#include <corio/detail/transfer.hpp>

namespace corio::detail {

template <class Derived, class Value>
struct yielding_promise : promise_base {
    Value* yielded = nullptr;  // the value of the last co_yield, while suspended there
    bool started = false;      // first resumed (lazy_start): debug mode tells a suspended frame from a fresh one

    lazy_start initial_suspend() noexcept { return {&started}; }
    final_awaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { exception = std::current_exception(); }
    void return_void() noexcept {}

    struct yield_awaiter {
        Derived* p;
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<>) const noexcept {
            return transfer(p->continuation);
        }
        void await_resume() const { p->resumed_at_yield(); }
    };
    yield_awaiter yield_value(Value& v) noexcept {
        yielded = std::addressof(v);
        static_cast<Derived*>(this)->yielding();
        return {static_cast<Derived*>(this)};
    }
    // A temporary lives until the end of the co_yield's full expression,
    // which spans the suspension, so its address stays good for the resumer.
    yield_awaiter yield_value(Value&& v) noexcept { return yield_value(v); }
};

}  // namespace corio::detail
