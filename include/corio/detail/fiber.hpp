// Fibers, cancel scopes and cancellable waits: the model underneath every await.
//
// A *fiber* is one unit of scheduling (asyncio's Task): a chain of task frames
// awaiting each other, of which only the innermost (the leaf) is ever
// suspended on something. `spawn`, `gather`, `task_group` create fibers;
// `co_await some_task` runs the task inside the awaiter's fiber.
//
// Cancellation is level-triggered (Trio): cancel scopes form one tree per
// loop. A fiber sits in a chain of scopes (innermost: `fiber::scope`); it is
// cancelled while any scope on that chain is cancelled and no shield between
// them stops it. A shield stops cancellations whose sequence number is at most
// `shield_upto` (UINT64_MAX: all of them, for `shield()`; "every cancellation
// in effect so far", for the exits of context managers, so that a later one
// still applies). Scopes of child fibers (task_group, gather) are children of
// the spawner's scope, so cancelling an outer scope reaches them too.
//
// A suspended fiber that waits cancellably has `waiting` set: cancelling a
// scope walks its subtree and calls `on_cancel` of each waiting fiber found,
// which unlinks the wait and schedules the fiber; the awaiter's await_resume
// then throws cancelled_error. A scope does not name the fiber it belongs to:
// that is the fiber whose root scope is its nearest root ancestor (a fiber
// links the scopes it enters under its current one), which the walk tracks.
//
// Sizes matter here: a sleeping task is a fiber, its frame (a task promise
// and a sleep awaiter) and a slot in the timer heap, and a million of them
// is the memory benchmark (bench/core_memory.cpp).
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <corio/detail/source_location.hpp>

namespace corio::detail {

class event_loop;
struct fiber;

using clock = std::chrono::steady_clock;

inline constexpr std::uint64_t shield_all = ~std::uint64_t{0};

struct cancel_scope {
    cancel_scope* parent = nullptr;
    cancel_scope* first_child = nullptr;
    cancel_scope* prev_sibling = nullptr;
    cancel_scope* next_sibling = nullptr;
    // One word holds the cancellation's number (0 if none; 56 bits, 7e16
    // cancellations: event_loop::next_cancel_number stops the loop before it
    // wraps), what kind of scope this is and, in a fiber's root, the
    // fiber's state (fiber's accessors): a fiber is a scope (its root), and
    // a sleeping task's fiber is a byte cost per task (bench/core_memory.cpp).
    std::uint64_t cancelled_at() const noexcept { return bits() & number_mask; }
    bool is_fiber_root() const noexcept { return (bits() & fiber_root_bit) != 0; }
    bool is_shield() const noexcept { return (bits() & shield_bit) != 0; }

    // Children are kept in the order they were linked, so a cancellation
    // interrupts waiting tasks first in, first out (run's shutdown cancels
    // detached tasks in spawn order). The first child's prev_sibling points
    // at the last child, so appending is O(1); next_sibling ends with null.
    void link_under(cancel_scope* p) noexcept {
        parent = p;
        next_sibling = nullptr;
        if (p == nullptr) {
            prev_sibling = nullptr;
            return;
        }
        if (cancel_scope* first = p->first_child) {
            cancel_scope* last = first->prev_sibling;
            last->next_sibling = this;
            prev_sibling = last;
            first->prev_sibling = this;
        } else {
            prev_sibling = this;
            p->first_child = this;
        }
    }
    void unlink() noexcept {
        if (parent != nullptr) {
            cancel_scope* first = parent->first_child;
            if (this == first) {
                parent->first_child = next_sibling;
                if (next_sibling != nullptr) next_sibling->prev_sibling = prev_sibling;  // keeps the last
            } else {
                prev_sibling->next_sibling = next_sibling;
                if (next_sibling != nullptr) next_sibling->prev_sibling = prev_sibling;
                else first->prev_sibling = prev_sibling;  // we were the last
            }
        }
        parent = prev_sibling = next_sibling = nullptr;
    }
    bool cancelled() const noexcept { return cancelled_at() != 0; }

    // Marks this scope cancelled and interrupts every fiber waiting inside it.
    void cancel() noexcept;

protected:
    static constexpr std::uint64_t number_mask = (std::uint64_t{1} << 56) - 1;
    static constexpr std::uint64_t fiber_root_bit = std::uint64_t{1} << 56;
    static constexpr std::uint64_t shield_bit = std::uint64_t{1} << 57;
    static constexpr std::uint64_t done_bit = std::uint64_t{1} << 58;
    static constexpr std::uint64_t retrieved_bit = std::uint64_t{1} << 59;
    static constexpr std::uint64_t queued_bit = std::uint64_t{1} << 60;
    static constexpr std::uint64_t joined_bit = std::uint64_t{1} << 61;
    static constexpr unsigned refs_shift = 62;

