// The single-threaded event loop behind `run`.
//
// Ready fibers run first in, first out, in batches: a batch is what was ready
// when it began, so `sleep(0)` lets every other ready fiber run once. Between
// batches the loop fires due timers and collects completions posted by other
// threads. Timers live in a 4-ary min-heap of intrusive nodes (O(log n) insert
// and cancel, one pointer per timer). When nothing is ready the loop waits in
// its backend until the next deadline or a wake-up.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <corio/detail/source_location.hpp>
#include <vector>

#include <corio/detail/backend.hpp>
#include <corio/detail/fiber.hpp>
#include <corio/detail/promise_base.hpp>
#include <corio/detail/thread_pool.hpp>

namespace corio::detail {

/// A wake-up posted by another thread (a finished to_thread job, or a file
/// operation the epoll backend ran on the pool). The loop thread wakes
/// `target`, or calls `on_collect` when it is set.
struct remote_completion {
    remote_completion* next = nullptr;
    fiber* target = nullptr;
    void (*on_collect)(remote_completion*) noexcept = nullptr;
};

class signal_registry;

class event_loop {
public:
    explicit event_loop(const run_options& options);
    ~event_loop();
    event_loop(const event_loop&) = delete;
    event_loop& operator=(const event_loop&) = delete;

    static event_loop& current(const char* operation);

    // ---- scheduling (loop thread only)
    void schedule(fiber* f) noexcept {
        f->set_queued(true);
        f->next_ready = nullptr;
        if (ready_tail_ != nullptr) ready_tail_->next_ready = f;
        else ready_head_ = f;
        ready_tail_ = f;
    }
    /// Ends `f`'s wait and schedules it.
    void wake(fiber* f) noexcept {
        f->waiting = nullptr;
        schedule(f);
    }

    // ---- timers
    void add_timer(timer_node* t);
    void remove_timer(timer_node* t) noexcept;
    /// For tests of the counter's wrap: the next insertion numbers follow `n`.
    void set_timer_order_for_test(std::uint32_t n) noexcept { timer_order_ = n; }

    // ---- other threads
    /// Thread-safe: schedules `c->target` on the loop thread.
    void post_from_thread(remote_completion* c) noexcept;
    /// Counts an operation that will end in post_from_thread.
    void begin_remote() noexcept { ++outstanding_remote_; }
    /// Forgets an operation counted by begin_remote that will not be posted
    /// (a pool job withdrawn before it started).
    void end_remote() noexcept { --outstanding_remote_; }
    thread_pool& pool();

    // ---- fibers
    /// A new fiber running `root` (whose promise is `promise`) under `parent`.
    fiber* start_fiber(std::coroutine_handle<> root, promise_base* promise, cancel_scope* parent,
                       corio::source_location where);
    /// Drops one reference; the last one destroys the root task and the fiber.
    static void release(fiber* f) noexcept;
    void fiber_finished(fiber* f) noexcept;

    /// Runs until `main` has finished, then cancels every other fiber and runs
    /// until they have finished too.
    void run(fiber* main);

    // A cancel_scope keeps the number in 56 bits: at a million cancellations a
    // second that lasts 2 000 years, but past it the order of cancellations
    // and shields would be wrong, so the process stops instead.
    std::uint64_t next_cancel_number() noexcept {
        if (cancel_counter_ == max_cancel_number) [[unlikely]]
            cancel_numbers_exhausted();
        return ++cancel_counter_;
    }
    [[noreturn]] static void cancel_numbers_exhausted() noexcept;
    /// For tests of the limit: the next cancellation is numbered `n` + 1.
    void set_cancel_counter_for_test(std::uint64_t n) noexcept { cancel_counter_ = n; }
    std::uint64_t cancel_counter() const noexcept { return cancel_counter_; }
    cancel_scope& detached_scope() noexcept { return detached_; }
    bool debug() const noexcept { return debug_; }
    backend& io() noexcept { return *backend_; }
    backend_kind kind() const noexcept { return backend_->kind(); }
    /// True when run() had to cancel everything to break a deadlock.
    bool deadlock_detected() const noexcept { return deadlock_; }

    // ---- signals (signals.cpp)
    signal_registry& signals();
    /// Async-signal-safe: called by the C signal handler on any thread.
    void signal_arrived() noexcept {
        signals_pending_.store(true, std::memory_order_release);
        backend_->wake();
    }
    /// The shutdown signal that stopped the loop, or 0.
    int shutdown_signal() const noexcept { return shutdown_signal_; }
    /// After run() stopped for a shutdown signal: raises it again with its
    /// default action (the process ends).
    [[noreturn]] void end_by_signal();

    // Debug registry of managers entered and not yet exited.
    struct live_manager {
        live_manager* prev = nullptr;
        live_manager* next = nullptr;
        const char* what = "";
        corio::source_location where;
        event_loop* loop = nullptr;  // null once the loop has ended
    };
    void track(live_manager* m) noexcept;
    void untrack(live_manager* m) noexcept;

private:
    void run_batch();
    void fire_timers(clock::time_point now);
    void collect_remote();
    void heap_up(std::uint32_t i) noexcept;
    void heap_down(std::uint32_t i) noexcept;
    void renumber_timers() noexcept;
    void report_alive_at_end();
    void dispatch_signals();
    bool deadlocked() const noexcept;

    fiber* ready_head_ = nullptr;
    fiber* ready_tail_ = nullptr;
    std::vector<timer_node*> timers_;
    std::uint32_t timer_order_ = 0;  // wraps: see renumber_timers
    std::uint64_t cancel_counter_ = 0;
    cancel_scope detached_;
    std::size_t alive_ = 0;
    std::unique_ptr<backend> backend_;
    std::unique_ptr<thread_pool> pool_;

    std::atomic<bool> remote_pending_{false};
    std::mutex remote_mutex_;
    remote_completion* remote_head_ = nullptr;
    std::size_t outstanding_remote_ = 0;

    std::unique_ptr<signal_registry> signals_;
    std::atomic<bool> signals_pending_{false};
    fiber* main_ = nullptr;
    int shutdown_signal_ = 0;

    live_manager* live_managers_ = nullptr;
    bool debug_ = false;
    bool deadlock_ = false;
};

}  // namespace corio::detail
