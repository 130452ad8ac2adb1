// corio/with.hpp: `with`, Python's `async with`, and the async_context_manager concept.
//
//   co_await corio::with(manager, [](manager_value& v) -> corio::task<> { ... });
//   auto text = co_await corio::with(open_thing(), [](thing& t) { return t.read(); });
//   co_await corio::with(lock_a, lock_b, [](corio::lock&, corio::lock&) -> corio::task<> { ... });
//
// Semantics (API.md section 4), as `async with` desugars:
//  1. aenter() is awaited; if it throws, aexit is not called.
//  2. The body gets the value aenter gave, by reference (nothing when void).
//     A coroutine body is awaited; a plain one's result comes out as it is.
//  3. aexit(e) is awaited with the body's exception (cancellation included),
//     shielded from the cancellations already in effect when the body ended;
//     a cancellation that starts later still applies.
//  4. true from aexit suppresses the exception of a void body; a body that
//     returns a value always propagates its exception.
//  5. An exception from aexit replaces the body's.
//  6. Several managers enter left to right and exit right to left; if the
//     second's aenter throws, the first's aexit sees that exception.
//  7. An lvalue manager is used by reference; an rvalue one is moved in when
//     `with(...)` is called and lives until its aexit returns. The body is
//     stored by value while it runs (a capturing lambda is safe). Nothing
//     runs until the result is awaited; it may be stored and awaited later.
// Allocation: one coroutine frame per manager, from the frame cache.
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <corio/detail/awaitable_traits.hpp>
#include <corio/detail/event_loop.hpp>
#include <corio/detail/exit_shield.hpp>
#include <corio/source_location.hpp>
#include <corio/task.hpp>

namespace corio {

/// Python's asynchronous context manager protocol: `aenter()` and
/// `aexit(std::exception_ptr)` each return something awaitable; aexit's
/// result, if not void, is true to suppress the exception.
template <class M>
concept async_context_manager = requires(M& m, std::exception_ptr e) {
    { m.aenter() } -> detail::awaitable;
    { m.aexit(e) } -> detail::awaitable;
};

namespace detail {

template <class M>
using enter_result_t = await_result_t<decltype(std::declval<M&>().aenter())>;

template <class M>
using exit_result_t = await_result_t<decltype(std::declval<M&>().aexit(std::exception_ptr{}))>;

// Awaits m.aexit(e) and tells whether it asked to suppress.
template <class M>
task<bool> call_aexit(M& m, std::exception_ptr e) {
    if constexpr (std::is_void_v<exit_result_t<M>>) {
        co_await m.aexit(std::move(e));
        co_return false;
    } else {
        co_return static_cast<bool>(co_await m.aexit(std::move(e)));
    }
}

// The body's arguments: one reference per manager whose aenter gives a value.
template <class Body, class... Values>
using body_call_t = std::invoke_result_t<Body&, Values&...>;

template <class R>
struct awaited_or_plain {
    using type = R;
};
template <class R>
    requires awaitable<R>
struct awaited_or_plain<R> {
    using type = await_result_t<R>;
};

template <class Body, class... Values>
using body_result_t = typename awaited_or_plain<body_call_t<Body, Values...>>::type;

template <class T>
struct enter_values {
    using type = std::tuple<T>;
};
template <>
struct enter_values<void> {
    using type = std::tuple<>;
};

// Debug registry entry for a manager between aenter and aexit.
class manager_tracker {
public:
    manager_tracker() noexcept = default;
    manager_tracker(const char* what, source_location where) noexcept { start(what, where); }
    void start(const char* what, source_location where) noexcept {
        if (tls_loop != nullptr && tls_loop->debug()) [[unlikely]] {
            node_.emplace();
            node_->what = what;
            node_->where = where;
            tls_loop->track(&*node_);
        }
    }
    ~manager_tracker() {
        if (node_ && node_->loop != nullptr) [[unlikely]]
            node_->loop->untrack(&*node_);
    }
    manager_tracker(const manager_tracker&) = delete;
    manager_tracker& operator=(const manager_tracker&) = delete;

private:
    std::optional<event_loop::live_manager> node_;  // built only in debug mode
};

// Starts what runs inside manager I-1: the next level, or the body itself
// (whose result is awaited by the caller when awaitable), so that the body
// costs no frame of its own.
template <class R, std::size_t I, std::size_t N, class Items, class... Values>
decltype(auto) start_inner(Items& items, source_location where, Values&... values);

template <std::size_t I, std::size_t N, class Items, class... Values>
struct with_result;
template <std::size_t N, class Items, class... Values>
struct with_result<N, N, Items, Values...> {
    using type = body_result_t<std::tuple_element_t<N, Items>, Values...>;
};
template <std::size_t I, std::size_t N, class Items, class... Values>
    requires(I < N)
struct with_result<I, N, Items, Values...> {
    using manager = std::remove_reference_t<std::tuple_element_t<I, Items>>;
    using entered = enter_result_t<manager>;
    template <class... Extra>
    static auto pick(std::tuple<Extra...>*) -> typename with_result<I + 1, N, Items, Values..., Extra...>::type;
    using type = decltype(pick(static_cast<typename enter_values<std::remove_reference_t<entered>>::type*>(nullptr)));
};

// Enters manager I of `items`, runs managers I+1.. and the body inside it,
// and exits it. `ItemsParam` is the tuple by value at level 0 (so the
// coroutine frame owns the managers and the body) and by reference below.
template <class R, std::size_t I, std::size_t N, class ItemsParam, class... Values>
task<R> with_level(ItemsParam items, source_location where, Values&... values) {
    auto& manager = std::get<I>(items);
    using M = std::remove_reference_t<decltype(manager)>;
    using E = enter_result_t<M>;
    std::exception_ptr error;
    [[maybe_unused]] result_slot<R> result;
    if constexpr (std::is_void_v<E>) {
        co_await manager.aenter();
        manager_tracker tracker("with", where);
        try {
            using Inner = decltype(start_inner<R, I + 1, N>(items, where, values...));
            if constexpr (!awaitable<Inner>) {
                if constexpr (std::is_void_v<R>) start_inner<R, I + 1, N>(items, where, values...);
                else result.set(start_inner<R, I + 1, N>(items, where, values...));
            } else if constexpr (std::is_void_v<R>) {
                co_await start_inner<R, I + 1, N>(items, where, values...);
            } else {
                result.set(co_await start_inner<R, I + 1, N>(items, where, values...));
            }
        } catch (...) {
            error = std::current_exception();
        }
    } else {
        E entered = co_await manager.aenter();
        manager_tracker tracker("with", where);
        try {
            using Inner = decltype(start_inner<R, I + 1, N>(items, where, values..., entered));
            if constexpr (!awaitable<Inner>) {
                if constexpr (std::is_void_v<R>) start_inner<R, I + 1, N>(items, where, values..., entered);
                else result.set(start_inner<R, I + 1, N>(items, where, values..., entered));
            } else if constexpr (std::is_void_v<R>) {
                co_await start_inner<R, I + 1, N>(items, where, values..., entered);
            } else {
                result.set(co_await start_inner<R, I + 1, N>(items, where, values..., entered));
            }
        } catch (...) {
            error = std::current_exception();
        }
    }
    bool suppress = false;
    {
        exit_shield shield;
        if constexpr (std::is_void_v<exit_result_t<M>>) co_await manager.aexit(error);
        else suppress = static_cast<bool>(co_await manager.aexit(error));
    }
    if (error && !(suppress && std::is_void_v<R>)) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<R>) co_return result.take();
}

template <class R, std::size_t I, std::size_t N, class Items, class... Values>
decltype(auto) start_inner(Items& items, source_location where, Values&... values) {
    if constexpr (I == N) {
        (void)where;
        return std::invoke(std::get<N>(items), values...);
    } else {
        return with_level<R, I, N, Items&>(items, where, values...);
    }
}

}  // namespace detail