    // Every access is one whole-word load or store. Relaxed atomic
    // accesses are plain moves on x86-64 that the compiler never narrows;
    // with bitfields it wrote `queued` with a one-byte `or`, and the next
    // whole-word read of the same word (refs, right after spawn) missed
    // store forwarding: spawn + join took 51 ns instead of 38 (measured).
    std::uint64_t bits() const noexcept { return __atomic_load_n(&word_, __ATOMIC_RELAXED); }
    void set_bits(std::uint64_t w) noexcept { __atomic_store_n(&word_, w, __ATOMIC_RELAXED); }
    void set_flag(std::uint64_t bit, bool on) noexcept {
        const std::uint64_t w = bits();
        set_bits(on ? (w | bit) : (w & ~bit));
    }

private:
    std::uint64_t word_ = 0;
};

inline constexpr std::uint64_t max_cancel_number = (std::uint64_t{1} << 56) - 1;

/// A scope that stops cancellations numbered up to `shield_upto` from
/// reaching inside (shield(), and the exits of context managers). Only these
/// scopes carry the number: a fiber's root is not one.
struct shielded_scope : cancel_scope {
    explicit shielded_scope(std::uint64_t upto) noexcept : shield_upto(upto) { set_flag(shield_bit, true); }
    std::uint64_t shield_upto;
};

/// The cancellations that `s` stops from passing inward (0: none).
inline std::uint64_t shield_of(const cancel_scope* s) noexcept {
    return s->is_shield() ? static_cast<const shielded_scope*>(s)->shield_upto : 0;
}

/// A suspension that cancellation can interrupt. `on_cancel` must remove the
/// wait from whatever holds it and schedule the fiber (fiber::wake). A
/// timer_node is a wait_node too: the loop calls the same function when the
/// deadline passes (see timer_node).
struct wait_node {
    void (*on_cancel)(wait_node*) noexcept = nullptr;
};

/// Whether a fiber whose innermost scope is `s` is cancelled: some scope on
/// the chain from `s` outward is cancelled and no shield below it stops it.
inline bool cancelled_from(const cancel_scope* s) noexcept {
    std::uint64_t shielded = 0;
    for (; s != nullptr; s = s->parent) {
        if (s->cancelled_at() > shielded) return true;
        if (s->is_shield() && shield_of(s) > shielded) shielded = shield_of(s);
    }
    return false;
}

/// What wants to know that a fiber's root task has finished (fiber::on_done):
/// a task_group, gather or server counting its fibers, or a join_handle's
/// awaiter (which passes the news on to the listener it replaced).
struct fiber_listener {
    void (*fiber_done)(fiber* f, fiber_listener* self) noexcept = nullptr;
};

// 88 bytes (with a one-pointer source_location), so that with malloc's
// header it fills a 96-byte chunk: a sleeping task is this plus its frame
// (bench/core_memory.cpp). The fiber is its own root scope (the base), whose
// word also holds the fiber's state (the accessors below).
struct fiber : cancel_scope {
    fiber() noexcept { set_flag(fiber_root_bit, true); }

    /// The root task has ended.
    bool done() const noexcept { return (bits() & done_bit) != 0; }
    void set_done() noexcept { set_flag(done_bit, true); }
    /// Somebody saw the outcome (else a failure is reported at release).
    bool result_retrieved() const noexcept { return (bits() & retrieved_bit) != 0; }
    void set_result_retrieved() noexcept { set_flag(retrieved_bit, true); }
    /// In the ready queue: the shared word holds next_ready, not waiting.
    bool queued() const noexcept { return (bits() & queued_bit) != 0; }
    void set_queued(bool q) noexcept { set_flag(queued_bit, q); }
    /// A join_handle's awaiter listens (one at a time).
    bool joined() const noexcept { return (bits() & joined_bit) != 0; }
    void set_joined(bool j) noexcept { set_flag(joined_bit, j); }
    /// References: running, and a join_handle; at most 2.
    unsigned refs() const noexcept { return static_cast<unsigned>(bits() >> refs_shift); }
    void set_refs(unsigned n) noexcept {
        set_bits((bits() & ~(std::uint64_t{3} << refs_shift)) | (std::uint64_t{n} << refs_shift));
    }

    std::coroutine_handle<> resume_point;  // the leaf to resume when scheduled
    // A fiber in the ready queue is not waiting, and a waiting one is not in
    // the queue, so the queue's link and the wait share a word; `queued`
    // says which one it holds (the loop's schedule and run_batch switch it).
    union {
        wait_node* waiting = nullptr;      // set while suspended cancellably
        fiber* next_ready;                 // intrusive ready-queue link
    };
    cancel_scope* scope = this;            // innermost scope (at first the root)
    // The task this fiber runs. Its frame is found from the promise
    // (root_task()), so the fiber does not keep the handle too.
    struct promise_base* root_promise = nullptr;
    // Told when the root task has finished (result stored): task_group,
    // gather and servers count their fibers here, and a join_handle's
    // awaiter wakes its fiber (after telling the listener it replaced, so
    // the count comes first). One pointer (not a function and a context,
    // nor a separate joiner): a sleeping task's fiber is a byte cost per task.
    struct fiber_listener* on_done = nullptr;
    corio::source_location where;            // spawn's caller, for reports

