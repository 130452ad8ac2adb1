// Protects an exit (aexit, an exit_stack callback) from the cancellations
// already in effect when it starts, and only from those: a cancellation that
// starts later (an enclosing timeout expiring during the exit) still applies.
// When nothing is cancelled at the start, no scope is needed at all.
#pragma once

#include <corio/detail/event_loop.hpp>
#include <corio/detail/fiber.hpp>

namespace corio::detail {

class exit_shield {
public:
    exit_shield() noexcept : fiber_(tls_fiber) {
        if (fiber_ != nullptr && fiber_->cancelled()) {
            scope_.shield_upto = tls_loop->cancel_counter();
            fiber_->push_scope(&scope_);
            pushed_ = true;
        }
    }
    ~exit_shield() {
        if (pushed_) fiber_->pop_scope(&scope_);
    }
    exit_shield(const exit_shield&) = delete;
    exit_shield& operator=(const exit_shield&) = delete;

private:
    fiber* fiber_;
    cancel_scope scope_;
    bool pushed_ = false;
};

}  // namespace corio::detail
