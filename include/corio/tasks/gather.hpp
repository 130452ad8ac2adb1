// corio/tasks/gather.hpp: gather and gather_settled (asyncio.gather).
//
// gather(task<A>, task<B>, ...) -> task<std::tuple<A, B, ...>> (void becomes
// std::monostate); gather(std::vector<task<T>>) -> task<std::vector<T>>. The
// tasks start in order, as children of the awaiting task, and run
// concurrently. On the first failure the others are cancelled and awaited,
// then that first exception is rethrown (stricter than asyncio, which leaves
// them running). A cancellation of the awaiter reaches every child; gather
// then throws cancelled_error once they have all ended.
// gather_settled(...) is return_exceptions=True: every outcome as
// std::variant<T, std::exception_ptr>, nothing cancelled on failure.
// Allocation: one fiber per task from the frame cache (plus the vector).
#pragma once

#include <array>
#include <exception>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <corio/detail/child_set.hpp>
#include <corio/errors.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>

namespace corio {

template <class T>
using value_or_monostate_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
using settled_t = std::variant<value_or_monostate_t<T>, std::exception_ptr>;

namespace detail {

template <class T>
value_or_monostate_t<T> take_value(fiber* f) {
    if constexpr (std::is_void_v<T>) {
        take_result<void>(f);
        return {};
    } else {
        return take_result<T>(f);
    }
}

template <class T>
settled_t<T> take_settled(fiber* f) {
    if (f->root_promise->exception) return settled_t<T>(std::in_place_index<1>, f->root_promise->exception);
    return settled_t<T>(std::in_place_index<0>, take_value<T>(f));
}

// An empty task is the caller's error: the others are closed without a
// "never awaited" report, since that error is what went wrong.
template <class Tasks>
void require_valid(Tasks& tasks, const char* operation) {
    bool valid = true;
    for (auto& t : tasks) valid = valid && t.valid();
    if (valid) [[likely]]
        return;
    for (auto& t : tasks) close_unstarted(t);
    throw std::logic_error(std::string(operation) + ": a task is empty (moved-from)");
}

// Starts every task as a child of `set`; on failure to start one, the ones
// already started are cancelled by the caller (they are counted in `set`).
template <class... T, std::size_t... I>
void start_all(child_set& set, std::array<fiber*, sizeof...(T)>& fibers, std::tuple<task<T>...>& tasks,
               const char* operation, std::index_sequence<I...>) {
    ((fibers[I] = set.start(std::get<I>(tasks), operation, {}), fibers[I]->set_refs(2)), ...);
}

template <bool Settled, class... T>
task<std::conditional_t<Settled, std::tuple<settled_t<T>...>, std::tuple<value_or_monostate_t<T>...>>> gather_impl(
    std::tuple<task<T>...> tasks) {
    constexpr const char* operation = Settled ? "gather_settled" : "gather";
    if (!std::apply([](auto&... t) { return (t.valid() && ...); }, tasks)) [[unlikely]] {
        std::apply([](auto&... t) { (close_unstarted(t), ...); }, tasks);
        throw std::logic_error(std::string(operation) + ": a task is empty (moved-from)");
    }
    fiber* self = &running_fiber(operation);
    child_set set(!Settled);
    set.attach(self);
    std::array<fiber*, sizeof...(T)> fibers{};
    fiber_refs refs{fibers.data(), fibers.data() + fibers.size()};
    std::exception_ptr start_error;
    try {
        start_all(set, fibers, tasks, operation, std::index_sequence_for<T...>{});
    } catch (...) {
        start_error = std::current_exception();
        set.cancel();
    }
    co_await set.wait_all();
    set.detach();
    if (start_error) std::rethrow_exception(start_error);
    if constexpr (Settled) {
        if (self->cancelled()) throw cancelled_error{};
        co_return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return std::tuple<settled_t<T>...>(take_settled<T>(fibers[I])...);
        }(std::index_sequence_for<T...>{});
    } else {
        if (set.first_exception()) std::rethrow_exception(set.first_exception());
        co_return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return std::tuple<value_or_monostate_t<T>...>(take_value<T>(fibers[I])...);
        }(std::index_sequence_for<T...>{});
    }
}

template <bool Settled, class T>
task<std::vector<std::conditional_t<Settled, settled_t<T>, value_or_monostate_t<T>>>> gather_vector_impl(
    std::vector<task<T>> tasks) {
    constexpr const char* operation = Settled ? "gather_settled" : "gather";
    require_valid(tasks, operation);
    fiber* self = &running_fiber(operation);
    child_set set(!Settled);
    set.attach(self);
    std::vector<fiber*> fibers(tasks.size(), nullptr);
    fiber_refs refs{fibers.data(), fibers.data() + fibers.size()};
    std::exception_ptr start_error;
    try {
        for (std::size_t i = 0; i < tasks.size(); ++i) {
            fibers[i] = set.start(tasks[i], operation, {});
            fibers[i]->set_refs(2);
        }
    } catch (...) {
        start_error = std::current_exception();
        set.cancel();
    }
    co_await set.wait_all();
    set.detach();
    if (start_error) std::rethrow_exception(start_error);
    std::vector<std::conditional_t<Settled, settled_t<T>, value_or_monostate_t<T>>> results;
    results.reserve(fibers.size());
    if constexpr (Settled) {
        if (self->cancelled()) throw cancelled_error{};
        for (fiber* f : fibers) results.push_back(take_settled<T>(f));
    } else {
        if (set.first_exception()) std::rethrow_exception(set.first_exception());
        for (fiber* f : fibers) results.push_back(take_value<T>(f));
    }
    co_return results;
}

}  // namespace detail

template <class... T>
auto gather(task<T>... tasks) {
    return detail::gather_impl<false, T...>(std::tuple<task<T>...>(std::move(tasks)...));
}
template <class T>
auto gather(std::vector<task<T>> tasks) {
    return detail::gather_vector_impl<false, T>(std::move(tasks));
}
template <class... T>
auto gather_settled(task<T>... tasks) {
    return detail::gather_impl<true, T...>(std::tuple<task<T>...>(std::move(tasks)...));
}
template <class T>
auto gather_settled(std::vector<task<T>> tasks) {
    return detail::gather_vector_impl<true, T>(std::move(tasks));
}

}  // namespace corio
