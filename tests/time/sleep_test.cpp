// sleep and sleep_until: sleep(0s) lets every other ready task run once,
// wake-ups in deadline order, past deadlines yield, and a cancelled scope
// makes sleep throw without suspending.
#include <corio/time/sleep.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <corio/errors.hpp>
#include <corio/run.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/task.hpp>
#include <corio/time/timeout.hpp>
#include <corio/context/with.hpp>
#include <corio/detail/event_loop.hpp>

#include "../support/outcome.hpp"

using namespace std::chrono_literals;

namespace {

using log_t = std::vector<std::string>;
using steady = std::chrono::steady_clock;

using corio_test::outcome;

corio::task<> yield_steps(log_t& log, std::string name, int steps) {
    for (int i = 1; i <= steps; ++i) {
        log.push_back(name + std::to_string(i));
        co_await corio::sleep(0s);
    }
}

corio::task<> sleep_then_record(log_t& log, std::chrono::milliseconds d) {
    co_await corio::sleep(d);
    log.push_back(std::to_string(d.count()) + "ms");
}

TEST(sleep, zero_lets_every_other_ready_task_run_once) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto a = corio::spawn(yield_steps(log, "a", 3));
        auto b = corio::spawn(yield_steps(log, "b", 3));
        auto c = corio::spawn(yield_steps(log, "c", 3));
        co_await corio::sleep(0s);
        log.push_back("main");  // after each ran exactly once
        co_await a;
        co_await b;
        co_await c;
    }());
    EXPECT_EQ(log, (log_t{"a1", "b1", "c1", "main", "a2", "b2", "c2", "a3", "b3", "c3"}));
}

TEST(sleep, zero_with_nothing_else_ready_returns) {
    corio::run([]() -> corio::task<> {
        for (int i = 0; i < 1000; ++i) co_await corio::sleep(0s);
    }());
}

TEST(sleep, negative_duration_yields_like_zero) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto a = corio::spawn(yield_steps(log, "a", 1));
        co_await corio::sleep(-5ms);
        log.push_back("main");
        co_await a;
    }());
    EXPECT_EQ(log, (log_t{"a1", "main"}));
}

TEST(sleep, waits_at_least_the_duration) {
    const auto start = steady::now();
    corio::run([]() -> corio::task<> { co_await corio::sleep(20ms); }());
    const auto took = steady::now() - start;
    EXPECT_GE(took, 20ms);
    EXPECT_LT(took, 10s);  // generous: a busy machine may keep the loop off the CPU a while
}

TEST(sleep, tasks_wake_in_deadline_order) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto a = corio::spawn(sleep_then_record(log, 30ms));
        auto b = corio::spawn(sleep_then_record(log, 10ms));
        auto c = corio::spawn(sleep_then_record(log, 20ms));
        co_await a;
        co_await b;
        co_await c;
    }());
    EXPECT_EQ(log, (log_t{"10ms", "20ms", "30ms"}));
}

TEST(sleep, equal_deadlines_wake_in_the_order_they_were_set) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        const auto when = steady::now() + 10ms;
        std::vector<corio::join_handle<>> hs;
        for (int i = 0; i < 4; ++i)
            hs.push_back(corio::spawn([&log, when, i]() -> corio::task<> {
                co_await corio::sleep_until(when);
                log.push_back(std::to_string(i));
            }));
        for (auto& h : hs) co_await h;
    }());
    EXPECT_EQ(log, (log_t{"0", "1", "2", "3"}));
}

// Timer nodes number their insertions in 32 bits (a sleeping task's frame
// holds one); when the counter wraps, the loop renumbers the armed timers.
// Without that, the timers set after the wrap would fire before the equal
// deadlines set just before it.
TEST(sleep, equal_deadlines_keep_their_order_across_the_wrap_of_the_insertion_counter) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        corio::detail::event_loop::current("test").set_timer_order_for_test(0xFFFFFFFFu - 3);
        const auto later = steady::now() + 30ms;
        const auto sooner = later - 15ms;
        std::vector<corio::join_handle<>> hs;
        for (int i = 0; i < 8; ++i)
            hs.push_back(corio::spawn([&log, when = i % 2 == 0 ? later : sooner, i]() -> corio::task<> {
                co_await corio::sleep_until(when);
                log.push_back(std::to_string(i));
            }));
        // A timer removed after the renumbering leaves the heap consistent.
        auto cancelled = corio::spawn([]() -> corio::task<> { co_await corio::sleep(1h); });
        co_await corio::sleep(0s);  // every sleeper has set its timer
        cancelled.cancel();
        for (auto& h : hs) co_await h;
        EXPECT_THROW(co_await cancelled, corio::cancelled_error);
    }());
    EXPECT_EQ(log, (log_t{"1", "3", "5", "7", "0", "2", "4", "6"}));
}

TEST(sleep_until, a_future_time_point_waits_until_it) {
    corio::run([]() -> corio::task<> {
        const auto when = steady::now() + 15ms;
        co_await corio::sleep_until(when);
        EXPECT_GE(steady::now(), when);
    }());
}

TEST(sleep_until, a_past_time_point_yields_once) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto a = corio::spawn(yield_steps(log, "a", 2));
        co_await corio::sleep_until(steady::now() - 1s);
        log.push_back("main");  // returned after one round, without throwing
        co_await a;
    }());
    EXPECT_EQ(log, (log_t{"a1", "main", "a2"}));
}

TEST(sleep, in_a_cancelled_scope_throws_without_suspending) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto other = corio::spawn(yield_steps(log, "other", 1));  // ready, not yet run
        auto scope = corio::move_on_at(steady::now() - 1s);       // cancelled on entry
        co_await corio::with(scope, [&](corio::timeout_scope&) -> corio::task<> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
                log.push_back("sleep threw");  // before "other" got a turn
                throw;
            }
        });
        EXPECT_TRUE(scope.cancelled_caught());
        co_await other;
    }());
    EXPECT_EQ(log, (log_t{"sleep threw", "other1"}));
}

TEST(sleep, zero_in_a_cancelled_scope_throws_too) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto h = corio::spawn([&log]() -> corio::task<> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
                log.push_back("first");
            }
            try {
                co_await corio::sleep(0s);
            } catch (const corio::cancelled_error&) {
                log.push_back("yield threw");
                throw;
            }
        });
        co_await corio::sleep(0s);
        h.cancel();
        EXPECT_EQ(co_await outcome(h), "cancelled");
    }());
    EXPECT_EQ(log, (log_t{"first", "yield threw"}));
}

TEST(sleep, cancelled_sleep_leaves_no_timer_behind) {
    // A cancelled long sleep must not keep the loop alive: run returns at once.
    const auto start = steady::now();
    corio::run([]() -> corio::task<> {
        auto h = corio::spawn([]() -> corio::task<> { co_await corio::sleep(60s); });
        co_await corio::sleep(0s);
        h.cancel();
        EXPECT_EQ(co_await outcome(h), "cancelled");
    }());
    EXPECT_LT(steady::now() - start, 10s);  // not the 60 s of the sleep; generous for a busy machine
}

TEST(sleep, outside_a_task_is_a_logic_error) {
    auto aw = corio::sleep(1ms);
    EXPECT_THROW((void)aw.await_ready(), std::logic_error);
}

}  // namespace
