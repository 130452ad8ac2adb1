// PITFALLS.md: deep chains of immediately-ready awaits must not grow the
// stack (symmetric transfer; a trampoline where g++ cannot tail-call, see
// include/corio/detail/transfer.hpp). These would crash, not fail, if broken.
#include <gtest/gtest.h>

#include <corio/corio.hpp>

namespace {
corio::task<int> depth(int n) {
    if (n == 0) co_return 0;
    co_return 1 + co_await depth(n - 1);
}
corio::task<int> ready(int v) { co_return v; }

corio::async_generator<int> many(int n) {
    for (int i = 0; i < n; ++i) co_yield i;
}
}  // namespace

TEST(stack_depth, chain_of_100000_nested_awaits) {
    EXPECT_EQ(corio::run(depth(100000)), 100000);
}

TEST(stack_depth, loop_of_10_million_ready_awaits) {
    long sum = corio::run([]() -> corio::task<long> {
        long s = 0;
        for (int i = 0; i < 10'000'000; ++i) s += co_await ready(1);
        co_return s;
    }());
    EXPECT_EQ(sum, 10'000'000);
}

TEST(stack_depth, generator_of_a_million_items) {
    long sum = corio::run([]() -> corio::task<long> {
        long s = 0;
        auto g = many(1'000'000);
        while (auto v = co_await g.next()) s += *v;
        co_return s;
    }());
    EXPECT_EQ(sum, 499999500000L);
}

TEST(stack_depth, million_uncontended_lock_withs) {
    corio::lock l;
    int n = corio::run([&]() -> corio::task<int> {
        int count = 0;
        for (int i = 0; i < 1'000'000; ++i) co_await corio::with(l, [&](corio::lock&) { ++count; });
        co_return count;
    }());
    EXPECT_EQ(n, 1'000'000);
}
