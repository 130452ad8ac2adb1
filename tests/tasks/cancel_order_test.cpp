// A cancelled scope interrupts the tasks waiting inside it first in, first
// out (children are kept in the order they were started), like the ready
// queue: shutdown and group cancellation wake tasks in spawn order.
#include <gtest/gtest.h>

#include <vector>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

namespace {
corio::task<> wait_and_record(int id, std::vector<int>& order) {
    try {
        co_await corio::sleep(1h);
    } catch (const corio::cancelled_error&) {
        order.push_back(id);
        throw;
    }
}
}  // namespace

TEST(cancel_order, run_shutdown_cancels_detached_tasks_in_spawn_order) {
    std::vector<int> order;
    corio::run([&]() -> corio::task<> {
        for (int i = 1; i <= 5; ++i) corio::spawn(wait_and_record(i, order)).detach();
        co_await corio::sleep(0s);
    }());
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST(cancel_order, group_cancellation_wakes_children_in_spawn_order) {
    std::vector<int> order;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::task_group{}, [&](corio::task_group& g) -> corio::task<> {
            for (int i = 1; i <= 5; ++i) g.spawn(wait_and_record(i, order));
            co_await corio::sleep(0s);
            g.cancel();
        });
    }());
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST(cancel_order, order_survives_children_ending_in_the_middle) {
    std::vector<int> order;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::task_group{}, [&](corio::task_group& g) -> corio::task<> {
            for (int i = 1; i <= 5; ++i) {
                if (i == 3) {
                    g.spawn([]() -> corio::task<> { co_return; });  // ends at once: unlinked mid-list
                }
                g.spawn(wait_and_record(i, order));
            }
            co_await corio::sleep(0s);
            co_await corio::sleep(0s);
            g.spawn(wait_and_record(6, order));  // appended after the removal
            co_await corio::sleep(0s);
            g.cancel();
        });
    }());
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4, 5, 6}));
}
