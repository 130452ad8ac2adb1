// bench/sync_lock.cpp: corio::lock.
//   with_lock_uncontended  co_await with(l, body) on a lock nobody else wants
//   lock_handoff           per handoff: one task releases the lock while the other
//                          waits in acquire(), then waits in acquire() itself; the
//                          FIFO-fair lock goes to the waiter. One iteration of the
//                          measured loop is 2 handoffs (there and back).
// Diagnostic (not in the table's targets):
//   lock_acquire_release   co_await l.acquire(); l.release(); uncontended, without `with`
#include <chrono>

#include <benchmark/benchmark.h>

#include <corio/run.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/sync/lock.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>
#include <corio/context/with.hpp>

#include "bench_util.hpp"

namespace {

using namespace std::chrono_literals;

corio::task<> with_lock_loop(benchmark::State& state) {
    corio::lock l;
    for (auto _ : state) co_await corio::with(l, [](corio::lock&) -> corio::task<> { co_return; });
}

void with_lock_uncontended(benchmark::State& state) {
    corio::run(with_lock_loop(state));
    corio_bench::report_ops(state);
}
BENCHMARK(with_lock_uncontended);

corio::task<> acquire_release_loop(benchmark::State& state) {
    corio::lock l;
    for (auto _ : state) {
        co_await l.acquire();
        l.release();
    }
}

void lock_acquire_release(benchmark::State& state) {
    corio::run(acquire_release_loop(state));
    corio_bench::report_ops(state);
}
BENCHMARK(lock_acquire_release);

corio::task<> handoff_partner(corio::lock& l, benchmark::IterationCount n, benchmark::IterationCount& turns) {
    co_await l.acquire();
    for (benchmark::IterationCount i = 0; i < n; ++i) {
        ++turns;
        l.release();
        co_await l.acquire();
    }
    l.release();
}

corio::task<> handoff_loop(benchmark::State& state) {
    corio::lock l;
    co_await l.acquire();
    benchmark::IterationCount turns = 0;  // the partner's, to check that the lock was handed over
    auto partner = corio::spawn(handoff_partner(l, state.max_iterations, turns));
    co_await corio::sleep(0s);  // the partner now waits in acquire()
    for (auto _ : state) {
        l.release();            // handoff 1: to the partner, which hands it back (2)
        co_await l.acquire();
    }
    const bool handed = turns == state.iterations();
    l.release();
    co_await partner;
    if (!handed) state.SkipWithError("the lock was not handed to the waiting task (not FIFO-fair?)");
}

void lock_handoff(benchmark::State& state) {
    corio::run(handoff_loop(state));
    corio_bench::report_ops(state, 2);
}
BENCHMARK(lock_handoff);

}  // namespace
