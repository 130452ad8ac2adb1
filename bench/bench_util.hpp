// bench/bench_util.hpp: what every corio_bench file shares.
//
// Each benchmark runs its whole `for (auto _ : state)` loop inside one task
// started by corio::run, so the loop's creation is paid once per batch of
// iterations, not per operation. An iteration performs `ops_per_iter`
// operations (1 for most; see the benchmark's comment); report_ops() records
// that as two counters:
//   ops_per_iter  read by bench/compare.py (ns/op = cpu_time / ops_per_iter)
//   per_op        CPU seconds per operation, shown by Google Benchmark's own
//                 console output (e.g. "per_op=12.3n" is 12.3 ns)
#pragma once

#include <benchmark/benchmark.h>

namespace corio_bench {

inline void report_ops(benchmark::State& state, double ops_per_iter = 1) {
    state.counters["ops_per_iter"] = benchmark::Counter(ops_per_iter);
    state.counters["per_op"] = benchmark::Counter(
        ops_per_iter, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ops_per_iter));
}

}  // namespace corio_bench
