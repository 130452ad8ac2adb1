// Cancelling a scope (detail/fiber.hpp): the scope gets the next
// cancellation number, and every fiber waiting inside its subtree that no
// shield protects from that number is interrupted, so that its pending await
// throws cancelled_error. Level-triggered: a fiber that was not waiting sees
// the cancellation at its next await.
#include <corio/detail/event_loop.hpp>
#include <corio/detail/fiber.hpp>

namespace corio::detail {

namespace {

// Interrupts every fiber whose innermost scope lies in `s`'s subtree and is
// not shielded from cancellation number `n`. `owner` is the fiber `s`
// belongs to (owner_of), passed down so that the walk finds each scope's
// fiber without a pointer in every scope. Interrupting only unlinks waits
// and schedules fibers, so the tree does not change while it is walked.
void propagate(cancel_scope* s, std::uint64_t n, fiber* owner) noexcept {
    if (s->is_fiber_root()) owner = fiber_of_root(s);
    if (owner != nullptr && owner->scope == s) owner->interrupt();
    for (cancel_scope* c = s->first_child; c != nullptr; c = c->next_sibling)
        if (shield_of(c) < n) propagate(c, n, owner);
}

}  // namespace

void cancel_scope::cancel() noexcept {
    if (cancelled_at() != 0 || tls_loop == nullptr) return;
    const std::uint64_t n = tls_loop->next_cancel_number();
    set_bits((bits() & ~number_mask) | n);
    propagate(this, n, owner_of(this));
}

}  // namespace corio::detail
