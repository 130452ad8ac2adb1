// What an awaitable is, and what awaiting one gives.
#pragma once

#include <coroutine>
#include <type_traits>
#include <utility>

namespace corio::detail {

template <class A>
concept direct_awaiter = requires(A& a, std::coroutine_handle<> h) {
    { a.await_ready() } -> std::convertible_to<bool>;
    a.await_suspend(h);
    a.await_resume();
};

template <class A>
concept has_member_co_await = requires(A&& a) { std::forward<A>(a).operator co_await(); };

template <class A>
concept has_free_co_await = requires(A&& a) { operator co_await(std::forward<A>(a)); };

template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (has_member_co_await<A>) return std::forward<A>(a).operator co_await();
    else if constexpr (has_free_co_await<A>) return operator co_await(std::forward<A>(a));
    else return std::forward<A>(a);
}

/// Anything `co_await` accepts in a corio coroutine.
template <class A>
concept awaitable = has_member_co_await<A> || has_free_co_await<A> || direct_awaiter<std::remove_reference_t<A>>;

/// The type `co_await std::declval<A>()` gives.
template <class A>
using await_result_t = decltype(std::declval<decltype(get_awaiter(std::declval<A>()))&>().await_resume());

}  // namespace corio::detail
