// docs/reference.md, "Async generators": async_generator, next(), aclose(), the finalizer.
#include <gtest/gtest.h>

#include <optional>

#include <corio/corio.hpp>

#include "../support/recording_manager.hpp"

using namespace std::chrono_literals;
using corio_test::log_t;

namespace {

corio::async_generator<int> counter(int max) {
    for (int i = 1; i <= max; ++i) {
        co_await corio::sleep(0s);
        co_yield i;
    }
}

corio::async_generator<int> failing_after(int n) {
    for (int i = 0; i < n; ++i) co_yield i;
    throw std::runtime_error("generator failed");
}

struct async_counter {  // the seeds' class-based AsyncCounter
    int current = 0;
    int stop;
    corio::task<std::optional<int>> next() {
        if (current >= stop) co_return std::nullopt;
        co_await corio::sleep(0s);
        co_return ++current;
    }
};

static_assert(corio::async_iterator<corio::async_generator<int>>);
static_assert(corio::async_iterator<async_counter>);
static_assert(corio::async_iterator<corio::queue<int>>);
static_assert(!corio::async_iterator<int>);

}  // namespace

TEST(async_generator, yields_in_order_then_nullopt) {
    std::vector<int> got;
    corio::run([&]() -> corio::task<> {
        auto gen = counter(3);
        while (auto n = co_await gen.next()) got.push_back(*n);
        EXPECT_FALSE(co_await gen.next());
    }());
    EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
}

TEST(async_generator, body_exception_comes_out_of_next_once_then_nullopt) {
    corio::run([]() -> corio::task<> {
        auto gen = failing_after(2);
        EXPECT_EQ(*co_await gen.next(), 0);
        EXPECT_EQ(*co_await gen.next(), 1);
        EXPECT_THROW(co_await gen.next(), std::runtime_error);
        EXPECT_FALSE(co_await gen.next());
    }());
}

TEST(async_generator, runs_nothing_until_first_next) {
    log_t log;
    auto gen = [&]() -> corio::async_generator<int> {
        log.push_back("started");
        co_yield 1;
    };
    corio::run([&]() -> corio::task<> {
        auto g = gen();
        co_await corio::sleep(0s);
        EXPECT_TRUE(log.empty());
        co_await g.next();
        EXPECT_EQ(log.size(), 1u);
    }());
}

TEST(async_generator, aclose_unwinds_from_the_yield_point_running_exits) {
    log_t log;
    auto gen = [&]() -> corio::async_generator<int> {
        co_await corio::enter(corio_test::recording_manager{&log, "resource"});
        try {
            for (int i = 0;; ++i) co_yield i;
        } catch (const corio::generator_exit&) {
            log.push_back("generator_exit at yield");
            throw;
        }
    };
    corio::run([&]() -> corio::task<> {
        auto g = gen();
        co_await g.next();
        co_await g.aclose();
        log.push_back("closed");
        EXPECT_FALSE(co_await g.next());
        co_await g.aclose();  // closing twice is harmless
    }());
    EXPECT_EQ(log, (log_t{"enter resource", "generator_exit at yield", "exit resource saw unknown", "closed"}));
}

TEST(async_generator, yielding_during_aclose_is_logic_error) {
    auto stubborn = []() -> corio::async_generator<int> {
        for (;;) {
            try {
                co_yield 1;
            } catch (const corio::generator_exit&) {
                // swallowed: the loop yields again
            }
        }
    };
    corio::run([&]() -> corio::task<> {
        auto g = stubborn();
        co_await g.next();
        EXPECT_THROW(co_await g.aclose(), std::logic_error);
    }());
}

TEST(async_generator, dropped_with_pending_exits_is_finalized_by_the_loop) {
    log_t log;
    auto gen = [&]() -> corio::async_generator<int> {
        corio_test::recording_manager m{&log, "res"};
        m.exit_delay = 1ms;  // the exit awaits: it needs the loop
        co_await corio::enter(std::move(m));
        for (int i = 0;; ++i) co_yield i;
    };
    corio::run([&]() -> corio::task<> {
        {
            auto g = gen();
            co_await g.next();
        }  // dropped while suspended with an exit pending
        log.push_back("dropped");
        co_await corio::sleep(10ms);
        log.push_back("later");
    }());
    EXPECT_EQ(log, (log_t{"enter res", "dropped", "exit res saw unknown", "exit res finished", "later"}));
}

TEST(async_generator, cancellation_inside_generator_propagates_through_next) {
    corio::run([]() -> corio::task<> {
        auto h = corio::spawn([]() -> corio::task<> {
            auto slow = []() -> corio::async_generator<int> {
                co_await corio::sleep(10s);
                co_yield 1;
            };
            auto g = slow();
            co_await g.next();
        });
        co_await corio::sleep(0s);
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
    }());
}

TEST(async_generator, class_based_async_iterator) {
    std::vector<int> got;
    corio::run([&]() -> corio::task<> {
        async_counter c{0, 3};
        while (auto n = co_await c.next()) got.push_back(*n);
    }());
    EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
}

TEST(async_generator, yields_move_only_values) {
    auto gen = []() -> corio::async_generator<std::unique_ptr<int>> {
        co_yield std::make_unique<int>(5);
    };
    corio::run([&]() -> corio::task<> {
        auto g = gen();
        auto p = co_await g.next();
        EXPECT_EQ(**p, 5);
    }());
}
