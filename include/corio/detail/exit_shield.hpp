// Protects an exit (aexit, an exit_stack callback) from the cancellations
// already in effect when it starts, and only from those: a cancellation that
// starts later (an enclosing timeout expiring during the exit) still applies.
// When nothing is cancelled at the start, no scope is needed at all.
#pragma once

#include <optional>

#include <corio/detail/event_loop.hpp>
#include <corio/detail/fiber.hpp>

namespace corio::detail {

class exit_shield {
public:
    exit_shield() noexcept : fiber_(tls_fiber) {
        if (fiber_ != nullptr && fiber_->cancelled()) [[unlikely]]
            shield();
    }
    ~exit_shield() {
        if (scope_) [[unlikely]]
            fiber_->pop_scope(&*scope_);
    }
    exit_shield(const exit_shield&) = delete;
    exit_shield& operator=(const exit_shield&) = delete;

private:
    // Out of line and cold, so that the common case (nothing cancelled)
    // stays two loads inline in with's exit step.
    [[gnu::noinline, gnu::cold]] void shield() noexcept {
        scope_.emplace(tls_loop->cancel_counter());
        fiber_->push_scope(&*scope_);
    }

    fiber* fiber_;
    std::optional<shielded_scope> scope_;  // built only when needed: with is on hot paths
};

}  // namespace corio::detail