    /// The fiber's own scope (join_handle::cancel cancels it).
    cancel_scope& root() noexcept { return *this; }

    /// The root task's frame. Every promise type a fiber runs derives from
    /// promise_base first and is at most 16-aligned, so the promise sits two
    /// pointers into the frame on g++ and clang (event_loop::start_fiber
    /// checks it for every fiber it starts).
    /// (Defined in promise_base.hpp, where promise_base is complete.)
    std::coroutine_handle<> root_task() const noexcept;

    /// Effective cancellation: some scope on the chain is cancelled and no
    /// shield below it stops that cancellation.
    bool cancelled() const noexcept { return cancelled_from(scope); }

    void push_scope(cancel_scope* s) noexcept {
        s->link_under(scope);
        scope = s;
    }
    // Usually `s` is the innermost scope. It may not be: a timeout's aexit
    // removes its scope while the exit shield that `with` pushed for that
    // aexit is still inside it. Then the scopes inside `s` (and child
    // fibers' roots) move up to `s`'s parent, keeping their own shields.
    void pop_scope(cancel_scope* s) noexcept {
        cancel_scope* up = s->parent;
        while (cancel_scope* c = s->first_child) {
            c->unlink();
            c->link_under(up);
        }
        if (scope == s) scope = up;
        s->unlink();
    }

    // Called by cancellation: abort the current wait, if it can be aborted.
    void interrupt() noexcept {
        if (queued()) return;  // already scheduled: it sees the cancellation when it next waits
        if (wait_node* w = waiting) {
            waiting = nullptr;
            w->on_cancel(w);
        }
    }
};

// 88 bytes where corio::source_location is one pointer (std::source_location);
// clang 14 has none, and its fallback keeps file, function and line.
static_assert(sizeof(fiber) <= 80 + sizeof(corio::source_location),
              "a fiber is a byte cost per sleeping task: keep it in a 96-byte malloc chunk");

/// The fiber whose root is `s` (s->is_fiber_root()).
inline fiber* fiber_of_root(cancel_scope* s) noexcept { return static_cast<fiber*>(s); }

/// The fiber `s` belongs to: the one whose root is `s` or its nearest root
/// ancestor; null for a scope outside every fiber (the loop's own).
inline fiber* owner_of(cancel_scope* s) noexcept {
    for (; s != nullptr; s = s->parent)
        if (s->is_fiber_root()) return fiber_of_root(s);
    return nullptr;
}

/// A timer in the loop's heap. When the deadline passes the loop removes it
/// from the heap and calls `on_cancel` (the wait_node's function): one
/// function pointer, so that a sleep, which is both a cancellable wait and a
/// timer, keeps one (its function removes the timer if still armed, then
/// wakes the fiber). A timer that is no fiber's wait simply fires there.
struct timer_node : wait_node {
    clock::time_point deadline;
    // Insertion number: equal deadlines fire FIFO. 32 bits, so that a node
    // is 24 bytes (a sleeping task's frame holds one); when the counter
    // wraps, the loop renumbers the armed timers in firing order.
    std::uint32_t order = 0;
    std::uint32_t heap_index = ~0u;   // ~0u: not in the heap
    bool armed() const noexcept { return heap_index != ~0u; }

    /// Sets what runs when the deadline passes (null: nothing; a yield).
    void set_fire(void (*f)(wait_node*) noexcept) noexcept { on_cancel = f; }
    bool has_fire() const noexcept { return on_cancel != nullptr; }
    void fire() noexcept { on_cancel(this); }
};

// The running loop and fiber of this thread. constinit: read without TLS guards.
constinit inline thread_local event_loop* tls_loop = nullptr;
constinit inline thread_local fiber* tls_fiber = nullptr;

/// How an error names the operation that failed: `type::member` for a member
/// function (`lock::acquire`, `priority_queue::get`), a single name for a free
/// function (`sleep`) or for a name already written whole. Two pointers, so
/// the fast path passes constants and the text is built only when thrown.
struct operation_name {
    constexpr operation_name(const char* name) noexcept : type(name) {}  // implicit: running_fiber("sleep")
    constexpr operation_name(const char* type_name, const char* member_name) noexcept
        : type(type_name), member(member_name) {}
    const char* type;
    const char* member = nullptr;
};

/// std::logic_error "`op`: not inside a task run by corio::run".
[[noreturn]] void throw_outside_task(operation_name op);

/// The running fiber of whatever awaits `op` (a sync primitive's wait, a
/// sleep, an I/O operation); outside a task run by corio::run,
/// std::logic_error naming `op`.
inline fiber& running_fiber(operation_name op) {
    fiber* f = tls_fiber;
    if (f == nullptr) [[unlikely]]
        throw_outside_task(op);
    return *f;
}

}  // namespace corio::detail
