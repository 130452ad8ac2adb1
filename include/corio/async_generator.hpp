// corio/async_generator.hpp: async_generator<T>, Python's async generator.
//
//   corio::async_generator<int> counter(int max) {
//       for (int i = 1; i <= max; ++i) { co_await corio::sleep(500ms); co_yield i; }
//   }
//   while (auto n = co_await gen.next()) use(*n);
//
// `next()` runs the body to its next co_yield (in the awaiter's task, by
// symmetric transfer: no allocation per item) and gives std::optional<T>;
// nullopt once it has finished. An exception from the body comes out of
// next() once, then next() gives nullopt. `co_await gen.aclose()` unwinds a
// suspended generator from its co_yield (corio::generator_exit is thrown
// there; do not swallow it), running its `enter`-ed exits; yielding again
// during aclose is std::logic_error. A generator dropped while suspended with
// `enter`-ed exits pending has them run by the loop in a background task
// (asyncio's async-generator finalizer); aclose, aclosing and for_each make
// that deterministic.
#pragma once

#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <corio/detail/event_loop.hpp>
#include <corio/detail/promise_base.hpp>
#include <corio/detail/transfer.hpp>
#include <corio/detail/yielding_promise.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/task.hpp>

namespace corio {

/// Thrown at a generator's co_yield by aclose (Python's GeneratorExit). Not a
/// std::exception, so `catch (const std::exception&)` does not swallow it.
struct generator_exit {};

template <class T>
class [[nodiscard]] async_generator {
    using value_type = std::remove_reference_t<T>;

public:
    struct promise_type : detail::yielding_promise<promise_type, value_type> {
        bool closing = false;

        async_generator get_return_object() noexcept {
            return async_generator(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        void yielding() noexcept {}
        void resumed_at_yield() const {
            if (closing) throw generator_exit{};
        }
    };
    using handle_type = std::coroutine_handle<promise_type>;

    async_generator() noexcept = default;
    async_generator(async_generator&& other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)), closed_(other.closed_) {}
    async_generator& operator=(async_generator&& other) noexcept {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, nullptr);
            closed_ = other.closed_;
        }
        return *this;
    }
    ~async_generator() { reset(); }

    struct next_awaiter {
        async_generator* g;
        bool await_ready() const {
            if (g->closed_) return true;
            if (!g->handle_) throw std::logic_error("async_generator::next: the generator is empty (moved-from)");
            return g->handle_.done();
        }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) const noexcept {
            promise_type& p = g->handle_.promise();
            p.continuation = awaiting;
            p.yielded = nullptr;
            return detail::transfer(g->handle_);
        }
        std::optional<T> await_resume() const {
            if (g->closed_) return std::nullopt;
            promise_type& p = g->handle_.promise();
            if (g->handle_.done()) {
                g->closed_ = true;
                if (p.exception) std::rethrow_exception(std::exchange(p.exception, nullptr));
                return std::nullopt;
            }
            return std::optional<T>(std::move(*p.yielded));
        }
    };
    /// The next item, or nullopt when the generator has finished (__anext__).
    next_awaiter next() noexcept { return {this}; }

    struct close_awaiter {
        async_generator* g;
        bool await_ready() const noexcept {
            if (g->closed_ || !g->handle_ || g->handle_.done() || !g->handle_.promise().started) {
                g->closed_ = true;  // nothing ran, or nothing is left to unwind
                return true;
            }
            return false;
        }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) const noexcept {
            promise_type& p = g->handle_.promise();
            p.continuation = awaiting;
            p.closing = true;
            return detail::transfer(g->handle_);
        }
        void await_resume() const {
            if (!g->handle_ || g->closed_) return;
            g->closed_ = true;
            if (!g->handle_.done()) throw std::logic_error("async_generator::aclose: the generator yielded again while closing");
            promise_type& p = g->handle_.promise();
            if (std::exception_ptr e = std::exchange(p.exception, nullptr)) {
                try {
                    std::rethrow_exception(e);
                } catch (const generator_exit&) {
                    // the expected way to finish closing
                }
            }
        }
    };
    /// Unwinds the generator from its co_yield, running its exits.
    close_awaiter aclose() noexcept { return {this}; }

private:
    explicit async_generator(handle_type h) noexcept : handle_(h) {}

    static task<void> finalize(async_generator g) { co_await g.aclose(); }

    void reset() noexcept {
        if (!handle_) return;
        handle_type h = std::exchange(handle_, nullptr);
        promise_type& p = h.promise();
        if (!closed_ && p.started && !h.done() && p.exits != nullptr && detail::tls_loop != nullptr) {
            // Exits are pending and need the loop: let a background task close it.
            try {
                spawn(finalize(async_generator(h)));
                return;
            } catch (...) {
                // no memory for the task: fall back to destroying the frame
            }
        }
        if (p.started && !h.done() && !closed_) detail::report_destroyed_while_suspended("async_generator", h.address());
        h.destroy();
    }

    handle_type handle_;
    bool closed_ = false;
};

}  // namespace corio
