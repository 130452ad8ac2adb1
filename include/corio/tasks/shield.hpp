// corio/tasks/shield.hpp: shield(awaitable), protection from outside cancellation (Trio's shielded scope).
//
// `co_await corio::shield(aw)` runs `aw` in a scope that no cancellation from
// outside reaches; the awaiter waits for it to finish (as in Trio, unlike
// asyncio.shield which abandons it), and a cancellation that arrived
// meanwhile surfaces at the next unshielded await. The awaitable is stored
// by value in the shield's frame.
#pragma once

#include <utility>

#include <corio/detail/awaitable_traits.hpp>
#include <corio/detail/fiber.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>

namespace corio {

namespace detail {
class shield_scope {
public:
    shield_scope() : fiber_(&running_fiber("shield")) {
        fiber_->push_scope(&scope_);
    }
    ~shield_scope() { fiber_->pop_scope(&scope_); }
    shield_scope(const shield_scope&) = delete;
    shield_scope& operator=(const shield_scope&) = delete;

private:
    fiber* fiber_;
    shielded_scope scope_{shield_all};
};
}  // namespace detail

template <detail::awaitable A>
task<detail::await_result_t<A>> shield(A awaitable) {
    detail::shield_scope scope;
    co_return co_await std::move(awaitable);
}

}  // namespace corio
