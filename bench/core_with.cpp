// bench/core_with.cpp: async context managers.
//   with_class_manager    co_await with(trivial_manager{}, body): aenter (a task) +
//                         empty coroutine body + aexit (a task)
//   with_context_manager  co_await with(trivial_cm(), body), trivial_cm a
//                         context_manager<int> with one co_yield
// Diagnostic (not in the table's targets):
//   with_class_manager_by_hand  the same three coroutines awaited by hand
//                         (co_await m.aenter(); co_await body(v); co_await m.aexit(nullptr)):
//                         the floor for `with` of this manager with no frame of its own
#include <exception>

#include <benchmark/benchmark.h>

#include <corio/context/context_manager.hpp>
#include <corio/run.hpp>
#include <corio/task.hpp>
#include <corio/context/with.hpp>

#include "bench_util.hpp"

namespace {

struct trivial_manager {
    corio::task<trivial_manager&> aenter() { co_return *this; }
    corio::task<bool> aexit(std::exception_ptr) { co_return false; }
};

corio::task<> with_class_loop(benchmark::State& state) {
    for (auto _ : state)
        co_await corio::with(trivial_manager{}, [](trivial_manager&) -> corio::task<> { co_return; });
}

void with_class_manager(benchmark::State& state) {
    corio::run(with_class_loop(state));
    corio_bench::report_ops(state);
}
BENCHMARK(with_class_manager);

corio::task<> by_hand_loop(benchmark::State& state) {
    auto body = [](trivial_manager&) -> corio::task<> { co_return; };
    for (auto _ : state) {
        trivial_manager m;
        trivial_manager& v = co_await m.aenter();
        co_await body(v);
        bool suppress = co_await m.aexit(nullptr);
        benchmark::DoNotOptimize(suppress);
    }
}

void with_class_manager_by_hand(benchmark::State& state) {
    corio::run(by_hand_loop(state));
    corio_bench::report_ops(state);
}
BENCHMARK(with_class_manager_by_hand);

corio::context_manager<int> trivial_cm() { co_yield 1; }

corio::task<> with_cm_loop(benchmark::State& state) {
    for (auto _ : state) co_await corio::with(trivial_cm(), [](int&) -> corio::task<> { co_return; });
}

void with_context_manager(benchmark::State& state) {
    corio::run(with_cm_loop(state));
    corio_bench::report_ops(state);
}
BENCHMARK(with_context_manager);

}  // namespace
