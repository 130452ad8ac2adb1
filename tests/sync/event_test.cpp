// event: set/clear/wait, wake-ups that clear() cannot take back, cancellation.
#include <corio/sync/event.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <corio/run.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>

#include "../support/outcome.hpp"
#include "../support/outside_task.hpp"

using namespace std::chrono_literals;

namespace {

using corio_test::outcome;
using corio_test::outside_task_error;

corio::task<> wait_and_record(corio::event& e, std::vector<int>& order, int id) {
    co_await e.wait();
    order.push_back(id);
}

TEST(event, set_and_clear_toggle_is_set) {
    corio::event e;
    EXPECT_FALSE(e.is_set());
    e.set();
    EXPECT_TRUE(e.is_set());
    e.set();  // idempotent
    EXPECT_TRUE(e.is_set());
    e.clear();
    EXPECT_FALSE(e.is_set());
}

TEST(event, wait_returns_at_once_when_set) {
    corio::run([]() -> corio::task<> {
        corio::event e;
        e.set();
        co_await e.wait();
        EXPECT_TRUE(e.is_set());
        EXPECT_EQ(e.waiters(), 0u);
    }());
}

TEST(event, set_wakes_every_waiter_in_order) {
    corio::run([]() -> corio::task<> {
        corio::event e;
        std::vector<int> order;
        auto a = corio::spawn(wait_and_record(e, order, 1));
        auto b = corio::spawn(wait_and_record(e, order, 2));
        auto c = corio::spawn(wait_and_record(e, order, 3));
        co_await corio::sleep(0s);
        EXPECT_EQ(e.waiters(), 3u);
        EXPECT_TRUE(order.empty());
        e.set();
        EXPECT_EQ(e.waiters(), 0u);
        co_await corio::sleep(0s);
        EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
        co_await a;
        co_await b;
        co_await c;
    }());
}

TEST(event, waiter_woken_by_set_returns_even_if_cleared_before_it_runs) {
    corio::run([]() -> corio::task<> {
        corio::event e;
        std::vector<int> order;
        auto a = corio::spawn(wait_and_record(e, order, 1));
        co_await corio::sleep(0s);
        e.set();
        e.clear();
        EXPECT_EQ(co_await outcome(a), "ok");
        EXPECT_EQ(order, (std::vector<int>{1}));
        EXPECT_FALSE(e.is_set());
    }());
}

TEST(event, wait_after_clear_blocks_until_next_set) {
    corio::run([]() -> corio::task<> {
        corio::event e;
        std::vector<int> order;
        e.set();
        e.clear();
        auto a = corio::spawn(wait_and_record(e, order, 1));
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
        EXPECT_TRUE(order.empty());
        EXPECT_EQ(e.waiters(), 1u);
        e.set();
        co_await a;
        EXPECT_EQ(order, (std::vector<int>{1}));
    }());
}

TEST(event, wait_outside_a_task_throws_logic_error) {
    corio::event e;
    e.set();  // even with the flag up
    EXPECT_EQ(outside_task_error(e.wait()), "event::wait: not inside a task run by corio::run");
}

TEST(event, wait_in_cancelled_scope_throws_even_when_set) {
    corio::run([]() -> corio::task<> {
        corio::event e;
        e.set();
        std::vector<int> order;
        auto a = corio::spawn(wait_and_record(e, order, 1));
        a.cancel();
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_TRUE(order.empty());
    }());
}

TEST(event, cancelled_waiter_leaves_and_others_still_wake) {
    corio::run([]() -> corio::task<> {
        corio::event e;
        std::vector<int> order;
        auto a = corio::spawn(wait_and_record(e, order, 1));
        auto b = corio::spawn(wait_and_record(e, order, 2));
        co_await corio::sleep(0s);
        a.cancel();
        EXPECT_EQ(e.waiters(), 1u);
        EXPECT_EQ(co_await outcome(a), "cancelled");
        e.set();
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(order, (std::vector<int>{2}));
    }());
}

TEST(event, cancel_after_wake_throws_and_takes_nothing_from_others) {
    corio::run([]() -> corio::task<> {
        corio::event e;
        std::vector<int> order;
        auto a = corio::spawn(wait_and_record(e, order, 1));
        auto b = corio::spawn(wait_and_record(e, order, 2));
        co_await corio::sleep(0s);
        e.set();
        a.cancel();  // woken, not yet run
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(order, (std::vector<int>{2}));
        EXPECT_TRUE(e.is_set());
    }());
}

}  // namespace
