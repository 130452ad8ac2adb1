// corio's configure-time check (cmake/corioCoroutineCheck.cmake): g++ 12
// destroys twice a temporary aggregate, or the captures of a lambda, written
// inside a co_await expression, so `co_await corio::with(MyManager{"db"}, ...)`
// crashes. A minimal task type, no corio: it counts `tracked` objects alive
// around each pattern, prints the patterns that fail and exits non-zero.
#include <coroutine>
#include <cstdio>
#include <exception>
#include <utility>

static int live = 0;  // tracked objects constructed and not yet destroyed
struct tracked {
    tracked() { ++live; }
    tracked(const tracked&) { ++live; }
    tracked(tracked&&) noexcept { ++live; }
    ~tracked() { --live; }
};
struct aggregate { tracked t; };

struct task {
    struct promise_type {
        std::coroutine_handle<> next;
        task get_return_object() { return task{std::coroutine_handle<promise_type>::from_promise(*this)}; }
        std::suspend_always initial_suspend() noexcept { return {}; }
        struct last {
            bool await_ready() noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
                return h.promise().next ? h.promise().next : std::noop_coroutine();
            }
            void await_resume() noexcept {}
        };
        last final_suspend() noexcept { return {}; }
        void return_void() {}
        void unhandled_exception() { std::terminate(); }
    };
    std::coroutine_handle<promise_type> h;
    explicit task(std::coroutine_handle<promise_type> c) : h(c) {}
    task(task&& o) noexcept : h(std::exchange(o.h, {})) {}
    ~task() { if (h) h.destroy(); }
    bool await_ready() { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> c) { h.promise().next = c; return h; }
    void await_resume() {}
};

template <class T> task take(T) { co_return; }
template <class F> task call(F f) { f(); co_return; }

int failed = 0;
void expect_live(int n, int bit, const char* pattern) {
    if (live != n) {
        failed |= bit;
        std::printf("double destruction: %s\n", pattern);
    }
    live = n;
}

task patterns() {
    co_await take(aggregate{tracked{}});
    expect_live(0, 1, "braced aggregate temporary in co_await: co_await f(T{...})");
#if defined(__cpp_aggregate_paren_init)
    co_await take(aggregate(tracked{}));
    expect_live(0, 2, "parenthesized aggregate temporary in co_await: co_await f(T(...))");
#endif
    tracked t;
    co_await call([t] { (void)t; });
    expect_live(1, 4, "capturing lambda in co_await: co_await f([x] {...})");
}

int main() {
    {
        task t = patterns();
        t.h.resume();
    }
    return failed;
}
