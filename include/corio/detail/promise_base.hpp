// What every corio coroutine promise shares: where to go when done, the
// exception it ended with, and the exits registered by `enter`. 32 bytes
// where std::source_location exists: a sleeping task's frame holds one, so
// flags live elsewhere (a task marks its taken result in `continuation`; a
// generator or manager keeps `started` in its own promise).
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>

#include <corio/detail/source_location.hpp>

#include <corio/detail/exit_record.hpp>
#include <corio/detail/fiber.hpp>
#include <corio/detail/frame_allocator.hpp>
#include <corio/detail/transfer.hpp>

namespace corio::detail {

struct promise_base : frame_allocated {
    promise_base() noexcept = default;
    explicit promise_base(coroutine_origin origin) noexcept { set_origin(origin); }

    std::coroutine_handle<> continuation;  // null: the root of a fiber, or a task never awaited
    std::exception_ptr exception;
    exit_record* exits = nullptr;           // most recently entered first
#if CORIO_DETAIL_COMPACT_ORIGIN
    coroutine_origin origin_;               // the coroutine (a task's), for debug reports
#else
    const char* origin_function_ = "";
#endif
#if !CORIO_DETAIL_COMPACT_ORIGIN
    std::uint32_t origin_line_ = 0;
#endif

    coroutine_origin origin() const noexcept {
#if CORIO_DETAIL_COMPACT_ORIGIN
        return origin_;
#else
        return coroutine_origin{origin_function_, origin_line_};
#endif
    }
    void set_origin(coroutine_origin origin) noexcept {
#if CORIO_DETAIL_COMPACT_ORIGIN
        origin_ = origin;
#else
        origin_function_ = origin.function;
        origin_line_ = origin.line_;
#endif
    }

    ~promise_base() {
        // A frame destroyed before reaching its end (a generator dropped
        // outside a loop) still frees what `enter` stored.
        drop_exits(exits);
    }
};

inline std::coroutine_handle<> fiber::root_task() const noexcept {
    return std::coroutine_handle<promise_base>::from_promise(*root_promise);
}

// Sets a promise's `started` so that debug mode can tell a suspended frame
// from a fresh one (generators and context managers; a task needs none).
struct lazy_start {
    bool* started;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept { *started = true; }
};

// Reached when the root task of the current fiber ends: marks the fiber done,
// wakes its joiner, and gives the thread back to the loop.
std::coroutine_handle<> finish_fiber() noexcept;

// Starts the coroutine that awaits `p`'s entered exits, then continues as
// `p` would have (its continuation, or finish_fiber()).
std::coroutine_handle<> start_exit_runner(promise_base& p) noexcept;

inline std::coroutine_handle<> after_final(promise_base& p) noexcept {
    if (p.exits != nullptr) [[unlikely]]
        return start_exit_runner(p);
    if (p.continuation) return p.continuation;
    return finish_fiber();
}

struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept {
        return transfer(after_final(h.promise()));
    }
    void await_resume() const noexcept {}
};

// Reports a frame destroyed while suspended (debug mode).
void report_destroyed_while_suspended(const char* what, void* frame) noexcept;
bool debug_enabled() noexcept;

// Destroys the frame of a task that did not reach its end: one never started
// (no continuation: debug mode reports "coroutine 'work' was never awaited",
// as Python does) or one destroyed while suspended. Out of line: the common
// destruction, of a finished task, is one branch in task's destructor.
void destroy_unfinished_task(std::coroutine_handle<> frame, const promise_base& promise) noexcept;

// While nonzero, nothing dropped on this thread is reported as never awaited
// or unclosed: a frame that never ran is being destroyed (its parameters are
// dropped with it), or corio itself drops something on the user's behalf
// (asyncio's coro.close() when create_task fails, or the transport a failed
// connection handler leaves).
constinit inline thread_local int tls_quiet_drops = 0;

struct quiet_drops {
    quiet_drops() noexcept { ++tls_quiet_drops; }
    ~quiet_drops() { --tls_quiet_drops; }
    quiet_drops(const quiet_drops&) = delete;
    quiet_drops& operator=(const quiet_drops&) = delete;
};

// Whether a stream, server or socket destroyed now without close() is
// reported (debug mode): not while an exception unwinds (C++ cannot await a
// close() in a catch handler, so the destructor's close is the cleanup
// there) nor under quiet_drops.
bool report_unclosed() noexcept;

}  // namespace corio::detail
