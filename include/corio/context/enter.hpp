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
#include <corio/runtime/source_location.hpp>
#include <corio/task.hpp>
#include <corio/context/with.hpp>

namespace corio {

namespace detail {

template <class Stored>
struct entered_manager : exit_record {
    using manager_type = std::remove_reference_t<Stored>;
    using value_type = enter_result_t<manager_type>;
    using holder = std::conditional_t<std::is_void_v<value_type>, char, result_slot<value_type>>;

    explicit entered_manager(Stored&& m) : manager(std::forward<Stored>(m)) {
        exit = &run_exit;
        destroy = &destroy_self;
    }

    static task<void> run_exit(exit_record* self, std::exception_ptr error) {
        auto* me = static_cast<entered_manager*>(self);
        co_await call_aexit(me->manager, std::move(error));
    }
    static void destroy_self(exit_record* self) noexcept {
        auto* me = static_cast<entered_manager*>(self);
        me->~entered_manager();
        deallocate_frame(me, sizeof(entered_manager));
    }

    Stored manager;
    holder value;
    manager_tracker tracking;
};

// Awaits aenter of the record's manager, then links it into the caller's exits.
template <class Stored>
task<void> enter_record(entered_manager<Stored>* record, promise_base* caller) {
    using value_type = typename entered_manager<Stored>::value_type;
    try {
        if constexpr (std::is_void_v<value_type>) co_await record->manager.aenter();
        else record->value.set(co_await record->manager.aenter());
    } catch (...) {
        entered_manager<Stored>::destroy_self(record);
        throw;
    }
    record->tracking.start("enter", record->where);
    record->next = caller->exits;
    caller->exits = record;
}

template <class Stored>
class enter_operation {
    using record_type = entered_manager<Stored>;
    using value_type = typename record_type::value_type;

public:
    enter_operation(Stored&& manager, source_location where)
        : record_(new (allocate_frame(sizeof(record_type))) record_type(std::forward<Stored>(manager))) {
        record_->where = where;
    }
    enter_operation(enter_operation&& other) noexcept
        : record_(std::exchange(other.record_, nullptr)), step_(std::move(other.step_)) {}
    ~enter_operation() {
        if (record_ != nullptr && !linked_) record_type::destroy_self(record_);
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
