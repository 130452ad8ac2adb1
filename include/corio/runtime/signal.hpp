// corio/runtime/signal.hpp: Unix signals on the event loop (loop.add_signal_handler).
//
//   corio::add_signal_handler(SIGHUP, [&config] { config.reload_requested = true; });
//   corio::add_signal_handler(SIGUSR1, []() -> corio::task<> { co_await dump_stats(); });
//
// Each time the signal arrives, the callback runs on the loop's thread in a
// task of its own (so it may await, spawn, set events, cancel handles); a
// callback that gives a task has it awaited there. The callback is stored by
// value, and each run copies it into the task's frame. The C handler only
// records the signal and wakes the loop, so it is safe whichever thread the
// kernel picks. A later add replaces the handler; remove_signal_handler and
// the end of the loop restore what was there before.
//
// Graceful shutdown is an option of run:
//   return corio::run(amain(), {.shutdown_signals = {SIGINT, SIGTERM}});
// The first such signal cancels the main task (its exits run, then every
// other task is cancelled and awaited as usual); once the loop has ended, the
// signal is raised again with its default action, so the process leaves with
// the conventional status (128 + signo in a shell). A second one during
// that shutdown ends the process at once.
#pragma once

#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>

#include <corio/task.hpp>

namespace corio {

namespace detail {

template <class F>
task<> run_signal_callback(F f) {  // f lives in this frame
    if constexpr (std::is_void_v<std::invoke_result_t<F&>>) std::invoke(f);
    else co_await std::invoke(f);
}

void install_signal_handler(int signo, std::function<task<>()> start);

}  // namespace detail

/// Runs `callback` (void() or task<>()) in a new task each time `signo`
/// arrives. SIGKILL, SIGSTOP and numbers that are no signal are
/// std::invalid_argument; a signal another thread's loop handles is
/// std::logic_error.
template <class F>
    requires std::invocable<F&> && std::copy_constructible<F>
void add_signal_handler(int signo, F callback) {
    detail::install_signal_handler(signo, [f = std::move(callback)]() { return detail::run_signal_callback(f); });
}

/// Restores the disposition from before add_signal_handler; false when
/// this loop had no handler for `signo`.
bool remove_signal_handler(int signo);

}  // namespace corio
