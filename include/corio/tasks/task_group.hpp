// corio/tasks/task_group.hpp: task_group, asyncio.TaskGroup (a Trio nursery).
//
//   co_await corio::with(corio::task_group{}, [](corio::task_group& g) -> corio::task<> {
//       g.spawn(fetch(a));
//       g.spawn(fetch(b));
//   });   // waits for both
//
// The body runs inside the group's cancel scope; children are fibers under
// it. Exit waits for every child. The first failure (a child's or the
// body's) cancels the rest, the body included. After all have ended,
// exception_group is thrown holding every failure other than cancellation (a
// nested group's exception_group stays nested, as in Python). When the only
// failures were cancellations from outside, cancelled_error propagates.
// spawn() after the group has closed, or before it was entered, is
// std::logic_error. Allocation: one fiber per child from the frame cache.
#pragma once

#include <concepts>
#include <exception>
#include <stdexcept>
#include <utility>
#include <vector>

#include <corio/detail/child_set.hpp>
#include <corio/errors.hpp>
#include <corio/detail/source_location.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>

namespace corio {

class task_group {
public:
    task_group() noexcept = default;
    // Movable until entered (with() moves an rvalue manager into its frame).
    task_group(task_group&& other) noexcept {
        if (other.state_ != state::fresh) std::terminate();  // an entered group is pinned
    }
    task_group(const task_group&) = delete;
    task_group& operator=(const task_group&) = delete;
    task_group& operator=(task_group&&) = delete;

    struct enter_awaiter {
        task_group* self;
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        task_group& await_resume() const {
            self->enter();
            return *self;
        }
    };
    enter_awaiter aenter() noexcept { return {this}; }

    task<bool> aexit(std::exception_ptr error) {
        detail::fiber* self = owner_;
        if (error && !is_cancellation(error)) {
            body_error_ = error;
            children_.cancel();
        }
        state_ = state::exiting;
        co_await children_.wait_all();
        state_ = state::closed;
        const bool outer_cancelled = children_.outer_cancelled();
        children_.pop(self);
        std::vector<std::exception_ptr> errors;
        if (body_error_) errors.push_back(body_error_);
        for (auto& e : children_.failures()) errors.push_back(e);
        if (!errors.empty()) throw exception_group(std::move(errors));
        if (outer_cancelled) {
            // The body ended cleanly but a cancellation from outside reached
            // the children while we waited: it propagates from here.
            if (!error && children_.any_cancelled()) throw cancelled_error{};
            co_return false;
        }
        // cancel() was ours: the cancellation it caused ends here (Trio's
        // nursery.cancel_scope.cancel()).
        co_return cancel_requested_ && error && is_cancellation(error);
    }

    /// Starts `t` as a child of the group (asyncio's TaskGroup.create_task).
    template <class T>
    join_handle<T> spawn(task<T> t, source_location where = source_location::current()) {
        if (state_ == state::fresh || state_ == state::closed) [[unlikely]]
            detail::close_unstarted(t);  // check_open throws: the error says it, not a "never awaited"
        check_open();
        detail::fiber* f = children_.start(t, "task_group::spawn", where);
        f->set_refs(2);
        return join_handle<T>(f);
    }

    /// Calls `f()` (returning a task) inside the child, `f` stored by value.
    template <class F>
        requires std::invocable<F&> && detail::is_task_v<detail::spawned_task_t<F>>
    auto spawn(F f, source_location where = source_location::current()) {
        return spawn(detail::call_stored(std::move(f)), where);
    }

    /// Cancels the body and every child (the group then ends quietly).
    void cancel() noexcept {
        cancel_requested_ = true;
        children_.cancel();
    }

    std::size_t size() const noexcept { return children_.running(); }

private:
    enum class state { fresh, open, exiting, closed };

    void enter() {
        if (state_ != state::fresh) throw std::logic_error("task_group::aenter: entered twice");
        owner_ = &detail::running_fiber("task_group");
        children_.push(owner_);
        state_ = state::open;
    }
    void check_open() const {
        if (state_ == state::fresh) throw std::logic_error("task_group::spawn: the group has not been entered");
        if (state_ == state::closed) throw std::logic_error("task_group::spawn: the group is closed");
    }

    detail::child_set children_{true};
    detail::fiber* owner_ = nullptr;
    std::exception_ptr body_error_;
    state state_ = state::fresh;
    bool cancel_requested_ = false;
};

}  // namespace corio
