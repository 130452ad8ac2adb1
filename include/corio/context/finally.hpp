// corio/context/finally.hpp: finally(f) and finally(value, f), Python's `await`
// inside a `finally:` block, which C++ cannot write (no co_await in a catch
// handler).
//
//   co_await corio::finally([] { return log_out(); });        // f: plain or async
//   connection& c = co_await corio::finally(co_await connect(dsn),
//                                           [](connection& c) { return c.close(); });
//
// `f` (and `value`) are moved into an exit record of the enclosing coroutine
// (a task, async_generator or context_manager) and run when it finishes, by
// return or exception, after its locals are gone: what f needs it holds
// itself. The exits of `finally` and `enter` run in reverse order of
// registration, each shielded from the cancellations already in effect (a
// later one still applies), and an exception f throws replaces the
// coroutine's and reaches its awaiter. In a context_manager it is the
// teardown that runs whether or not the body threw; the body's exception
// still reaches the caller. Registering does not suspend and is not a
// cancellation point. One frame-cache allocation per finally.
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

#include <corio/detail/awaitable_traits.hpp>
#include <corio/detail/frame_allocator.hpp>
#include <corio/detail/promise_base.hpp>
#include <corio/detail/source_location.hpp>
#include <corio/context/exits.hpp>
#include <corio/task.hpp>

namespace corio {

namespace detail {

// Links the record into the awaiting coroutine's exits without suspending.
template <class Record>
class [[nodiscard]] finally_operation {
public:
    explicit finally_operation(Record* record, source_location where) noexcept : record_(record) {
        record_->where = where;
    }
    finally_operation(finally_operation&& other) noexcept : record_(std::exchange(other.record_, nullptr)) {}
    finally_operation& operator=(finally_operation&&) = delete;
    ~finally_operation() {
        if (record_ != nullptr && !linked_) destroy_exit_record<Record>(record_);  // never awaited: f never runs
    }

    bool await_ready() const noexcept { return false; }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
        static_assert(std::is_base_of_v<promise_base, Promise>,
                      "corio::finally works only inside corio coroutines (task, async_generator, context_manager)");
        promise_base& p = h.promise();
        record_->next = p.exits;
        p.exits = record_;
        linked_ = true;
        return false;  // resume at once
    }
    decltype(auto) await_resume() const noexcept {
        if constexpr (requires(Record& r) { r.value; }) return (record_->value);
    }

private:
    Record* record_;
    bool linked_ = false;
};

}  // namespace detail

/// Runs `f` (plain or async, no arguments) when the enclosing coroutine
/// finishes, however it finishes; see the file comment.
template <class F>
    requires std::invocable<std::decay_t<F>&>
auto finally(F&& f, source_location where = source_location::current()) {
    using record = detail::callback_exit<std::decay_t<F>>;
    return detail::finally_operation<record>(detail::make_exit_record<record>(std::forward<F>(f)), where);
}

/// Moves `value` into the exit, gives back `value&`, and calls `f(value)`
/// (plain or async) when the enclosing coroutine finishes.
template <class V, class F>
    requires std::invocable<std::decay_t<F>&, std::decay_t<V>&>
auto finally(V&& value, F&& f, source_location where = source_location::current()) {
    using record = detail::value_callback_exit<std::decay_t<V>, std::decay_t<F>>;
    return detail::finally_operation<record>(
        detail::make_exit_record<record>(std::forward<V>(value), std::forward<F>(f)), where);
}

}  // namespace corio
