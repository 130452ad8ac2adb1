// contextlib's helpers: docs/reference.md, "aclosing, nullcontext, suppress".
#include <gtest/gtest.h>

#include <corio/corio.hpp>

#include "../support/recording_manager.hpp"

using namespace std::chrono_literals;
using corio_test::log_t;

TEST(contextlib, aclosing_gives_the_generator_back_and_closes_it) {
    log_t log;
    auto gen = [&]() -> corio::async_generator<int> {
        co_await corio::enter(corio_test::recording_manager{&log, "gen"});
        for (int i = 0;; ++i) co_yield i;
    };
    corio::run([&]() -> corio::task<> {
        auto g = gen();
        co_await corio::with(corio::aclosing(g), [&](corio::async_generator<int>& same) -> corio::task<> {
            EXPECT_EQ(&same, &g);
            EXPECT_EQ(*co_await same.next(), 0);
        });
        log.push_back("after with");
        EXPECT_FALSE(co_await g.next());
    }());
    EXPECT_EQ(log, (log_t{"enter gen", "exit gen saw unknown", "after with"}));
}

TEST(contextlib, nullcontext_gives_its_value) {
    int v = corio::run([]() -> corio::task<int> {
        co_return co_await corio::with(corio::nullcontext(41), [](int& x) { return x + 1; });
    }());
    EXPECT_EQ(v, 42);
    corio::run([]() -> corio::task<> { co_await corio::with(corio::nullcontext(), [] {}); }());
}

TEST(contextlib, suppress_swallows_listed_types_and_derived) {
    bool after = false;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::suppress<std::logic_error>(), [] { throw std::invalid_argument("derived"); });
        after = true;
    }());
    EXPECT_TRUE(after);
}

TEST(contextlib, suppress_lets_other_types_through) {
    EXPECT_THROW(corio::run([]() -> corio::task<> {
                     co_await corio::with(corio::suppress<std::logic_error>(),
                                          [] { throw std::runtime_error("other"); });
                 }()),
                 std::runtime_error);
}

TEST(contextlib, suppress_never_swallows_cancellation) {
    // suppress<std::exception> cannot catch cancelled_error: not a std::exception.
    corio::run([]() -> corio::task<> {
        auto h = corio::spawn([]() -> corio::task<> {
            co_await corio::with(corio::suppress<std::exception>(), []() -> corio::task<> {
                co_await corio::sleep(10s);
            });
        });
        co_await corio::sleep(0s);
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
    }());
}
