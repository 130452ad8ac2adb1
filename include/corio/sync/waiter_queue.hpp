// corio/sync/waiter_queue.hpp: how a task waits in a synchronization primitive.
//
// Not a public API (namespace corio::detail). Every awaiter of lock, semaphore,
// event, barrier, condition and the queues derives from `waiter`, which holds
// the whole "check, suspend in the FIFO, register for cancellation, abort"
// protocol once; an awaiter states only what differs: its fast-path grant
// condition (try_now), what a grant hands over (its await_resume), and what a
// grant cancelled before it ran passes on (pass_on). Guarantees of them all:
// - Fairness: FIFO. The primitive grants waiters in the order they began to
//   wait, and the fast path takes only what nobody waits for (a primitive
//   hands what is released straight to its first waiter, so "free" implies
//   "nobody ahead"): a late arrival never overtakes.
// - Cancel safety (cancellation arrives as cancelled_error): a wait inside an
//   already cancelled scope throws having taken nothing, even when what it
//   waits for is free; one cancelled while queued leaves the queue having
//   taken nothing; one granted and cancelled before it ran hands the grant to
//   the next waiter (pass_on), then throws. So a wait that throws
//   cancelled_error has consumed nothing: no permit, item, slot or
//   notification is lost. (A condition's wait, like asyncio's, takes its
//   lock back before it throws: resume_aborted.)
// - Allocation: none. The node (links, fiber, state) is the awaiter itself,
//   which lives in the awaiting frame for as long as the wait lasts.
// - Outside a task run by corio::run: std::logic_error naming the operation
//   (`lock::acquire: not inside a task run by corio::run`).
// Thread safety: none; one loop owns a primitive (docs say it once).
#pragma once

#include <coroutine>
#include <cstddef>
#include <utility>

#include <corio/detail/event_loop.hpp>
#include <corio/detail/fiber.hpp>
#include <corio/errors.hpp>

namespace corio::detail {

/// Where one wait stands:
///
///   await_ready ── cancelled ──────────────────────────────▶ idle     (resume throws)
///       │ ── try_now: free, nobody waits ahead ────────────▶ ready    (resume returns)
///       │ ── try_now: queue shut down ─────────────────────▶ shut_down
///       ▼
///   await_suspend: linked, fiber::waiting = this ───────────▶ waiting
///       │ ── granted (release/put/set/notify) + wake ──────▶ granted  (resume: if the scope
///       │                                                             was cancelled meanwhile,
///       │                                                             pass_on, throw)
///       │ ── on_cancel: unlinked + resume_aborted ─────────▶ aborted  (resume throws)
///       └── queue shutdown: unlinked + woken ──────────────▶ shut_down
///
/// `granted` is the state asyncio got wrong for years (bpo-32734, gh-90155):
/// the waiter was chosen and woken, then cancelled before it ran. Taking the
/// permit and dropping it would lose the wake-up for everyone behind it, so
/// the waiter gives it to the next one instead.
enum class wait_state : unsigned char { idle, ready, waiting, granted, aborted, shut_down };

/// The hook a node type derives from to sit in a waiter_fifo<Node>.
template <class Node>
struct fifo_hook {
    Node* fifo_prev = nullptr;
    Node* fifo_next = nullptr;
};

/// What a primitive sees of one waiter: its links, its fiber, its state.
template <class Node>
struct waiter_node : fifo_hook<Node> {
    fiber* self = nullptr;
    wait_state state = wait_state::idle;

    /// Ends a wait the primitive has unlinked: `granted` or `shut_down`.
    void wake(wait_state outcome) noexcept {
        state = outcome;
        tls_loop->wake(self);
    }
};

/// An intrusive doubly-linked FIFO: O(1) push, pop and erase from the middle
/// (a cancelled waiter leaves from wherever it stands).
template <class Node>
class waiter_fifo {
public:
    waiter_fifo() noexcept = default;
    waiter_fifo(const waiter_fifo&) = delete;
    waiter_fifo& operator=(const waiter_fifo&) = delete;

    bool empty() const noexcept { return head_ == nullptr; }
    std::size_t size() const noexcept { return size_; }
    Node* front() const noexcept { return head_; }

