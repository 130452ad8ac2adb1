// corio/context/context_manager.hpp: context_manager<T>, Python's @asynccontextmanager.
//
//   corio::context_manager<std::string> managed(std::string dsn) {
//       std::string conn = co_await connect(dsn);
//       try { co_yield conn; }            // the with body runs here
//       catch (...) { rollback(); throw; } // the body's exception is rethrown at co_yield
//       co_await close(conn);             // teardown after a clean body
//   }
//
// Calling the function runs nothing; aenter runs it to its one co_yield and
// gives the yielded value by reference (`co_yield {}` for
// context_manager<void>). aexit resumes it: a clean body continues after the
// co_yield; a failed one has its exception rethrown there. Finishing without
// rethrowing suppresses it; rethrowing it propagates it; throwing another
// replaces it. No co_yield: std::logic_error("context_manager did not yield");
// a second one: std::logic_error("context_manager did not stop"). The
// coroutine runs in the with's task; its frame comes from the frame cache.
#pragma once

#include <coroutine>
#include <exception>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

#include <corio/detail/promise_base.hpp>
#include <corio/detail/transfer.hpp>
#include <corio/detail/yielding_promise.hpp>

namespace corio {

template <class T = void>
class [[nodiscard]] context_manager {
    using value_type = std::conditional_t<std::is_void_v<T>, std::monostate, std::remove_reference_t<T>>;
    using enter_type = std::conditional_t<std::is_void_v<T>, void, value_type&>;

public:
    struct promise_type : detail::yielding_promise<promise_type, value_type> {
        std::exception_ptr thrown_in;  // the body's exception, rethrown at co_yield
        int yields = 0;

        context_manager get_return_object() noexcept {
            return context_manager(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        void yielding() noexcept { ++yields; }
        void resumed_at_yield() {
            if (thrown_in) std::rethrow_exception(std::exchange(thrown_in, nullptr));
        }
    };

    context_manager(context_manager&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    context_manager& operator=(context_manager&& other) noexcept {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    ~context_manager() { reset(); }

    struct enter_awaiter {
        std::coroutine_handle<promise_type> h;
        bool await_ready() const {
            if (!h) throw std::logic_error("context_manager::aenter: the manager is empty (moved-from)");
            if (h.promise().started) throw std::logic_error("context_manager::aenter: entered twice");
            return false;
        }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) const noexcept {
            h.promise().continuation = awaiting;
            return detail::transfer(h);
        }
        enter_type await_resume() const {
            promise_type& p = h.promise();
            if (h.done()) {
                if (p.exception) std::rethrow_exception(p.exception);
                throw std::logic_error("context_manager did not yield");
            }
            if constexpr (!std::is_void_v<T>) return *p.yielded;
        }
    };
    enter_awaiter aenter() noexcept { return {handle_}; }

    struct exit_awaiter {
        std::coroutine_handle<promise_type> h;
        std::exception_ptr error;
        bool await_ready() const {
            if (!h || h.done()) throw std::logic_error("context_manager::aexit: there was no successful aenter");
            return false;
        }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
            h.promise().continuation = awaiting;
            h.promise().thrown_in = error;
            return detail::transfer(h);
        }
        bool await_resume() const {
            promise_type& p = h.promise();
            if (!h.done()) throw std::logic_error("context_manager did not stop");
            if (p.exception) {
                if (error && p.exception == error) return false;  // rethrown: propagate the original
                std::rethrow_exception(p.exception);             // a new exception replaces it
            }
            return error != nullptr;  // finished without rethrowing: suppressed
        }
    };
    exit_awaiter aexit(std::exception_ptr error) noexcept { return {handle_, std::move(error)}; }

private:
    explicit context_manager(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
    void reset() noexcept {
        if (handle_) {
            if (handle_.promise().started && !handle_.done())
                detail::report_destroyed_while_suspended("context_manager", handle_.address());
            handle_.destroy();
            handle_ = nullptr;
        }
    }
    std::coroutine_handle<promise_type> handle_;
};

}  // namespace corio
