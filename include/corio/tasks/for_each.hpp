// corio/tasks/for_each.hpp: the async_iterator concept and for_each (`async for`).
//
// Any type whose `next()` gives an awaitable of std::optional<T> is an async
// iterator (`next` is __anext__, nullopt is StopAsyncIteration): generators,
// queues, class-based iterators like `task<std::optional<int>> next()`.
// `for_each(it, f)` calls f(T) for every item (awaiting it when it returns
// an awaitable), and at the end, on every path, awaits `it.aclose()` when the
// type has one (shielded like an exit). An rvalue iterator is moved into
// for_each's frame; an lvalue one is used by reference. `f` is stored by value.
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include <corio/detail/awaitable_traits.hpp>
#include <corio/detail/exit_shield.hpp>
#include <corio/task.hpp>

namespace corio {

namespace detail {
template <class O>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
}  // namespace detail

template <class I>
concept async_iterator = requires(I& it) {
    { it.next() } -> detail::awaitable;
    requires detail::is_optional<std::remove_cvref_t<detail::await_result_t<decltype(it.next())>>>::value;
};

/// The item type of an async iterator.
template <async_iterator I>
using async_item_t = typename std::remove_cvref_t<detail::await_result_t<decltype(std::declval<I&>().next())>>::value_type;

namespace detail {

template <class I>
concept has_aclose = requires(I& it) {
    { it.aclose() } -> awaitable;
};

template <class Stored, class F>
task<void> for_each_impl(Stored it, F f) {
    std::exception_ptr error;
    try {
        while (auto item = co_await it.next()) {
            if constexpr (awaitable<std::invoke_result_t<F&, async_item_t<std::remove_reference_t<Stored>>&&>>)
                co_await std::invoke(f, std::move(*item));
            else
                std::invoke(f, std::move(*item));
        }
    } catch (...) {
        error = std::current_exception();
    }
    if constexpr (has_aclose<std::remove_reference_t<Stored>>) {
        exit_shield shield;
        co_await it.aclose();
    }
    if (error) std::rethrow_exception(error);
}

}  // namespace detail

template <class I, class F>
    requires async_iterator<std::remove_reference_t<I>> &&
             std::invocable<F&, async_item_t<std::remove_reference_t<I>>&&>
task<void> for_each(I&& iterable, F f) {
    // I is `X&` for an lvalue (kept by reference) and `X` for an rvalue (moved in).
    return detail::for_each_impl<I>(std::forward<I>(iterable), std::move(f));
}

}  // namespace corio
