// docs/reference.md, "for_each": for_each over any async iterator.
#include <gtest/gtest.h>

#include <memory>

#include <corio/corio.hpp>

#include "../support/recording_manager.hpp"

using namespace std::chrono_literals;
using corio_test::log_t;

namespace {
corio::async_generator<int> numbers(log_t& log, int n) {
    co_await corio::enter(corio_test::recording_manager{&log, "gen"});
    for (int i = 1; i <= n; ++i) co_yield i;
}
}  // namespace

TEST(for_each, plain_callable_sees_every_item_and_closes) {
    log_t log;
    int sum = 0;
    corio::run([&]() -> corio::task<> { co_await corio::for_each(numbers(log, 4), [&](int n) { sum += n; }); }());
    EXPECT_EQ(sum, 10);
    EXPECT_EQ(log.back(), "exit gen saw none");
}

TEST(for_each, coroutine_callable_is_awaited) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        co_await corio::for_each(numbers(log, 2), [&](int n) -> corio::task<> {
            co_await corio::sleep(1ms);
            log.push_back("item " + std::to_string(n));
        });
    }());
    EXPECT_EQ(log, (log_t{"enter gen", "item 1", "item 2", "exit gen saw none"}));
}

TEST(for_each, exception_in_callable_closes_the_generator_then_propagates) {
    log_t log;
    EXPECT_THROW(corio::run([&]() -> corio::task<> {
                     co_await corio::for_each(numbers(log, 5), [](int n) {
                         if (n == 2) throw std::runtime_error("stop");
                     });
                 }()),
                 std::runtime_error);
    EXPECT_EQ(log, (log_t{"enter gen", "exit gen saw unknown"}));
}

TEST(for_each, lvalue_iterator_is_used_by_reference) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        q.put_nowait(1);
        q.put_nowait(2);
        q.shutdown();
        int sum = 0;
        co_await corio::for_each(q, [&](int v) { sum += v; });
        EXPECT_EQ(sum, 3);
        EXPECT_TRUE(q.empty());
    }());
}

TEST(for_each, callable_captures_are_stored_by_value) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto loop = [&] {
            auto prefix = std::make_shared<std::string>("n=");
            return corio::for_each(numbers(log, 2), [prefix, &log](int n) -> corio::task<> {
                co_await corio::sleep(1ms);
                log.push_back(*prefix + std::to_string(n));
            });
        }();
        co_await std::move(loop);
    }());
    EXPECT_EQ(log[1], "n=1");
    EXPECT_EQ(log[2], "n=2");
}
