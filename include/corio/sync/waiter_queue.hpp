// corio/sync/waiter_queue.hpp: what every synchronization primitive is built on.
//
// Not a public API (namespace corio::detail): an intrusive FIFO of waiters,
// the states of one wait, the guard behind `scoped()`, and the ready awaiter
// an `aexit` returns. The waiter nodes live in the awaiting coroutine frames,
// so waiting never allocates. Every primitive follows the protocol of
// detail::sleep_awaiter (see the comment on wait_state below).
// Thread safety: none; one loop owns a primitive (docs say it once).
#pragma once

#include <coroutine>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <corio/detail/event_loop.hpp>
#include <corio/detail/fiber.hpp>

namespace corio::detail {

/// Where one wait stands. The protocol, shared by every awaiter here:
///
///   await_ready ── cancelled ──────────────────────────────▶ idle     (resume throws)
///       │ ── fast path (free, no waiter ahead of us) ──────▶ ready    (resume returns)
///       ▼
///   await_suspend: linked, fiber::waiting = this ───────────▶ waiting
///       │ ── granted (release/put/set/notify) + wake ──────▶ granted  (resume: if the scope
///       │                                                             was cancelled meanwhile,
///       │                                                             hand the grant on, throw)
///       │ ── on_cancel: unlinked + scheduled ──────────────▶ aborted  (resume throws)
///       └── queue shutdown: unlinked + woken ──────────────▶ shut_down
///
/// `granted` is the state asyncio got wrong for years (bpo-32734, gh-90155):
/// the waiter was chosen and woken, then cancelled before it ran. Taking the
/// permit and dropping it would lose the wake-up for everyone behind it, so
/// await_resume gives it to the next waiter instead.
enum class wait_state : unsigned char { idle, ready, waiting, granted, aborted, shut_down };

/// The hook a node type derives from to sit in a waiter_fifo<Node>.
template <class Node>
struct fifo_hook {
    Node* fifo_prev = nullptr;
    Node* fifo_next = nullptr;
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

private:
    Node* head_ = nullptr;
    Node* tail_ = nullptr;
    std::size_t size_ = 0;
};

[[noreturn]] inline void throw_outside_task(std::string_view operation) {
    throw std::logic_error(std::string(operation) + ": not inside a task run by corio::run");
}

/// The fiber awaiting `operation`; std::logic_error outside a task.
inline fiber& waiting_fiber(std::string_view operation) {
    fiber* f = tls_fiber;
    if (f == nullptr) [[unlikely]]
        throw_outside_task(operation);
    return *f;
}

/// The same, for an operation named `type::op` (queue, priority_queue...).
inline fiber& waiting_fiber(std::string_view type, std::string_view op) {
    fiber* f = tls_fiber;
    if (f == nullptr) [[unlikely]]
        throw_outside_task(std::string(type) + "::" + std::string(op));
    return *f;
}

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