/// `async with`: see the file comment. Constructed by CTAD:
/// `co_await corio::with(managers..., body)`.
template <class... Args>
class [[nodiscard]] with {
    static_assert(sizeof...(Args) >= 2, "corio::with needs at least one manager and a body");
    static constexpr std::size_t managers = sizeof...(Args) - 1;
    using body_type = std::decay_t<std::tuple_element_t<managers, std::tuple<Args...>>>;

    template <std::size_t... I>
    static auto items_type(std::index_sequence<I...>)
        -> std::tuple<std::tuple_element_t<I, std::tuple<Args...>>..., body_type>;
    using items = decltype(items_type(std::make_index_sequence<managers>{}));

    template <std::size_t... I>
    static constexpr bool all_managers(std::index_sequence<I...>) {
        return (async_context_manager<std::remove_reference_t<std::tuple_element_t<I, items>>> && ...);
    }
    static_assert(all_managers(std::make_index_sequence<managers>{}),
                  "corio::with: every argument before the body must be an async context manager "
                  "(aenter() and aexit(std::exception_ptr) returning awaitables)");

public:
    using result_type = typename detail::with_result<0, managers, items>::type;

    with(Args&&... args, source_location where = source_location::current())
        : task_(detail::with_level<result_type, 0, managers, items>(items(std::forward<Args>(args)...), where)) {}

    auto operator co_await() & noexcept { return task_.operator co_await(); }
    auto operator co_await() && noexcept { return task_.operator co_await(); }

    /// The lazy task that runs the whole block.
    task<result_type> as_task() && noexcept { return std::move(task_); }

private:
    task<result_type> task_;
};

template <class... Args>
with(Args&&...) -> with<Args...>;

}  // namespace corio
