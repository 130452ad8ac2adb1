// corio/task.hpp: task<T>, the lazy coroutine type (Python's coroutine object).
//
// A task starts when awaited and runs inside the awaiter's fiber, resuming it
// by symmetric transfer, so a chain of 100 000 nested awaits uses no stack.
// Frames come from the per-thread frame cache (no malloc in steady state).
// Awaiting a task is not itself a cancellation point; the awaits inside it
// are. A task is awaited once: awaiting a moved-from task, or one whose result
// was taken, throws std::logic_error. Destroying a task that never ran frees
// its frame; debug mode reports it as Python does ("coroutine 'work' was
// never awaited"), unless it was handed to spawn, gather or another corio
// call that owns it from then on.
#pragma once

#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <corio/detail/promise_base.hpp>

namespace corio {

namespace detail {

template <class T>
class result_slot {
public:
    template <class U>
    void set(U&& v) { value_.emplace(std::forward<U>(v)); }
    T take() { return std::move(*value_); }
    T& get() noexcept { return *value_; }

private:
    std::optional<T> value_;
};

template <class T>
class result_slot<T&> {
public:
    void set(T& v) noexcept { value_ = std::addressof(v); }
    T& take() noexcept { return *value_; }
    T& get() noexcept { return *value_; }

private:
    T* value_ = nullptr;
};

template <>
class result_slot<void> {};

template <class T>
struct task_promise_common : promise_base {
    explicit task_promise_common(coroutine_origin origin) noexcept : promise_base(origin) {}

    // A task is started only by being awaited (or by a fiber), which sets
    // `continuation`, so it needs no `started` flag of its own.
    std::suspend_always initial_suspend() noexcept { return {}; }
    final_awaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { exception = std::current_exception(); }

    // The task has ended, so `continuation` is spent: it marks a taken
    // result (no flag in every frame). A task's destructor still sees a
    // non-null continuation, the mark of one that ran to its end.
    // Inlined into every await: its throws sit in cold functions of their
    // own, else clang keeps the whole check out of line (a call and three
    // pushes on each `co_await` of a task, a quarter of a trivial await).
    [[gnu::always_inline]] void check_take() {
        const std::coroutine_handle<> taken_mark = std::noop_coroutine();
        if (continuation == taken_mark) [[unlikely]]
            throw_taken_twice();
        continuation = taken_mark;
        if (exception) [[unlikely]]
            rethrow(exception);
    }

    [[noreturn, gnu::noinline, gnu::cold]] static void throw_taken_twice() {
        throw std::logic_error("task::co_await: the result was already taken (a task is awaited once)");
    }
    [[noreturn, gnu::noinline, gnu::cold]] static void rethrow(const std::exception_ptr& e) {
        std::rethrow_exception(e);
    }
};

// The constructors' default argument is evaluated in the coroutine itself,
// so `origin` names it (debug reports; see coroutine_origin).
template <class T>
struct task_promise : task_promise_common<T> {
    task_promise(coroutine_origin origin = coroutine_origin::current()) noexcept : task_promise_common<T>(origin) {}
    task<T> get_return_object() noexcept;
    template <class U = T>
        requires std::is_convertible_v<U&&, T>
    void return_value(U&& v) { slot.set(std::forward<U>(v)); }
    T take() {
        this->check_take();
        return slot.take();
    }
    result_slot<T> slot;
};

template <>
struct task_promise<void> : task_promise_common<void> {
    task_promise(coroutine_origin origin = coroutine_origin::current()) noexcept : task_promise_common<void>(origin) {}
    task<void> get_return_object() noexcept;
    void return_void() noexcept {}
    void take() { check_take(); }
};

}  // namespace detail

template <class T = void>
class [[nodiscard]] task {
public:
    using promise_type = detail::task_promise<T>;
    using value_type = T;

    task() noexcept = default;
    explicit task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
    task(task&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    task& operator=(task&& other) noexcept {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() { reset(); }

    /// False for a moved-from task.
    bool valid() const noexcept { return static_cast<bool>(handle_); }

    struct awaiter {
        std::coroutine_handle<promise_type> handle;
        bool await_ready() const noexcept { return !handle || handle.done(); }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
            handle.promise().continuation = awaiting;
            return detail::transfer(handle);
        }
        T await_resume() {
            if (!handle) [[unlikely]]
                throw_empty();
            return handle.promise().take();
        }
        [[noreturn, gnu::noinline, gnu::cold]] static void throw_empty() {
            throw std::logic_error("task::co_await: the task is empty (moved-from)");
        }
    };
    awaiter operator co_await() const& noexcept { return {handle_}; }
    awaiter operator co_await() const&& noexcept { return {handle_}; }

    /// Gives up ownership of the frame (for spawn and the runtime).
    std::coroutine_handle<promise_type> release() noexcept { return std::exchange(handle_, nullptr); }
    std::coroutine_handle<promise_type> handle() const noexcept { return handle_; }

private:
    void reset() noexcept {
        if (handle_) {
            // A task that was awaited to its end (the usual case) has a
            // continuation; one that never ran has none.
            if (handle_.promise().continuation && handle_.done()) [[likely]]
                handle_.destroy();
            else
                detail::destroy_unfinished_task(handle_, handle_.promise());
            handle_ = nullptr;
        }
    }
    std::coroutine_handle<promise_type> handle_;
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
    return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
    return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}

/// Destroys a task that a corio call took and will not run, without the
/// "never awaited" report: the call's own error says what went wrong
/// (asyncio's coro.close() when TaskGroup.create_task refuses a coroutine).
template <class T>
void close_unstarted(task<T>& t) noexcept {
    quiet_drops quiet;
    t = task<T>();
}
}  // namespace detail

}  // namespace corio
