// corio/context/exit_stack.hpp: exit_stack, contextlib.AsyncExitStack.
//
// `co_await stack.enter(cm)` gives what aenter gave; `push_exit(f)` takes
// f(std::exception_ptr) returning bool or an awaitable of bool;
// `callback(f)` takes a plain or async callable with no arguments. Exits run
// last in, first out, each seeing the exception the previous ones left
// (replaced or suppressed), shielded like with's exits. Callables are stored
// by value until the exit they belong to has finished. The stack is itself
// an async context manager (aenter gives exit_stack&); `aclose()` runs the
// exits with no exception; `pop_all()` moves them into a new stack. A stack
// destroyed with exits still registered frees them without running them
// (debug mode reports it). One frame-cache allocation per registered exit.
#pragma once

#include <exception>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

#include <corio/detail/awaitable_traits.hpp>
#include <corio/detail/frame_allocator.hpp>
#include <corio/context/async_context_manager.hpp>
#include <corio/context/exits.hpp>
#include <corio/detail/exit_record.hpp>
#include <corio/task.hpp>

namespace corio {

class exit_stack {
public:
    exit_stack() noexcept = default;
    exit_stack(exit_stack&& other) noexcept : top_(std::exchange(other.top_, nullptr)) {}
    exit_stack& operator=(exit_stack&& other) noexcept {
        if (this != &other) {
            clear();
            top_ = std::exchange(other.top_, nullptr);
        }
        return *this;
    }
    exit_stack(const exit_stack&) = delete;
    exit_stack& operator=(const exit_stack&) = delete;
    ~exit_stack() { clear(); }

    /// Enters `manager` and registers its aexit; gives what aenter gave.
    template <class M>
        requires async_context_manager<std::remove_reference_t<M>>
    auto enter(M&& manager, source_location where = source_location::current()) {
        using record = detail::manager_exit<M>;
        // The manager moves into the record now, so the result may be awaited later.
        record* r = detail::make_exit_record<record>(std::forward<M>(manager));
        r->where = where;
        return enter_record<M>(r);
    }

    /// Registers f(std::exception_ptr) -> bool or awaitable of bool (true suppresses).
    template <class F>
    void push_exit(F f, source_location where = source_location::current()) {
        push(detail::make_exit_record<detail::error_exit<F>>(std::move(f)), where);
    }

    /// Registers a plain or async callable with no arguments.
    template <class F>
        requires std::invocable<F&>
    void callback(F f, source_location where = source_location::current()) {
        push(detail::make_exit_record<detail::callback_exit<F>>(std::move(f)), where);
    }

    /// Moves every registered exit into a new stack, leaving this one empty.
    exit_stack pop_all() noexcept {
        exit_stack moved;
        moved.top_ = std::exchange(top_, nullptr);
        return moved;
    }

    /// Runs the exits with no exception; rethrows what they leave.
    task<void> aclose() {
        co_await unwind(nullptr);
    }

    struct enter_awaiter {
        exit_stack* self;
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        exit_stack& await_resume() const noexcept { return *self; }
    };
    enter_awaiter aenter() noexcept { return {this}; }
    task<bool> aexit(std::exception_ptr error) { return unwind(std::move(error)); }

    bool empty() const noexcept { return top_ == nullptr; }

private:
    void push(detail::exit_record* e, source_location where) noexcept {
        e->where = where;
        push(e);
    }
    void push(detail::exit_record* e) noexcept {
        e->next = top_;
        top_ = e;
    }

    template <class M>
    // add_lvalue_reference_t keeps void as void (a conditional_t would form void&).
    task<std::add_lvalue_reference_t<typename detail::manager_exit<M>::value_type>>
    enter_record(detail::manager_exit<M>* record) {
        try {
            co_await record->enter();
        } catch (...) {
            record->destroy(record);
            throw;
        }
        push(record);
        if constexpr (!std::is_void_v<typename detail::manager_exit<M>::value_type>) co_return record->value.get();
    }

    // Runs every exit, last first; true when `error` was suppressed.
    task<bool> unwind(std::exception_ptr error) {
        const std::exception_ptr original = error;
        error = co_await detail::unwind_exits(top_, error, true);
        if (error && error != original) std::rethrow_exception(error);  // replaced
        co_return !error && original;                                   // suppressed?
    }

    // Dropping registered exits without running them is a bug (debug mode
    // says so, naming where the last one was registered): aclose() or `with`.
    void clear() noexcept {
        if (top_ != nullptr && detail::report_unclosed()) [[unlikely]]
            detail::report_dropped_exits("exit_stack", top_);
        detail::drop_exits(top_);
    }

    detail::exit_record* top_ = nullptr;
};

}  // namespace corio
