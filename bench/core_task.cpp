// bench/core_task.cpp: tasks and the loop.
//   co_await_trivial_task  co_await of a trivial task<void> (frame from the cache,
//                          symmetric transfer in and out)
//   spawn_join             spawn(trivial()) then co_await the join_handle
//   sleep0_round_trip      co_await sleep(0s): through the ready queue and back
#include <chrono>

#include <benchmark/benchmark.h>

#include <corio/run.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>

#include "bench_util.hpp"

namespace {

using namespace std::chrono_literals;

corio::task<> trivial() { co_return; }

corio::task<> co_await_trivial_loop(benchmark::State& state) {
    for (auto _ : state) co_await trivial();
}

void co_await_trivial_task(benchmark::State& state) {
    corio::run(co_await_trivial_loop(state));
    corio_bench::report_ops(state);
}
BENCHMARK(co_await_trivial_task);

corio::task<> spawn_join_loop(benchmark::State& state) {
    for (auto _ : state) co_await corio::spawn(trivial());
}

void spawn_join(benchmark::State& state) {
    corio::run(spawn_join_loop(state));
    corio_bench::report_ops(state);
}
BENCHMARK(spawn_join);

corio::task<> sleep0_loop(benchmark::State& state) {
    for (auto _ : state) co_await corio::sleep(0s);
}

void sleep0_round_trip(benchmark::State& state) {
    corio::run(sleep0_loop(state));
    corio_bench::report_ops(state);
}
BENCHMARK(sleep0_round_trip);

}  // namespace
