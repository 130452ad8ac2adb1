// add_signal_handler / remove_signal_handler and run's shutdown signals.
#include <signal.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

#include <corio/runtime/signal.hpp>
#include <corio/tasks/spawn.hpp>

#include "signal_registry.hpp"

namespace corio::detail {

namespace {

// Process-wide: which loop handles each signal, and which have arrived.
// Lock-free atomics are async-signal-safe.
std::array<std::atomic<event_loop*>, NSIG> owners{};
std::array<std::atomic<bool>, NSIG> arrived{};

extern "C" void on_signal(int signo) {
    const int saved_errno = errno;
    if (signo > 0 && signo < NSIG) {
        if (event_loop* loop = owners[static_cast<std::size_t>(signo)].load(std::memory_order_acquire)) {
            arrived[static_cast<std::size_t>(signo)].store(true, std::memory_order_release);
            loop->signal_arrived();
        }
    }
    errno = saved_errno;
}

std::string signal_name(int signo) {
    const char* abbrev = ::sigabbrev_np(signo);
    return abbrev != nullptr ? "SIG" + std::string(abbrev) : std::to_string(signo);
}

}  // namespace

void reraise_signal(int signo) noexcept {
    std::fflush(nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigemptyset(&dfl.sa_mask);
    ::sigaction(signo, &dfl, nullptr);
    sigset_t set;
    ::sigemptyset(&set);
    ::sigaddset(&set, signo);
    ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    ::raise(signo);
    std::_Exit(128 + signo);  // its default action is to be ignored
}

signal_registry::~signal_registry() {
    for (std::size_t i = 0; i < entries_.size(); ++i)
        if (entries_[i].installed) restore(static_cast<int>(i), entries_[i]);
}

void signal_registry::add(int signo, std::function<task<>()> start, const char* operation) {
    if (signo <= 0 || signo >= NSIG)
        throw std::invalid_argument(std::string(operation) + ": " + std::to_string(signo) + " is not a signal number");
    if (signo == SIGKILL || signo == SIGSTOP)
        throw std::invalid_argument(std::string(operation) + ": " + signal_name(signo) + " cannot be caught");
    if (entries_.size() < NSIG) entries_.resize(NSIG);
    entry& e = entries_[static_cast<std::size_t>(signo)];
    if (!e.installed) {
        event_loop* expected = nullptr;
        if (!owners[static_cast<std::size_t>(signo)].compare_exchange_strong(expected, &loop_))
            throw std::logic_error(std::string(operation) + ": " + signal_name(signo) +
                                   " is already handled by the event loop of another thread");
        struct sigaction sa {};
        sa.sa_handler = &on_signal;
        ::sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        if (::sigaction(signo, &sa, &e.previous) != 0) {
            const int error = errno;
            owners[static_cast<std::size_t>(signo)].store(nullptr);
            throw std::system_error(error, std::generic_category(), std::string(operation) + ": sigaction(" + signal_name(signo) + ")");
        }
        // A signal blocked in this thread would still reach another thread
        // that does not block it; unblocking here makes delivery prompt.
        sigset_t set;
        ::sigemptyset(&set);
        ::sigaddset(&set, signo);
        ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
        e.installed = true;
        ++count_;
    }
    e.shutdown = !start;
    e.start = std::move(start);
}

void signal_registry::restore(int signo, entry& e) noexcept {
    ::sigaction(signo, &e.previous, nullptr);
    owners[static_cast<std::size_t>(signo)].store(nullptr, std::memory_order_release);
    arrived[static_cast<std::size_t>(signo)].store(false);
    e.installed = false;
    e.start = nullptr;
    --count_;
}

bool signal_registry::remove(int signo) {
    if (signo <= 0 || signo >= NSIG || static_cast<std::size_t>(signo) >= entries_.size()) return false;
    entry& e = entries_[static_cast<std::size_t>(signo)];
    if (!e.installed) return false;
    restore(signo, e);
    return true;
}

int signal_registry::dispatch() {
    int shutdown = 0;
    for (std::size_t i = 1; i < entries_.size(); ++i) {
        entry& e = entries_[i];
        if (!e.installed || !arrived[i].exchange(false, std::memory_order_acq_rel)) continue;
        if (e.shutdown) {
            shutdown = static_cast<int>(i);
            continue;
        }
        task<> t = e.start();  // copies the callback into the new task's frame
        auto h = t.release();
        loop_.start_fiber(h, &h.promise(), &loop_.detached_scope(), {});
    }
    return shutdown;
}

signal_registry& event_loop::signals() {
    if (!signals_) signals_ = std::make_unique<signal_registry>(*this);
    return *signals_;
}

void event_loop::dispatch_signals() {
    signals_pending_.store(false, std::memory_order_release);
    if (!signals_) return;
    const int signo = signals_->dispatch();
    if (signo == 0) return;
    if (shutdown_signal_ != 0) {
        std::fprintf(stderr, "corio: %s again during shutdown: exiting now\n", signal_name(signo).c_str());
        reraise_signal(signo);
    }
    shutdown_signal_ = signo;
    if (main_ != nullptr && !main_->done()) main_->root().cancel();
}

void install_signal_handler(int signo, std::function<task<>()> start) {
    event_loop::current("add_signal_handler").signals().add(signo, std::move(start), "add_signal_handler");
}

}  // namespace corio::detail

namespace corio {

bool remove_signal_handler(int signo) {
    detail::event_loop& loop = detail::event_loop::current("remove_signal_handler");
    return loop.signals().remove(signo);
}

}  // namespace corio
