// The one unwinder of exit records (detail/exit_record.hpp), and the runner
// that unwinds a coroutine's own records (`enter`, `finally`) when it ends,
// before it continues as it would have (to its awaiter, or the fiber's end).
#include <corio/detail/exit_record.hpp>
#include <corio/detail/exit_shield.hpp>
#include <corio/detail/promise_base.hpp>
#include <corio/task.hpp>

#include <cstdio>

#include "report_names.hpp"

namespace corio::detail {

task<std::exception_ptr> unwind_exits(exit_record*& top, std::exception_ptr error, bool may_suppress) {
    while (exit_record* r = top) {
        top = r->next;
        {
            exit_shield shield;
            try {
                if (co_await r->exit(r, error) && may_suppress) error = nullptr;
            } catch (...) {
                error = std::current_exception();  // an exit's exception replaces the one it saw
            }
        }
        if (r->destroy != nullptr) r->destroy(r);
    }
    co_return error;
}

void report_dropped_exits(const char* owner, const exit_record* top) noexcept {
    std::size_t count = 0;
    for (const exit_record* r = top; r != nullptr; r = r->next) ++count;
    std::fprintf(stderr, "corio debug: %s destroyed with %zu exit%s registered and never run (the last registered at ",
                 owner, count, count == 1 ? "" : "s");
    print_where(stderr, top->where);
    std::fprintf(stderr, "); run them with aclose() or use the stack in a with\n");
}

namespace {

// A coroutine of its own (not a task) so that its end can hand the thread
// to where the finished coroutine would have gone, as final_awaiter does.
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
        void unhandled_exception() noexcept { std::terminate(); }  // unwind_exits catches everything
    };
    std::coroutine_handle<promise_type> handle;
};

// `enter`'s and `finally`'s exits cannot suppress: the coroutine's own
// exception (or the one an exit threw) is what its awaiter sees.
exit_runner run_exits(promise_base& p) {
    p.exception = co_await unwind_exits(p.exits, std::move(p.exception), false);
}

}  // namespace

std::coroutine_handle<> start_exit_runner(promise_base& p) noexcept {
    exit_runner r = run_exits(p);
    r.handle.promise().owner = &p;
    return r.handle;
}

}  // namespace corio::detail
