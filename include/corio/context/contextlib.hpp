// corio/context/contextlib.hpp: aclosing, nullcontext, suppress (Python's contextlib).
//
// - aclosing(gen): takes an async generator (or anything with aclose()) by
//   reference, gives it back, and awaits its aclose() at exit.
// - nullcontext(value): gives `value&` (stored in the manager); nullcontext()
//   gives nothing. Exits do nothing.
// - suppress<E1, E2...>(): suppresses exceptions of those types (derived ones
//   too) for a void body. suppress<cancelled_error> is refused: swallowing a
//   cancellation silently is the bug corio exists to prevent.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>

#include <corio/errors.hpp>
#include <corio/task.hpp>

namespace corio {

namespace detail {
template <class T>
struct ready_value {
    T value;
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    T await_resume() noexcept { return std::forward<T>(value); }
};
struct ready_void {
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept {}
};
}  // namespace detail

template <class G>
class aclosing_manager {
public:
    explicit aclosing_manager(G& g) noexcept : g_(&g) {}
    detail::ready_value<G&> aenter() noexcept { return {*g_}; }
    task<bool> aexit(std::exception_ptr) {
        co_await g_->aclose();
        co_return false;
    }

private:
    G* g_;
};

/// Closes `gen` (awaits gen.aclose()) when the block ends.
template <class G>
aclosing_manager<G> aclosing(G& gen) noexcept {
    return aclosing_manager<G>(gen);
}

template <class T>
class nullcontext_manager {
public:
    explicit nullcontext_manager(T value) : value_(std::move(value)) {}
    detail::ready_value<T&> aenter() noexcept { return {value_}; }
    detail::ready_value<bool> aexit(std::exception_ptr) noexcept { return {false}; }

private:
    T value_;
};

template <>
class nullcontext_manager<void> {
public:
    detail::ready_void aenter() noexcept { return {}; }
    detail::ready_value<bool> aexit(std::exception_ptr) noexcept { return {false}; }
};

template <class T>
nullcontext_manager<std::decay_t<T>> nullcontext(T&& value) {
    return nullcontext_manager<std::decay_t<T>>(std::forward<T>(value));
}
inline nullcontext_manager<void> nullcontext() noexcept { return {}; }

template <class... E>
class suppress_manager {
    static_assert(sizeof...(E) > 0, "corio::suppress needs at least one exception type");
    static_assert((!std::is_base_of_v<E, cancelled_error> && ...),
                  "corio::suppress must not swallow cancelled_error");

public:
    detail::ready_void aenter() noexcept { return {}; }
    detail::ready_value<bool> aexit(std::exception_ptr error) const noexcept { return {matches(error)}; }

private:
    template <class First, class... Rest>
    static bool matches_one(const std::exception_ptr& error) noexcept {
        try {
            std::rethrow_exception(error);
        } catch (const First&) {
            return true;
        } catch (...) {
        }
        if constexpr (sizeof...(Rest) > 0) return matches_one<Rest...>(error);
        else return false;
    }
    static bool matches(const std::exception_ptr& error) noexcept { return error && matches_one<E...>(error); }
};

/// contextlib.suppress(E1, E2...).
template <class... E>
suppress_manager<E...> suppress() noexcept {
    return {};
}

}  // namespace corio
