// corio/context/enter.hpp: enter(manager), `async with` for the rest of the function.
//
//   auto& session = co_await corio::enter(client_session{});
//
// aenter is awaited now; the manager's aexit is awaited when the enclosing
// coroutine (a task, async_generator or context_manager) finishes, by return
// or exception, in reverse order of entering, before its awaiter resumes,
// with the coroutine's exception. It cannot suppress; an exception it throws
// replaces the coroutine's and reaches the awaiter. The exits are shielded
// like with's. `enter` gives a reference to the value aenter gave, stored
// with the manager (an rvalue manager is moved in; an lvalue one is used by
// reference). One allocation from the frame cache per enter.
#pragma once

#include <exception>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include <corio/detail/promise_base.hpp>
#include <corio/detail/source_location.hpp>
#include <corio/context/async_context_manager.hpp>
#include <corio/context/exits.hpp>
#include <corio/task.hpp>

namespace corio {

namespace detail {

// Awaits aenter of the record's manager, then links it into the caller's exits.
template <class Stored>
task<void> enter_record(manager_exit<Stored>* record, promise_base* caller) {
    try {
        co_await record->enter();
    } catch (...) {
        destroy_exit_record<manager_exit<Stored>>(record);
        throw;
    }
    record->tracking.start("enter", record->where);
    record->next = caller->exits;
    caller->exits = record;
}

template <class Stored>
class enter_operation {
    using record_type = manager_exit<Stored>;
    using value_type = typename record_type::value_type;

public:
    enter_operation(Stored&& manager, source_location where)
        : record_(make_exit_record<record_type>(std::forward<Stored>(manager))) {
        record_->where = where;
    }
    enter_operation(enter_operation&& other) noexcept
        : record_(std::exchange(other.record_, nullptr)), step_(std::move(other.step_)) {}
    ~enter_operation() {
        if (record_ != nullptr && !linked_) destroy_exit_record<record_type>(record_);
    }

    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) {
        static_assert(std::is_base_of_v<promise_base, Promise>,
                      "corio::enter works only inside corio coroutines (task, async_generator, context_manager)");
        linked_ = true;  // from here the step owns the record (it frees it if aenter throws)
        step_ = enter_record(record_, &h.promise());
        auto inner = step_.handle();
        inner.promise().continuation = h;
        return transfer(inner);
    }
    decltype(auto) await_resume() {
        step_.handle().promise().take();  // rethrows aenter's exception
        if constexpr (!std::is_void_v<value_type>) return record_->value.get();
    }

private:
    record_type* record_;
    task<void> step_;
    bool linked_ = false;
};

}  // namespace detail

/// Enters `manager` until the enclosing coroutine ends; see the file comment.
template <class M>
    requires async_context_manager<std::remove_reference_t<M>>
auto enter(M&& manager, source_location where = source_location::current()) {
    return detail::enter_operation<M>(std::forward<M>(manager), where);
}

}  // namespace corio