    void push_back(Node* n) noexcept {
        n->fifo_prev = tail_;
        n->fifo_next = nullptr;
        if (tail_ != nullptr) tail_->fifo_next = n;
        else head_ = n;
        tail_ = n;
        ++size_;
    }
    Node* pop_front() noexcept {
        Node* n = head_;
        if (n != nullptr) erase(n);
        return n;
    }
    void erase(Node* n) noexcept {
        if (n->fifo_prev != nullptr) n->fifo_prev->fifo_next = n->fifo_next;
        else head_ = n->fifo_next;
        if (n->fifo_next != nullptr) n->fifo_next->fifo_prev = n->fifo_prev;
        else tail_ = n->fifo_prev;
        n->fifo_prev = n->fifo_next = nullptr;
        --size_;
    }
    /// Ends every wait, first in first out, with `outcome` (event::set,
    /// queue::join's wake-up, shutdown).
    void wake_all(wait_state outcome) noexcept {
        while (Node* n = pop_front()) n->wake(outcome);
    }

private:
    Node* head_ = nullptr;
    Node* tail_ = nullptr;
    std::size_t size_ = 0;
};

/// The base of every awaiter that waits in a primitive (CRTP). `Derived`
/// defines, private with `waiter` as a friend:
///   operation_name operation() const      what errors call it (`lock::acquire`)
///   waiter_fifo<N>& fifo()                the FIFO it waits in
///   wait_state try_now()                  the fast path: take what it waits
///                                         for and give `ready`, end at once
///                                         with `shut_down`, or give `waiting`
/// and may redefine:
///   void pass_on()                 granted, then cancelled before it ran: give
///                                  the grant to the next waiter (default:
///                                  nothing to pass, everyone was woken)
///   void resume_aborted() noexcept unlinked by cancellation: schedule the task
///                                  (default), or first get back what the wait
///                                  gave up (condition: its lock)
/// Its await_resume starts with finish(). A wait with more to do than this
/// (condition: a misuse check first, no fast path, a lock to release once
/// queued) hides await_ready or await_suspend and builds on the base's.
/// `Node` is what the FIFO holds: the awaiter itself, or a node type shared
/// with waits that are no awaiter of this kind (the lock's queue also holds
/// a condition's re-acquisitions).
template <class Derived, class Node = waiter_node<Derived>>
class waiter : public Node, private wait_node {
public:
    bool await_ready() {
        this->self = &running_fiber(derived().operation());
        // Checked before the fast path: a cancelled scope takes nothing.
        if (this->self->cancelled()) return true;  // idle: finish() throws
        this->state = derived().try_now();
        return this->state != wait_state::waiting;
    }
    void await_suspend(std::coroutine_handle<> h) noexcept {
        this->self->resume_point = h;
        this->state = wait_state::waiting;
        derived().fifo().push_back(&derived());
        on_cancel = &abort;
        this->self->waiting = this;
    }

protected:
    /// The start of every await_resume: how the wait ended (ready, granted or
    /// shut_down), or cancelled_error, a grant having been passed on first.
    wait_state finish() {
        if (this->state == wait_state::ready) return wait_state::ready;
        if (this->state == wait_state::granted && !this->self->cancelled()) [[likely]]
            return wait_state::granted;
        return finish_otherwise();
    }

    void pass_on() noexcept {}
    void resume_aborted() noexcept { tls_loop->schedule(this->self); }

private:
    // Out of line: with the throw inside, await_resume would no longer be
    // inlined into the awaiting coroutine (+0.3 ns per with(lock)).
    [[gnu::noinline]] wait_state finish_otherwise() {
        if (this->state == wait_state::shut_down && !this->self->cancelled()) return wait_state::shut_down;
        if (this->state == wait_state::granted) derived().pass_on();  // cancelled after the grant
        throw cancelled_error{};  // also idle (cancelled on entry), aborted, shut_down and cancelled
    }

    Derived& derived() noexcept { return static_cast<Derived&>(*this); }

    // fiber::interrupt has already cleared fiber::waiting.
    static void abort(wait_node* w) noexcept {
        Derived& d = static_cast<waiter*>(w)->derived();
        d.fifo().erase(&d);
        d.state = wait_state::aborted;
        d.resume_aborted();
    }
};

/// The awaitable `aexit` of a lock, semaphore or condition returns: it calls
/// `release()` when awaited (not when created: aexit is lazy like a task) and
/// gives false (never suppresses). It never suspends, so it cannot be
/// cancelled: an exit always releases.
template <class Primitive>
class release_on_await {
public:
    explicit release_on_await(Primitive& p) noexcept : p_(&p) {}
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    bool await_resume() const {
        p_->release();
        return false;
    }

private:
    Primitive* p_;
};

/// What `co_await x.scoped()` gives: owns one acquisition of `Primitive` and
/// releases it when destroyed (or at `reset()`). Movable, not copyable.
/// Do not call the primitive's release() yourself while a guard owns it.
template <class Primitive>
class [[nodiscard]] release_guard {
public:
    explicit release_guard(Primitive& p) noexcept : p_(&p) {}
    release_guard(release_guard&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
    release_guard& operator=(release_guard&& other) noexcept {
        if (this != &other) {
            reset();
            p_ = std::exchange(other.p_, nullptr);
        }
        return *this;
    }
    release_guard(const release_guard&) = delete;
    release_guard& operator=(const release_guard&) = delete;
    ~release_guard() { reset(); }

    /// Releases now; the destructor then does nothing.
    void reset() noexcept {
        // release() only throws when the primitive is not held, which a
        // guard that owns it rules out (unless released behind its back).
        if (p_ != nullptr) std::exchange(p_, nullptr)->release();
    }
    /// True until reset() or a move away.
    bool owns() const noexcept { return p_ != nullptr; }
    explicit operator bool() const noexcept { return owns(); }

private:
    Primitive* p_;
};

}  // namespace corio::detail
