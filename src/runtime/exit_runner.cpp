// Runs the exits registered by `enter` when their coroutine ends, last entered
// first, each seeing the exception the previous ones left, then continues as
// the coroutine would have.
#include <corio/detail/exit_shield.hpp>
#include <corio/detail/promise_base.hpp>
#include <corio/task.hpp>

namespace corio::detail {

namespace {

struct exit_runner {
    struct promise_type : frame_allocated {
        promise_base* owner = nullptr;
        exit_runner get_return_object() noexcept {
            return {std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        struct final_step {
            bool await_ready() const noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
                promise_base& p = *h.promise().owner;
                h.destroy();
                return transfer(after_final(p));
            }
            void await_resume() const noexcept {}
        };
        final_step final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }  // the body catches everything
    };
    std::coroutine_handle<promise_type> handle;
};

exit_runner run_exits(promise_base& p) {
    while (exit_record* r = p.exits) {
        p.exits = r->next;
        {
            exit_shield shield;
            try {
                co_await r->exit(r, p.exception);
            } catch (...) {
                p.exception = std::current_exception();  // an exit's exception replaces the body's
            }
        }
        r->destroy(r);
    }
}

}  // namespace

std::coroutine_handle<> start_exit_runner(promise_base& p) noexcept {
    exit_runner r = run_exits(p);
    r.handle.promise().owner = &p;
    return r.handle;
}

}  // namespace corio::detail
