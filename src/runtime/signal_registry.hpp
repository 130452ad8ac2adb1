// The signals one event loop handles (private to the runtime).
//
// The C handler, which may run on any thread, only sets a flag per signal and
// wakes the owning loop; the loop then starts one task per delivery. Which
// loop owns a signal is process-wide state (a signal disposition is), so two
// loops cannot handle the same signal.
#pragma once

#include <signal.h>

#include <functional>
#include <vector>

#include <corio/detail/event_loop.hpp>
#include <corio/task.hpp>

namespace corio::detail {

/// Restores the default action of `signo`, unblocks it and raises it; when
/// that does not end the process (a signal ignored by default), exits with
/// 128 + signo.
[[noreturn]] void reraise_signal(int signo) noexcept;

class signal_registry {
public:
    explicit signal_registry(event_loop& loop) : loop_(loop) {}
    ~signal_registry();  // restores every disposition

    /// `start` null: a shutdown signal, handled by the loop itself.
    void add(int signo, std::function<task<>()> start, const char* operation);
    bool remove(int signo);
    bool empty() const noexcept { return count_ == 0; }
    /// Starts the callbacks of the signals that arrived; returns the
    /// shutdown signal that arrived, or 0.
    int dispatch();

private:
    struct entry {
        bool installed = false;
        bool shutdown = false;
        std::function<task<>()> start;
        struct sigaction previous {};
    };
    void restore(int signo, entry& e) noexcept;

    event_loop& loop_;
    std::vector<entry> entries_;
    int count_ = 0;
};

}  // namespace corio::detail
