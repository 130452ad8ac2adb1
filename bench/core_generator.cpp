// bench/core_generator.cpp: async_generator.
//   async_generator_item  one item of `while (auto v = co_await gen.next())` over a
//                         generator that only co_yields (one generator for the
//                         whole measured loop)
#include <cstdint>

#include <benchmark/benchmark.h>

#include <corio/async_generator.hpp>
#include <corio/run.hpp>
#include <corio/task.hpp>

#include "bench_util.hpp"

namespace {

corio::async_generator<std::int64_t> counter() {
    for (std::int64_t i = 0;; ++i) co_yield i;
}

corio::task<> generator_loop(benchmark::State& state) {
    auto gen = counter();
    for (auto _ : state) {
        auto v = co_await gen.next();
        benchmark::DoNotOptimize(v);
    }
    co_await gen.aclose();
}

void async_generator_item(benchmark::State& state) {
    corio::run(generator_loop(state));
    corio_bench::report_ops(state);
}
BENCHMARK(async_generator_item);

}  // namespace
