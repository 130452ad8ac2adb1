// The children of a gather or a task_group: fibers started under one cancel
// scope, counted as they end, with their failures collected.
//
// The scope sits under the spawner's scope, so a cancellation from outside
// reaches the children through the scope tree; the spawner waits for them
// without being interruptible itself (as a Trio nursery's exit does).
#pragma once

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include <corio/detail/event_loop.hpp>
#include <corio/detail/fiber.hpp>
#include <corio/detail/source_location.hpp>

// Declared here, defined in public headers (task.hpp, errors.hpp), which
// detail/ does not include: the templates below are instantiated where they
// are complete.
namespace corio {
template <class T>
class task;
bool is_cancellation(const std::exception_ptr& e) noexcept;
}  // namespace corio

namespace corio::detail {

template <class T>
struct task_promise;

// Starts `t` as a new fiber under `parent` (spawn, gather, task_group).
template <class T>
fiber* start_child(task<T>& t, cancel_scope* parent, const char* operation, source_location where) {
    event_loop& loop = event_loop::current(operation);
    if (!t.valid()) throw std::logic_error(std::string(operation) + ": the task is empty (moved-from)");
    auto h = t.release();
    return loop.start_fiber(h, &h.promise(), parent, where);
}

class child_set : private fiber_listener {
public:
    explicit child_set(bool cancel_on_failure) noexcept : cancel_on_failure_(cancel_on_failure) {
        fiber_done = &on_child_done;
    }
    child_set(const child_set&) = delete;
    child_set& operator=(const child_set&) = delete;

    /// Places the scope under `owner`'s current scope without entering it (gather).
    void attach(fiber* owner) noexcept {
        scope_.link_under(owner->scope);
    }
    /// Enters the scope in `owner` (task_group: the body runs inside it).
    void push(fiber* owner) noexcept { owner->push_scope(&scope_); }
    void pop(fiber* owner) noexcept { owner->pop_scope(&scope_); }
    void detach() noexcept { scope_.unlink(); }
    /// Whether a scope outside this set is cancelled (exit shields aside).
    bool outer_cancelled() const noexcept { return cancelled_from(scope_.parent); }

    template <class T>
    fiber* start(task<T>& t, const char* operation, source_location where) {
        fiber* f = start_child(t, &scope_, operation, where);
        f->on_done = this;
        f->set_result_retrieved();  // failures are reported through us
        ++running_;
        return f;
    }

    void cancel() noexcept { scope_.cancel(); }
    std::size_t running() const noexcept { return running_; }
    /// Non-cancellation failures, in the order they happened.
    std::vector<std::exception_ptr>& failures() noexcept { return failures_; }
    /// The first exception of any kind (gather rethrows it).
    const std::exception_ptr& first_exception() const noexcept { return first_; }
    bool any_cancelled() const noexcept { return any_cancelled_; }

    struct wait_awaiter {
        child_set* set;
        bool await_ready() const noexcept { return set->running_ == 0; }
        void await_suspend(std::coroutine_handle<> h) const noexcept {
            fiber* self = tls_fiber;
            self->resume_point = h;
            set->waiter_ = self;  // not a cancellable wait: the children get the cancellation
        }
        void await_resume() const noexcept {}
    };
    /// Waits until every child has ended.
    wait_awaiter wait_all() noexcept { return {this}; }

private:
    static void on_child_done(fiber* f, fiber_listener* self) noexcept {
        auto* set = static_cast<child_set*>(self);
        --set->running_;
        if (const std::exception_ptr& e = f->root_promise->exception) {
            if (!set->first_) set->first_ = e;
            if (is_cancellation(e)) {
                set->any_cancelled_ = true;
            } else {
                try {
                    set->failures_.push_back(e);
                } catch (...) {
                    // out of memory: the first exception is still kept
                }
                if (set->cancel_on_failure_) set->scope_.cancel();
            }
        }
        if (set->running_ == 0 && set->waiter_ != nullptr) tls_loop->wake(std::exchange(set->waiter_, nullptr));
    }

    cancel_scope scope_;
    std::size_t running_ = 0;
    fiber* waiter_ = nullptr;
    std::exception_ptr first_;
    std::vector<std::exception_ptr> failures_;
    bool cancel_on_failure_;
    bool any_cancelled_ = false;
};

// Drops our reference to each child fiber once its result has been read.
struct fiber_refs {
    fiber* const* begin;
    fiber* const* end;
    ~fiber_refs() {
        for (fiber* const* f = begin; f != end; ++f)
            if (*f != nullptr) event_loop::release(*f);
    }
};

template <class T>
decltype(auto) take_result(fiber* f) {
    return static_cast<task_promise<T>&>(*f->root_promise).take();
}

}  // namespace corio::detail
