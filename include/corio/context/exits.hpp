// corio/context/exits.hpp: the kinds of exit record (detail/exit_record.hpp)
// that with, enter, exit_stack and finally register; all are run by the one
// unwinder, detail::unwind_exits.
//
//   manager_exit<Stored>       a manager moved in (or referenced) with what its aenter gave
//   manager_ref_exit<M>        a manager that lives in the registering frame (a with level)
//   callback_exit<F>           f(), plain or async (exit_stack::callback, finally(f))
//   value_callback_exit<V, F>  f(value), with value moved in (finally(value, f))
//   error_exit<F>              f(error) -> bool or awaitable of bool (exit_stack::push_exit)
//
// The callables are stored by value in the record until their exit has
// finished; a record costs one frame-cache allocation (a manager_ref_exit none).
#pragma once

#include <exception>
#include <functional>
#include <type_traits>
#include <utility>

#include <corio/context/async_context_manager.hpp>
#include <corio/detail/exit_record.hpp>
#include <corio/task.hpp>

namespace corio::detail {

template <class Stored>
struct manager_exit : exit_record {
    using manager_type = std::remove_reference_t<Stored>;
    using value_type = enter_result_t<manager_type>;

    explicit manager_exit(Stored&& m) : manager(std::forward<Stored>(m)) {
        exit = &run_exit;
        destroy = &destroy_exit_record<manager_exit>;
    }
    static task<bool> run_exit(exit_record* self, std::exception_ptr error) {
        return call_aexit(static_cast<manager_exit*>(self)->manager, std::move(error));
    }
    // Awaits aenter, keeping what it gave in the record.
    task<void> enter() {
        if constexpr (std::is_void_v<value_type>) co_await manager.aenter();
        else value.set(co_await manager.aenter());
    }

    Stored manager;
    [[no_unique_address]] result_slot<value_type> value;
    manager_tracker tracking;
};

template <class M>
struct manager_ref_exit : exit_record {
    explicit manager_ref_exit(M& m) noexcept : manager(m) { exit = &run_exit; }
    static task<bool> run_exit(exit_record* self, std::exception_ptr error) {
        return call_aexit(static_cast<manager_ref_exit*>(self)->manager, std::move(error));
    }
    M& manager;
};

// Calls f(args...), awaits what it gives when that is awaitable; never suppresses.
template <class F, class... A>
task<bool> call_for_exit(F& f, A&... args) {
    if constexpr (awaitable<std::invoke_result_t<F&, A&...>>) co_await std::invoke(f, args...);
    else std::invoke(f, args...);
    co_return false;
}

template <class F>
struct callback_exit : exit_record {
    explicit callback_exit(F fn) : f(std::move(fn)) {
        exit = &run_exit;
        destroy = &destroy_exit_record<callback_exit>;
    }
    static task<bool> run_exit(exit_record* self, std::exception_ptr) {
        return call_for_exit(static_cast<callback_exit*>(self)->f);
    }
    F f;
};

template <class V, class F>
struct value_callback_exit : exit_record {
    value_callback_exit(V v, F fn) : value(std::move(v)), f(std::move(fn)) {
        exit = &run_exit;
        destroy = &destroy_exit_record<value_callback_exit>;
    }
    static task<bool> run_exit(exit_record* self, std::exception_ptr) {
        auto* me = static_cast<value_callback_exit*>(self);
        return call_for_exit(me->f, me->value);
    }
    V value;
    F f;
};

template <class F>
struct error_exit : exit_record {
    explicit error_exit(F fn) : f(std::move(fn)) {
        exit = &run_exit;
        destroy = &destroy_exit_record<error_exit>;
    }
    static task<bool> run_exit(exit_record* self, std::exception_ptr error) {
        auto& f = static_cast<error_exit*>(self)->f;
        if constexpr (awaitable<std::invoke_result_t<F&, std::exception_ptr>>)
            co_return static_cast<bool>(co_await std::invoke(f, std::move(error)));
        else
            co_return static_cast<bool>(std::invoke(f, std::move(error)));
    }
    F f;
};

}  // namespace corio::detail
