// Symmetric transfer, with a trampoline where the compiler cannot promise it.
//
// Returning a coroutine_handle from await_suspend is meant to be a tail call,
// so that a chain of 100 000 nested awaits or a loop of 10 million ready
// awaits uses no stack. g++ 12 only emits that tail call when optimizing and
// not under AddressSanitizer (workaround(gcc-12); see
// tests/core/stack_depth_test.cpp): there the resume would nest one native
// frame per transfer and overflow the stack. In that configuration
// `transfer` parks the handle in a thread-local slot and returns to the
// loop, which resumes it at once (before anything else runs), so the order
// of execution is the same in both modes. The loop always drains the slot,
// so code compiled in either mode can be mixed.
#pragma once

#include <coroutine>

#if !defined(CORIO_TRAMPOLINE)
#if defined(__GNUC__) && !defined(__clang__) && (defined(__SANITIZE_ADDRESS__) || !defined(__OPTIMIZE__))
#define CORIO_TRAMPOLINE 1
#else
#define CORIO_TRAMPOLINE 0
#endif
#endif

namespace corio::detail {

constinit inline thread_local void* tls_transfer = nullptr;

inline std::coroutine_handle<> transfer(std::coroutine_handle<> next) noexcept {
#if CORIO_TRAMPOLINE
    tls_transfer = next.address();
    return std::noop_coroutine();
#else
    return next;
#endif
}

/// Resumes `h` and whatever it transferred to through the trampoline.
inline void resume_with_trampoline(std::coroutine_handle<> h) {
    h.resume();
    while (void* next = tls_transfer) {
        tls_transfer = nullptr;
        std::coroutine_handle<>::from_address(next).resume();
    }
}

}  // namespace corio::detail
