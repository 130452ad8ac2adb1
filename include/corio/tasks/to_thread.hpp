// corio/tasks/to_thread.hpp: to_thread(f, args...), asyncio.to_thread.
//
// Runs blocking `f(args...)` on the loop's thread pool and gives its result
// (or rethrows its exception) in the awaiting task. `f` and the arguments are
// stored by value in the task's frame. A thread cannot be interrupted: when
// the awaiting task is cancelled, it waits for `f` to return (so nothing it
// references can dangle), discards the result and throws cancelled_error
// (Trio's to_thread.run_sync does the same). No allocation besides the frame.
#pragma once

#include <exception>
#include <functional>
#include <type_traits>
#include <utility>

#include <corio/detail/event_loop.hpp>
#include <corio/detail/thread_pool.hpp>
#include <corio/errors.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>

namespace corio {

namespace detail {

template <class R, class Fn>
class thread_call : pool_job, remote_completion, wait_node {
public:
    explicit thread_call(Fn& fn) noexcept : fn_(fn) {}

    bool await_ready() {
        self_ = &running_fiber("to_thread");
        return self_->cancelled();
    }
    void await_suspend(std::coroutine_handle<> h) {
        loop_ = tls_loop;
        self_->resume_point = h;
        target = self_;
        run = &work;
        on_cancel = &keep_waiting;
        self_->waiting = this;
        loop_->begin_remote();
        loop_->pool().submit(this);
    }
    R await_resume() {
        if (self_->cancelled()) throw cancelled_error{};
        if (error_) std::rethrow_exception(error_);
        if constexpr (!std::is_void_v<R>) return result_.take();
    }

private:
    static void work(pool_job* job) noexcept {
        auto* me = static_cast<thread_call*>(job);
        try {
            if constexpr (std::is_void_v<R>) me->fn_();
            else me->result_.set(me->fn_());
        } catch (...) {
            me->error_ = std::current_exception();
        }
        me->loop_->post_from_thread(me);  // the loop thread wakes our task
    }
    // The thread cannot be stopped: stay suspended until it has finished.
    static void keep_waiting(wait_node*) noexcept {}

    Fn& fn_;
    fiber* self_ = nullptr;
    event_loop* loop_ = nullptr;
    result_slot<R> result_;
    std::exception_ptr error_;
};

}  // namespace detail

template <class F, class... Args>
    requires std::invocable<F&, Args&...>
task<std::invoke_result_t<F&, Args&...>> to_thread(F f, Args... args) {
    using R = std::invoke_result_t<F&, Args&...>;
    auto call = [&]() -> R { return std::invoke(f, args...); };
    co_return co_await detail::thread_call<R, decltype(call)>(call);
}

}  // namespace corio
