// corio/context/async_context_manager.hpp: the async_context_manager concept
// (Python's __aenter__/__aexit__ protocol) and what with, enter and
// exit_stack ask of a manager: what its aenter gives, how its aexit is
// awaited (call_aexit: one task frame), and its debug-mode registration
// while it is entered (reported if the loop ends with it still entered).
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <corio/detail/awaitable_traits.hpp>
#include <corio/detail/event_loop.hpp>
#include <corio/detail/source_location.hpp>
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
    ~manager_tracker() { stop(); }
    void stop() noexcept {
        if (node_) [[unlikely]] {
            if (node_->loop != nullptr) node_->loop->untrack(&*node_);
            node_.reset();
        }
    }
    manager_tracker(const manager_tracker&) = delete;
    manager_tracker& operator=(const manager_tracker&) = delete;

private:
    std::optional<event_loop::live_manager> node_;  // built only in debug mode
};

}  // namespace detail

}  // namespace corio
