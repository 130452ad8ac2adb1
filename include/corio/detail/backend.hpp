// The seam between the event loop and the operating system.
//
// The loop knows nothing of sockets or files: it asks its backend to wait
// (for I/O completions, or a wake-up from another thread) until the next timer
// is due. I/O awaiters hand their io_op to `submit` and are resumed by its
// `complete` callback. One class per backend, in its own file (a kqueue
// backend would implement these six functions).
#pragma once

#include <chrono>
#include <memory>

namespace corio {
// Declared here, defined in corio/runtime/run_options.hpp (detail/ does not
// include public headers: they are built on it).
enum class backend_kind;
struct run_options;
}  // namespace corio

namespace corio::detail {

struct io_op;

class backend {
public:
    virtual ~backend() = default;
    virtual backend_kind kind() const noexcept = 0;
    /// Waits for completions or wake() for at most `timeout`
    /// (negative: without limit; zero: only collects what is ready).
    virtual void wait(std::chrono::nanoseconds timeout) = 0;
    /// Interrupts a wait; callable from any thread.
    virtual void wake() noexcept = 0;
    /// Operations in flight that may still wake a fiber (used to tell a
    /// deadlock from a wait for I/O).
    virtual bool has_pending() const noexcept = 0;
    /// Starts `op`. True when it completed at once (`op->result` is set and
    /// `complete` will not be called); else `complete` runs on the loop
    /// thread later, exactly once.
    virtual bool submit(io_op* op) = 0;
    /// Asks the kernel to abandon `op`; its completion still comes (with
    /// -ECANCELED, or its result when it had already finished).
    virtual void cancel(io_op* op) noexcept = 0;
    /// `fd` is about to be closed with no op in flight: drop what the
    /// backend keeps for it (epoll's registration), since the number will
    /// be reused.
    virtual void forget(int fd) noexcept = 0;
};

/// The backend for `requested` (`automatic` reads CORIO_BACKEND, then probes).
std::unique_ptr<backend> make_backend(backend_kind requested);

}  // namespace corio::detail
