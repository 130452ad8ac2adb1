// The event loop (detail/event_loop.hpp): fibers started, scheduled, run one
// step at a time and released; the timer heap; completions posted from other
// threads (to_thread); the run loop that waits on the backend until the main
// fiber ends; and debug mode's slow-step report and end-of-loop inventory.
#include <corio/runtime/run_options.hpp>
#include <corio/detail/event_loop.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include <corio/errors.hpp>

#include "report_names.hpp"
#include "signal_registry.hpp"

namespace corio {

backend_kind current_backend() { return detail::event_loop::current("current_backend").kind(); }

}  // namespace corio

namespace corio::detail {

namespace {

bool env_debug() {
    const char* v = std::getenv("CORIO_DEBUG");
    return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
}

bool earlier(const timer_node* a, const timer_node* b) noexcept {
    if (a->deadline != b->deadline) return a->deadline < b->deadline;
    return a->order < b->order;
}

void print_location(const corio::source_location& where) {
    if (where.line() != 0) {
        std::fprintf(stderr, " (");
        print_where(stderr, where);
        std::fprintf(stderr, ")");
    }
}

// asyncio's slow-callback warning names the task's coroutine and where the
// task was created: "a step of task 'worker' (dbg.cpp:5), spawned at
// dbg.cpp:20 in amain, took 150 ms without yielding".
void report_slow_step(const coroutine_origin& origin, const corio::source_location& where,
                      clock::duration took) noexcept {
    std::fprintf(stderr, "corio debug: a step of task ");
    print_origin(stderr, origin);
    if (where.line() != 0) {
        std::fprintf(stderr, ", spawned at ");
        print_where(stderr, where);
        std::fprintf(stderr, ",");
    }
    std::fprintf(stderr, " took %lld ms without yielding\n",
                 static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
}

}  // namespace

event_loop::event_loop(const run_options& options) {
    if (tls_loop != nullptr)
        throw std::logic_error(
            "run: an event loop is already running on this thread (await the task, or spawn it)");
    debug_ = options.debug || env_debug();
    backend_ = make_backend(options.backend);
    tls_loop = this;
    try {
        for (int signo : options.shutdown_signals) signals().add(signo, nullptr, "run: shutdown_signals");
    } catch (...) {
        signals_.reset();
        tls_loop = nullptr;
        throw;
    }
    if (debug_) std::fprintf(stderr, "corio debug: event loop started, backend %s\n", to_string(kind()));
}

event_loop::~event_loop() {
    pool_.reset();  // joins the workers
    if (debug_) report_alive_at_end();
    signals_.reset();  // restores the dispositions
    tls_loop = nullptr;
    tls_fiber = nullptr;
}

void event_loop::end_by_signal() {
    // The tasks have all ended; the process goes as the signal would have
    // taken it. (Raising it from the destructor is too late: an exception
    // from main that nothing catches ends the program without unwinding.)
    pool_.reset();
    if (debug_) report_alive_at_end();
    signals_.reset();
    reraise_signal(shutdown_signal_);
}

event_loop& event_loop::current(const char* operation) {
    if (tls_loop == nullptr)
        throw std::logic_error(std::string(operation) + ": no event loop is running on this thread (call it inside corio::run)");
    return *tls_loop;
}

// ---------------------------------------------------------------- timers

void event_loop::add_timer(timer_node* t) {
    if (++timer_order_ == 0) [[unlikely]]
        renumber_timers();
    t->order = timer_order_;
    t->heap_index = static_cast<std::uint32_t>(timers_.size());
    timers_.push_back(t);
    heap_up(t->heap_index);
}

// The 32-bit insertion counter wrapped (once in 4 billion timers): number
// the armed timers 1..n in the order they fire, so that FIFO among equal
// deadlines holds across the wrap. A sorted array is a valid heap.
void event_loop::renumber_timers() noexcept {
    std::sort(timers_.begin(), timers_.end(), earlier);
    std::uint32_t i = 0;
    for (timer_node* t : timers_) {
        t->heap_index = i;
        t->order = ++i;
    }
    timer_order_ = i + 1;
}

void event_loop::remove_timer(timer_node* t) noexcept {
    if (!t->armed()) return;
    const std::uint32_t i = t->heap_index;
    t->heap_index = ~0u;
    timer_node* last = timers_.back();
    timers_.pop_back();
    if (last == t) return;
    timers_[i] = last;
    last->heap_index = i;
    heap_up(i);
    heap_down(last->heap_index);
}

void event_loop::heap_up(std::uint32_t i) noexcept {
    timer_node* t = timers_[i];
    while (i > 0) {
        const std::uint32_t parent = (i - 1) / 4;
        if (!earlier(t, timers_[parent])) break;
        timers_[i] = timers_[parent];
        timers_[i]->heap_index = i;
        i = parent;
    }
    timers_[i] = t;
    t->heap_index = i;
}

void event_loop::heap_down(std::uint32_t i) noexcept {
    const std::uint32_t n = static_cast<std::uint32_t>(timers_.size());
    timer_node* t = timers_[i];
    for (;;) {
        const std::uint32_t first = 4 * i + 1;
        if (first >= n) break;
        std::uint32_t best = first;
        const std::uint32_t end = first + 4 < n ? first + 4 : n;
        for (std::uint32_t c = first + 1; c < end; ++c)
            if (earlier(timers_[c], timers_[best])) best = c;
        if (!earlier(timers_[best], t)) break;
        timers_[i] = timers_[best];
        timers_[i]->heap_index = i;
        i = best;
    }
    timers_[i] = t;
    t->heap_index = i;
}

void event_loop::fire_timers(clock::time_point now) {
    while (!timers_.empty() && timers_.front()->deadline <= now) {
        timer_node* t = timers_.front();
        remove_timer(t);
        t->fire();
    }
}

// ---------------------------------------------------------------- threads

thread_pool& event_loop::pool() {
    if (!pool_) {
        unsigned n = std::thread::hardware_concurrency();
        pool_ = std::make_unique<thread_pool>(n < 4 ? 4 : n);
    }
    return *pool_;
}

void event_loop::post_from_thread(remote_completion* c) noexcept {
    {
        std::lock_guard<std::mutex> guard(remote_mutex_);
        c->next = remote_head_;
        remote_head_ = c;
        remote_pending_.store(true, std::memory_order_release);
    }
    backend_->wake();
}

void event_loop::collect_remote() {
    remote_completion* list;
    {
        std::lock_guard<std::mutex> guard(remote_mutex_);
        list = remote_head_;
        remote_head_ = nullptr;
        remote_pending_.store(false, std::memory_order_relaxed);
    }
    // The list is newest first; reverse it so completions run in post order.
    remote_completion* ordered = nullptr;
    while (list != nullptr) {
        remote_completion* next = list->next;
        list->next = ordered;
        ordered = list;
        list = next;
    }
    while (ordered != nullptr) {
        remote_completion* next = ordered->next;  // `ordered` may die once its fiber runs
        --outstanding_remote_;
        if (ordered->on_collect != nullptr) ordered->on_collect(ordered);
        else wake(ordered->target);
        ordered = next;
    }
}

// ---------------------------------------------------------------- fibers

void event_loop::cancel_numbers_exhausted() noexcept {
    std::fprintf(stderr, "corio: cancel_scope::cancel: 2^56 - 1 cancellations on one loop; numbering them further "
                         "would break the order of cancellations and shields\n");
    std::abort();
}

fiber* event_loop::start_fiber(std::coroutine_handle<> root, promise_base* promise, cancel_scope* parent,
                               corio::source_location where) {
    fiber* f = new (allocate_frame(sizeof(fiber))) fiber{};
    f->root_promise = promise;
    if (f->root_task() != root) [[unlikely]] {
        // A promise type that is over-aligned or does not start with
        // promise_base: fiber::root_task would name the wrong frame.
        std::fprintf(stderr, "corio: start_fiber: the promise is not where fiber::root_task looks for it\n");
        std::abort();
    }
    promise->continuation = nullptr;
    f->resume_point = root;
    f->link_under(parent);
    f->set_refs(1);
    f->where = where;
    ++alive_;
    schedule(f);
    return f;
}

void event_loop::fiber_finished(fiber* f) noexcept {
    f->set_done();
    --alive_;
    f->root().unlink();
    if (fiber_listener* l = f->on_done) l->fiber_done(f, l);
    release(f);
}

void event_loop::release(fiber* f) noexcept {
    const unsigned refs = f->refs() - 1;
    f->set_refs(refs);
    if (refs != 0) return;
    if (!f->result_retrieved() && f->done() && f->root_promise->exception &&
        !is_cancellation(f->root_promise->exception)) {
        std::fprintf(stderr, "corio: exception in a task nobody awaited");
        print_location(f->where);
        std::fprintf(stderr, ": %s\n", describe(f->root_promise->exception).c_str());
    }
    if (!f->done() && debug_enabled()) {
        std::fprintf(stderr, "corio debug: task ");
        print_origin(stderr, f->root_promise->origin());
        std::fprintf(stderr, " destroyed while suspended");
        print_location(f->where);
        std::fprintf(stderr, "\n");
    }
    f->root_task().destroy();
    f->~fiber();
    deallocate_frame(f, sizeof(fiber));
}

std::coroutine_handle<> finish_fiber() noexcept {
    fiber* f = tls_fiber;
    tls_fiber = nullptr;
    tls_loop->fiber_finished(f);
    return std::noop_coroutine();
}

// ---------------------------------------------------------------- running

void event_loop::run_batch() {
    fiber* f = ready_head_;
    ready_head_ = ready_tail_ = nullptr;
    while (f != nullptr) {
        fiber* next = f->next_ready;
        f->set_queued(false);
        f->waiting = nullptr;  // the word held the queue's link
        tls_fiber = f;
        if (debug_) [[unlikely]] {
            // Copied first: the fiber may end, and be freed, during the step.
            const coroutine_origin origin = f->root_promise->origin();
            const corio::source_location where = f->where;
            const auto start = clock::now();
            resume_with_trampoline(f->resume_point);
            const auto took = clock::now() - start;
            if (took > std::chrono::milliseconds(100)) report_slow_step(origin, where, took);
        } else {
            resume_with_trampoline(f->resume_point);
        }
        f = next;
    }
    tls_fiber = nullptr;
}

bool event_loop::deadlocked() const noexcept {
    // A handled signal may still wake a task (through its callback).
    if (signals_ && !signals_->empty()) return false;
    return ready_head_ == nullptr && timers_.empty() && outstanding_remote_ == 0 && !backend_->has_pending() &&
           !remote_pending_.load(std::memory_order_acquire) && alive_ > 0;
}

void event_loop::run(fiber* main) {
    bool shutting_down = false;
    int deadlocks = 0;
    main_ = main;
    for (;;) {
        if (ready_head_ != nullptr) run_batch();
        if (signals_pending_.load(std::memory_order_acquire)) dispatch_signals();
        if (!shutting_down && main->done()) {
            // asyncio.run: when main ends, the tasks still running are
            // cancelled and awaited so that their exits run.
            shutting_down = true;
            detached_.cancel();
        }
        if (remote_pending_.load(std::memory_order_acquire)) collect_remote();
        if (!timers_.empty()) fire_timers(clock::now());
        if (ready_head_ != nullptr) {
            if (backend_->has_pending()) backend_->wait(std::chrono::nanoseconds(0));
            continue;
        }
        if (alive_ == 0) break;
        if (deadlocked()) {
            // Every fiber waits for another and nothing outside can wake
            // them: cancel them all so their exits run, then report.
            if (++deadlocks > 1)
                throw std::logic_error("run: deadlock: tasks keep waiting on each other after being cancelled");
            std::fprintf(stderr, "corio: deadlock: every task is waiting and nothing can wake them; cancelling all\n");
            deadlock_ = true;
            main->root().cancel();
            detached_.cancel();
            continue;
        }
        std::chrono::nanoseconds timeout(-1);
        if (!timers_.empty()) {
            const auto left = timers_.front()->deadline - clock::now();
            timeout = left.count() > 0 ? std::chrono::duration_cast<std::chrono::nanoseconds>(left)
                                       : std::chrono::nanoseconds(0);
        }
        backend_->wait(timeout);
    }
}

// ---------------------------------------------------------------- debug

void event_loop::track(live_manager* m) noexcept {
    m->loop = this;
    m->prev = nullptr;
    m->next = live_managers_;
    if (live_managers_ != nullptr) live_managers_->prev = m;
    live_managers_ = m;
}

void event_loop::untrack(live_manager* m) noexcept {
    if (m->prev != nullptr) m->prev->next = m->next;
    else if (live_managers_ == m) live_managers_ = m->next;
    if (m->next != nullptr) m->next->prev = m->prev;
    m->prev = m->next = nullptr;
    m->loop = nullptr;
}

void event_loop::report_alive_at_end() {
    for (cancel_scope* s = detached_.first_child; s != nullptr; s = s->next_sibling) {
        std::fprintf(stderr, "corio debug: task ");
        fiber* owner = s->is_fiber_root() ? fiber_of_root(s) : nullptr;
        if (owner != nullptr) {
            print_origin(stderr, owner->root_promise->origin());
            std::fprintf(stderr, " ");
        }
        std::fprintf(stderr, "still alive at loop end");
        if (owner != nullptr) print_location(owner->where);
        std::fprintf(stderr, "\n");
    }
    for (live_manager* m = live_managers_; m != nullptr;) {
        std::fprintf(stderr, "corio debug: %s still entered at loop end", m->what);
        print_location(m->where);
        std::fprintf(stderr, "\n");
        live_manager* next = m->next;
        m->loop = nullptr;  // its owner may outlive us: it must not untrack later
        m->prev = m->next = nullptr;
        m = next;
    }
    live_managers_ = nullptr;
}

}  // namespace corio::detail
