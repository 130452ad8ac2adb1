// corio/tasks/spawn.hpp: spawn and join_handle (asyncio.create_task and Task).
//
// `spawn(t)` schedules `t` as a new fiber; it first runs when the spawner next
// suspends. `co_await handle` gives its value or rethrows its exception; a
// joiner that is cancelled while it waits cancels the task too and, as in
// asyncio, waits for it to end before throwing cancelled_error. Dropping the
// handle detaches the task: the loop owns it until it ends, and when `run`'s
// main task ends it is cancelled and awaited. An exception of a detached
// task nobody awaited is reported on stderr.
//
// `spawn(callable)` takes a callable returning a task, stores it by value in
// the new task's frame and calls it there, so a capturing lambda cannot
// dangle (see docs/guide.md, "lifetimes").
#pragma once

#include <concepts>
#include <functional>
#include <corio/detail/source_location.hpp>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <corio/detail/child_set.hpp>
#include <corio/detail/event_loop.hpp>
#include <corio/errors.hpp>
#include <corio/task.hpp>

namespace corio {

template <class T = void>
class join_handle {
public:
    join_handle() noexcept = default;
    explicit join_handle(detail::fiber* f) noexcept : fiber_(f) {}
    join_handle(join_handle&& other) noexcept : fiber_(std::exchange(other.fiber_, nullptr)) {}
    join_handle& operator=(join_handle&& other) noexcept {
        if (this != &other) {
            reset();
            fiber_ = std::exchange(other.fiber_, nullptr);
        }
        return *this;
    }
    join_handle(const join_handle&) = delete;
    join_handle& operator=(const join_handle&) = delete;
    ~join_handle() { reset(); }

    /// True once the task has ended (value, exception or cancellation).
    bool done() const noexcept { return fiber_ != nullptr && fiber_->done(); }
    bool valid() const noexcept { return fiber_ != nullptr; }

    /// Cancels the task's whole scope: every later unshielded await in it throws.
    void cancel() noexcept {
        if (fiber_ != nullptr && !fiber_->done()) fiber_->root().cancel();
    }

    /// Detaches the task explicitly (the same as dropping the handle).
    void detach() noexcept { reset(); }

    // Waits as the target's listener (fiber::on_done), passing the news on
    // to the listener it replaced (a task_group's count) before waking.
    struct awaiter : detail::wait_node, detail::fiber_listener {
        detail::fiber* target;
        detail::fiber* self = nullptr;
        detail::fiber_listener* replaced = nullptr;
        bool listening = false;

        explicit awaiter(detail::fiber* t) noexcept : target(t) {}
        awaiter(const awaiter&) = delete;
        awaiter& operator=(const awaiter&) = delete;
        // A joiner's frame destroyed while it waits (the loop torn down
        // around it) must not stay the target's listener.
        ~awaiter() {
            if (listening && !target->done()) {
                target->on_done = replaced;
                target->set_joined(false);
            }
        }

        bool await_ready() const {
            if (target == nullptr) [[unlikely]]
                throw_misuse("join_handle::co_await: the handle is empty (moved-from)");
            if (target->done()) return true;
            if (target->joined()) [[unlikely]]
                throw_misuse("join_handle::co_await: the task is already being awaited (a task has one joiner at a time)");
            // Joining from a cancelled scope cancels the task and waits for
            // it, as a cancellation arriving during the wait does.
            if (detail::fiber* me = detail::tls_fiber; me != nullptr && me->cancelled()) target->root().cancel();
            return false;
        }
        void await_suspend(std::coroutine_handle<> h) noexcept {
            self = detail::tls_fiber;
            self->resume_point = h;
            on_cancel = &cancel_target;
            self->waiting = this;
            fiber_done = &on_target_done;
            replaced = std::exchange(target->on_done, this);
            target->set_joined(true);
            listening = true;
        }
        T await_resume() {
            // A cancelled joiner does not see the outcome: if the task failed,
            // its exception is still reported when the task is released.
            if (detail::fiber* me = detail::tls_fiber; me != nullptr && me->cancelled()) throw cancelled_error{};
            target->set_result_retrieved();
            return static_cast<detail::task_promise<T>&>(*target->root_promise).take();
        }
        // Cold and out of line: the throws' code stays off the join's path
        // (clang still keeps await_ready itself out of line in a coroutine).
        [[noreturn, gnu::noinline, gnu::cold]] static void throw_misuse(const char* what) {
            throw std::logic_error(what);
        }
        // asyncio: cancelling the awaiter of a task cancels that task; we keep
        // waiting for it (its exits run) and throw once it has ended.
        static void cancel_target(detail::wait_node* w) noexcept {
            static_cast<awaiter*>(w)->target->root().cancel();
        }
        static void on_target_done(detail::fiber* f, detail::fiber_listener* l) noexcept {
            auto* a = static_cast<awaiter*>(l);
            f->on_done = a->replaced;
            f->set_joined(false);
            a->listening = false;
            if (a->replaced != nullptr) a->replaced->fiber_done(f, a->replaced);
            detail::tls_loop->wake(a->self);
        }
    };
    awaiter operator co_await() const noexcept { return awaiter(fiber_); }

private:
    void reset() noexcept {
        if (fiber_ != nullptr) detail::event_loop::release(std::exchange(fiber_, nullptr));
    }
    detail::fiber* fiber_ = nullptr;
};

namespace detail {

template <class F>
using spawned_task_t = std::invoke_result_t<F&>;

template <class T>
inline constexpr bool is_task_v = false;
template <class T>
inline constexpr bool is_task_v<task<T>> = true;

// The callable lives in this coroutine's frame for as long as its task runs.
// This frame is the root of the fiber that spawn made: it takes the name of
// the callable's coroutine, which debug reports show (a slow step names it).
template <class F>
auto call_stored(F f) -> spawned_task_t<F> {
    auto inner = std::invoke(f);
    if (inner.valid()) tls_fiber->root_promise->set_origin(inner.handle().promise().origin());
    co_return co_await std::move(inner);
}

}  // namespace detail

/// Schedules `t` to run concurrently; see the file comment.
template <class T>
join_handle<T> spawn(task<T> t, corio::source_location where = corio::source_location::current()) {
    detail::fiber* f =
        detail::start_child(t, &detail::event_loop::current("spawn").detached_scope(), "spawn", where);
    f->set_refs(2);
    return join_handle<T>(f);
}

/// Calls `f()` (which returns a task) inside the new task, `f` stored by value.
template <class F>
    requires std::invocable<F&> && detail::is_task_v<detail::spawned_task_t<F>>
auto spawn(F f, corio::source_location where = corio::source_location::current()) {
    return spawn(detail::call_stored(std::move(f)), where);
}

}  // namespace corio
