// bench/sync_queue.cpp: corio::queue.
//   queue_ping_pong  per round trip: put a value to the other task on one
//                    unbounded queue, get its answer back from a second one
#include <benchmark/benchmark.h>

#include <corio/run.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/sync/queue.hpp>
#include <corio/task.hpp>

#include "bench_util.hpp"

namespace {

corio::task<> ponger(corio::queue<int>& ping, corio::queue<int>& pong, benchmark::IterationCount n) {
    for (benchmark::IterationCount i = 0; i < n; ++i) {
        int v = co_await ping.get();
        co_await pong.put(v);
    }
}

corio::task<> ping_pong_loop(benchmark::State& state) {
    corio::queue<int> ping, pong;
    auto other = corio::spawn(ponger(ping, pong, state.max_iterations));
    int i = 0;
    for (auto _ : state) {
        co_await ping.put(i++);
        int v = co_await pong.get();
        benchmark::DoNotOptimize(v);
    }
    co_await other;
}

void queue_ping_pong(benchmark::State& state) {
    corio::run(ping_pong_loop(state));
    corio_bench::report_ops(state);
}
BENCHMARK(queue_ping_pong);

}  // namespace
