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
#include <corio/detail/exit_shield.hpp>
#include <corio/detail/frame_allocator.hpp>
#include <corio/task.hpp>
#include <corio/context/with.hpp>

namespace corio {

class exit_stack;

namespace detail {

struct stack_exit {
    stack_exit* next = nullptr;
    task<bool> (*run)(stack_exit* self, std::exception_ptr error) = nullptr;  // true: suppress
    void (*destroy)(stack_exit* self) noexcept = nullptr;
};

template <class Self>
void destroy_stack_exit(stack_exit* self) noexcept {
    auto* me = static_cast<Self*>(self);
    me->~Self();
    deallocate_frame(me, sizeof(Self));
}

template <class Self, class... A>
Self* make_stack_exit(A&&... args) {
    return new (allocate_frame(sizeof(Self))) Self(std::forward<A>(args)...);
}

template <class Stored>
struct stack_manager : stack_exit {
    using manager_type = std::remove_reference_t<Stored>;
    using value_type = enter_result_t<manager_type>;
    using holder = std::conditional_t<std::is_void_v<value_type>, char, result_slot<value_type>>;
    explicit stack_manager(Stored&& m) : manager(std::forward<Stored>(m)) {
        run = &run_exit;
        destroy = &destroy_stack_exit<stack_manager>;
    }
    static task<bool> run_exit(stack_exit* self, std::exception_ptr error) {
        co_return co_await call_aexit(static_cast<stack_manager*>(self)->manager, std::move(error));
    }
    Stored manager;
    holder value;
};

template <class F>
struct stack_push_exit : stack_exit {
    explicit stack_push_exit(F fn) : f(std::move(fn)) {
        run = &run_exit;
        destroy = &destroy_stack_exit<stack_push_exit>;
    }
    static task<bool> run_exit(stack_exit* self, std::exception_ptr error) {
        auto& f = static_cast<stack_push_exit*>(self)->f;
        if constexpr (awaitable<std::invoke_result_t<F&, std::exception_ptr>>)
            co_return static_cast<bool>(co_await std::invoke(f, std::move(error)));
        else
            co_return static_cast<bool>(std::invoke(f, std::move(error)));
    }
    F f;
};

template <class F>
struct stack_callback : stack_exit {
    explicit stack_callback(F fn) : f(std::move(fn)) {
        run = &run_exit;
        destroy = &destroy_stack_exit<stack_callback>;
    }
    static task<bool> run_exit(stack_exit* self, std::exception_ptr) {
        auto& f = static_cast<stack_callback*>(self)->f;
        if constexpr (awaitable<std::invoke_result_t<F&>>) co_await std::invoke(f);
        else std::invoke(f);
        co_return false;
    }
    F f;
};

}  // namespace detail

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
    auto enter(M&& manager) {
        using record = detail::stack_manager<M>;
        // The manager moves into the record now, so the result may be awaited later.
        return enter_record<M>(detail::make_stack_exit<record>(std::forward<M>(manager)));
    }

    /// Registers f(std::exception_ptr) -> bool or awaitable of bool (true suppresses).
    template <class F>
    void push_exit(F f) {
        push(detail::make_stack_exit<detail::stack_push_exit<F>>(std::move(f)));
    }

    /// Registers a plain or async callable with no arguments.
    template <class F>
        requires std::invocable<F&>
    void callback(F f) {
        push(detail::make_stack_exit<detail::stack_callback<F>>(std::move(f)));
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
    void push(detail::stack_exit* e) noexcept {
        e->next = top_;
        top_ = e;
    }

    template <class M>
    // add_lvalue_reference_t keeps void as void (a conditional_t would form void&).
    task<std::add_lvalue_reference_t<typename detail::stack_manager<M>::value_type>>
    enter_record(detail::stack_manager<M>* record) {
        using value_type = typename detail::stack_manager<M>::value_type;
        try {
            if constexpr (std::is_void_v<value_type>) co_await record->manager.aenter();
            else record->value.set(co_await record->manager.aenter());
        } catch (...) {
            record->destroy(record);
            throw;
        }
        push(record);
        if constexpr (!std::is_void_v<value_type>) co_return record->value.get();
    }

    // Runs every exit, last first; true when `error` was suppressed.
    task<bool> unwind(std::exception_ptr error) {
        const std::exception_ptr original = error;
        while (detail::stack_exit* e = top_) {
            top_ = e->next;
            {
                detail::exit_shield shield;
                try {
                    if (co_await e->run(e, error)) error = nullptr;
                } catch (...) {
                    error = std::current_exception();
                }
            }
            e->destroy(e);
        }
        if (error && error != original) std::rethrow_exception(error);  // replaced
        co_return !error && original;                                   // suppressed?
    }

    void clear() noexcept {
        while (detail::stack_exit* e = top_) {
            top_ = e->next;
            e->destroy(e);
        }
    }

    detail::stack_exit* top_ = nullptr;
};

}  // namespace corio
