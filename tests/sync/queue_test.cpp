// queue, priority_queue, lifo_queue: order, bounds, join/task_done, Python
// 3.13 shutdown, async iteration, and items never lost to cancellation.
#include <corio/sync/queue.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <corio/run.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>
#include <corio/time/timeout.hpp>

#include "../support/outcome.hpp"
#include "../support/outside_task.hpp"

using namespace std::chrono_literals;

namespace {

using corio_test::outcome;
using corio_test::outside_task_error;

template <class Q>
corio::task<> get_and_record(Q& q, std::vector<int>& got) {
    got.push_back(co_await q.get());
}

template <class Q>
corio::task<> put_and_record(Q& q, int v, std::vector<int>& done) {
    co_await q.put(v);
    done.push_back(v);
}

template <class Q>
std::vector<int> drain_nowait(Q& q) {
    std::vector<int> out;
    while (!q.empty()) out.push_back(q.get_nowait());
    return out;
}

static_assert(std::is_base_of_v<std::runtime_error, corio::queue_full>);
static_assert(std::is_base_of_v<std::runtime_error, corio::queue_empty>);
static_assert(std::is_base_of_v<std::runtime_error, corio::queue_shut_down>);
static_assert(std::is_same_v<decltype(std::declval<corio::queue<int>&>().next().await_resume()), std::optional<int>>);
static_assert(std::is_same_v<decltype(std::declval<corio::queue<int>&>().get().await_resume()), int>);

// ---------------------------------------------------------------- basics

TEST(queue, put_and_get_are_first_in_first_out) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        EXPECT_TRUE(q.empty());
        for (int i = 1; i <= 3; ++i) co_await q.put(i);
        EXPECT_EQ(q.size(), 3u);
        EXPECT_FALSE(q.empty());
        EXPECT_FALSE(q.full());  // unbounded
        EXPECT_EQ(co_await q.get(), 1);
        EXPECT_EQ(co_await q.get(), 2);
        EXPECT_EQ(co_await q.get(), 3);
        EXPECT_TRUE(q.empty());
    }());
}

TEST(queue, nowait_forms_work_outside_a_task) {
    corio::queue<std::string> q(2);
    q.put_nowait("a");
    q.put_nowait("b");
    EXPECT_TRUE(q.full());
    EXPECT_EQ(q.get_nowait(), "a");
    EXPECT_EQ(q.get_nowait(), "b");
    EXPECT_EQ(q.maxsize(), 2u);
}

TEST(queue, put_nowait_on_a_full_queue_throws_queue_full) {
    corio::queue<int> q(1);
    q.put_nowait(1);
    try {
        q.put_nowait(2);
        FAIL() << "put_nowait on a full queue did not throw";
    } catch (const corio::queue_full& e) {
        EXPECT_STREQ(e.what(), "queue::put_nowait: queue is full (maxsize 1)");
    }
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.unfinished_tasks(), 1u);
}

TEST(queue, get_nowait_on_an_empty_queue_throws_queue_empty) {
    corio::queue<int> q;
    try {
        (void)q.get_nowait();
        FAIL() << "get_nowait on an empty queue did not throw";
    } catch (const corio::queue_empty& e) {
        EXPECT_STREQ(e.what(), "queue::get_nowait: queue is empty");
    }
}

TEST(queue, move_only_items_pass_through) {
    corio::run([]() -> corio::task<> {
        corio::queue<std::unique_ptr<int>> q(1);
        auto getter = corio::spawn([&]() -> corio::task<int> { co_return *co_await q.get(); });
        co_await corio::sleep(0s);
        co_await q.put(std::make_unique<int>(7));
        EXPECT_EQ(co_await getter, 7);
        q.put_nowait(std::make_unique<int>(8));
        EXPECT_EQ(*q.get_nowait(), 8);
    }());
}

// ---------------------------------------------------------------- waiting

TEST(queue, getters_wait_and_are_served_in_fifo_order) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        std::vector<int> got;
        auto a = corio::spawn(get_and_record(q, got));
        auto b = corio::spawn(get_and_record(q, got));
        co_await corio::sleep(0s);
        EXPECT_EQ(q.getters(), 2u);
        q.put_nowait(10);
        // Handed straight to the first getter: nobody else can take it.
        EXPECT_EQ(q.size(), 0u);
        EXPECT_EQ(q.getters(), 1u);
        EXPECT_THROW((void)q.get_nowait(), corio::queue_empty);
        q.put_nowait(20);
        co_await a;
        co_await b;
        EXPECT_EQ(got, (std::vector<int>{10, 20}));
    }());
}

TEST(queue, putters_wait_while_full_and_are_served_in_fifo_order) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q(1);
        std::vector<int> done;
        co_await q.put(0);
        auto a = corio::spawn(put_and_record(q, 1, done));
        auto b = corio::spawn(put_and_record(q, 2, done));
        co_await corio::sleep(0s);
        EXPECT_EQ(q.putters(), 2u);
        EXPECT_TRUE(done.empty());
        EXPECT_EQ(co_await q.get(), 0);
        // The freed slot is kept for a: still full for everyone else.
        EXPECT_TRUE(q.full());
        EXPECT_THROW(q.put_nowait(99), corio::queue_full);
        EXPECT_EQ(co_await q.get(), 1);
        EXPECT_EQ(co_await q.get(), 2);
        co_await a;
        co_await b;
        EXPECT_EQ(done, (std::vector<int>{1, 2}));
        EXPECT_TRUE(q.empty());
    }());
}

TEST(queue, late_put_does_not_overtake_a_waiting_putter) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q(1);
        std::vector<int> done, got;
        q.put_nowait(0);
        auto a = corio::spawn(put_and_record(q, 1, done));
        co_await corio::sleep(0s);
        EXPECT_EQ(q.get_nowait(), 0);  // the slot is a's now; a has not run
        auto c = corio::spawn([&]() -> corio::task<> {
            got.push_back(co_await q.get());
            got.push_back(co_await q.get());
        });
        co_await q.put(2);  // waits behind a
        co_await a;
        co_await c;
        EXPECT_EQ(done, (std::vector<int>{1}));
        EXPECT_EQ(got, (std::vector<int>{1, 2}));
        EXPECT_TRUE(q.empty());
    }());
}

// ---------------------------------------------------------------- join

TEST(queue, join_waits_until_every_item_is_task_done) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        bool joined = false;
        co_await q.join();  // nothing put: returns at once
        q.put_nowait(1);
        q.put_nowait(2);
        EXPECT_EQ(q.unfinished_tasks(), 2u);
        auto j = corio::spawn([&]() -> corio::task<> {
            co_await q.join();
            joined = true;
        });
        (void)q.get_nowait();
        (void)q.get_nowait();
        q.task_done();
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
        EXPECT_FALSE(joined);
        EXPECT_EQ(q.unfinished_tasks(), 1u);
        q.task_done();
        co_await j;
        EXPECT_TRUE(joined);
        EXPECT_EQ(q.unfinished_tasks(), 0u);
    }());
}

TEST(queue, task_done_more_than_items_throws_logic_error) {
    corio::queue<int> q;
    q.put_nowait(1);
    (void)q.get_nowait();
    q.task_done();
    try {
        q.task_done();
        FAIL() << "task_done past the items did not throw";
    } catch (const std::logic_error& e) {
        EXPECT_STREQ(e.what(), "queue::task_done: called more times than there were items put");
    }
    EXPECT_EQ(q.unfinished_tasks(), 0u);
}

TEST(queue, join_in_cancelled_scope_throws_even_with_nothing_unfinished) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        auto j = corio::spawn([&]() -> corio::task<> { co_await q.join(); });
        j.cancel();
        EXPECT_EQ(co_await outcome(j), "cancelled");
    }());
}

TEST(queue, joiner_cancelled_after_wake_throws_and_the_others_return) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        q.put_nowait(1);
        auto a = corio::spawn([&]() -> corio::task<> { co_await q.join(); });
        auto b = corio::spawn([&]() -> corio::task<> { co_await q.join(); });
        co_await corio::sleep(0s);
        (void)q.get_nowait();
        q.task_done();  // both joiners woken...
        a.cancel();     // ...a cancelled before it runs: nothing to pass on
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(q.unfinished_tasks(), 0u);
    }());
}

TEST(queue, cancelled_joiner_leaves_and_others_still_return) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        q.put_nowait(1);
        auto a = corio::spawn([&]() -> corio::task<> { co_await q.join(); });
        auto b = corio::spawn([&]() -> corio::task<> { co_await q.join(); });
        co_await corio::sleep(0s);
        a.cancel();
        EXPECT_EQ(co_await outcome(a), "cancelled");
        (void)q.get_nowait();
        q.task_done();
        EXPECT_EQ(co_await outcome(b), "ok");
    }());
}

// ---------------------------------------------------------------- shutdown

TEST(queue, shutdown_makes_put_throw_queue_shut_down) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        q.shutdown();
        EXPECT_TRUE(q.is_shut_down());
        try {
            co_await q.put(1);
            ADD_FAILURE() << "put after shutdown did not throw";
        } catch (const corio::queue_shut_down& e) {
            EXPECT_STREQ(e.what(), "queue::put: queue is shut down");
        }
        try {
            q.put_nowait(1);
            ADD_FAILURE() << "put_nowait after shutdown did not throw";
        } catch (const corio::queue_shut_down& e) {
            EXPECT_STREQ(e.what(), "queue::put_nowait: queue is shut down");
        }
        EXPECT_EQ(q.size(), 0u);
        EXPECT_EQ(q.unfinished_tasks(), 0u);
    }());
}

TEST(queue, shutdown_lets_get_drain_then_throws_queue_shut_down) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        q.put_nowait(1);
        q.put_nowait(2);
        q.shutdown();
        EXPECT_EQ(co_await q.get(), 1);
        EXPECT_EQ(q.get_nowait(), 2);
        try {
            (void)co_await q.get();
            ADD_FAILURE() << "get on a drained shut-down queue did not throw";
        } catch (const corio::queue_shut_down& e) {
            EXPECT_STREQ(e.what(), "queue::get: queue is shut down and empty");
        }
        try {
            (void)q.get_nowait();
            ADD_FAILURE() << "get_nowait on a drained shut-down queue did not throw";
        } catch (const corio::queue_shut_down& e) {
            EXPECT_STREQ(e.what(), "queue::get_nowait: queue is shut down and empty");
        }
        EXPECT_EQ(q.unfinished_tasks(), 2u);  // not immediate: items still count
    }());
}

TEST(queue, shutdown_wakes_blocked_getters_and_putters_with_queue_shut_down) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> empty_q;
        corio::queue<int> full_q(1);
        full_q.put_nowait(0);
        std::vector<int> got, done;
        auto g = corio::spawn(get_and_record(empty_q, got));
        auto p = corio::spawn(put_and_record(full_q, 1, done));
        co_await corio::sleep(0s);
        empty_q.shutdown();
        full_q.shutdown();
        EXPECT_EQ(empty_q.getters(), 0u);
        EXPECT_EQ(full_q.putters(), 0u);
        EXPECT_EQ(co_await outcome(g), "queue::get: queue is shut down and empty");
        EXPECT_EQ(co_await outcome(p), "queue::put: queue is shut down");
        EXPECT_TRUE(got.empty());
        EXPECT_TRUE(done.empty());
        EXPECT_EQ(full_q.get_nowait(), 0);  // not immediate: the item stays
    }());
}

TEST(queue, shutdown_immediate_discards_items_and_counts_them_done) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        q.put_nowait(1);
        q.put_nowait(2);
        q.put_nowait(3);
        (void)q.get_nowait();  // taken, not yet task_done
        bool joined = false;
        auto j = corio::spawn([&]() -> corio::task<> {
            co_await q.join();
            joined = true;
        });
        co_await corio::sleep(0s);
        q.shutdown(true);
        EXPECT_TRUE(q.empty());
        EXPECT_EQ(q.unfinished_tasks(), 1u);  // the one taken
        EXPECT_THROW((void)q.get_nowait(), corio::queue_shut_down);
        co_await corio::sleep(0s);
        EXPECT_FALSE(joined);
        q.task_done();
        co_await j;
        EXPECT_TRUE(joined);
    }());
}

TEST(queue, shutdown_immediate_wakes_joiners_when_nothing_is_left) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        q.put_nowait(1);
        auto j = corio::spawn([&]() -> corio::task<> { co_await q.join(); });
        co_await corio::sleep(0s);
        q.shutdown(true);
        EXPECT_EQ(q.unfinished_tasks(), 0u);
        EXPECT_EQ(co_await outcome(j), "ok");
    }());
}

TEST(queue, shutdown_immediate_wakes_blocked_putters_with_queue_shut_down) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q(1);
        q.put_nowait(0);
        std::vector<int> done;
        auto p = corio::spawn(put_and_record(q, 1, done));
        co_await corio::sleep(0s);
        q.shutdown(true);
        EXPECT_EQ(co_await outcome(p), "queue::put: queue is shut down");
        EXPECT_TRUE(q.empty());
        EXPECT_TRUE(done.empty());
    }());
}

TEST(queue, putter_granted_a_slot_then_shut_down_throws_queue_shut_down) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q(1);
        q.put_nowait(0);
        std::vector<int> done;
        auto p = corio::spawn(put_and_record(q, 1, done));
        co_await corio::sleep(0s);
        EXPECT_EQ(q.get_nowait(), 0);  // the slot goes to p...
        q.shutdown();                  // ...which has not run yet
        EXPECT_EQ(co_await outcome(p), "queue::put: queue is shut down");
        EXPECT_TRUE(q.empty());
        EXPECT_FALSE(q.full());
    }());
}

// ---------------------------------------------------------------- iteration

TEST(queue, next_iterates_until_shutdown_and_drain) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        std::vector<int> seen;
        auto consumer = corio::spawn([&]() -> corio::task<> {
            while (auto v = co_await q.next()) {
                seen.push_back(*v);
                q.task_done();
            }
        });
        for (int i = 1; i <= 3; ++i) co_await q.put(i);
        co_await q.join();
        EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
        co_await q.put(4);
        q.shutdown();  // 4 is still delivered, then the loop ends
        EXPECT_EQ(co_await outcome(consumer), "ok");
        EXPECT_EQ(seen, (std::vector<int>{1, 2, 3, 4}));
    }());
}

TEST(queue, next_on_a_drained_shut_down_queue_gives_nullopt) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        q.shutdown();
        const std::optional<int> v = co_await q.next();
        EXPECT_FALSE(v.has_value());
    }());
}

// ---------------------------------------------------------------- other orders

TEST(queue, priority_queue_gives_the_smallest_first) {
    corio::run([]() -> corio::task<> {
        corio::priority_queue<int> q;
        const std::vector<int> values{5, 1, 4, 2, 3};  // no braced list near co_await (g++ 12)
        for (int v : values) co_await q.put(v);
        std::vector<int> out;
        while (!q.empty()) out.push_back(co_await q.get());
        EXPECT_EQ(out, (std::vector<int>{1, 2, 3, 4, 5}));
    }());
}

TEST(queue, priority_queue_follows_its_compare) {
    corio::priority_queue<int, std::greater<int>> q;
    for (int v : {5, 1, 4, 2, 3}) q.put_nowait(v);
    EXPECT_EQ(drain_nowait(q), (std::vector<int>{5, 4, 3, 2, 1}));
}

TEST(queue, priority_queue_of_pairs_orders_by_priority_then_value) {
    corio::priority_queue<std::pair<int, std::string>> q;
    q.put_nowait(std::pair<int, std::string>(2, "b"));
    q.put_nowait(std::pair<int, std::string>(1, "z"));
    q.put_nowait(std::pair<int, std::string>(2, "a"));
    EXPECT_EQ(q.get_nowait().second, "z");
    EXPECT_EQ(q.get_nowait().second, "a");
    EXPECT_EQ(q.get_nowait().second, "b");
}

TEST(queue, lifo_queue_gives_the_last_put_first) {
    corio::run([]() -> corio::task<> {
        corio::lifo_queue<int> q;
        for (int v = 1; v <= 4; ++v) co_await q.put(v);
        std::vector<int> out;
        while (!q.empty()) out.push_back(co_await q.get());
        EXPECT_EQ(out, (std::vector<int>{4, 3, 2, 1}));
    }());
}

TEST(queue, waits_outside_a_task_name_the_queue_kind_and_take_nothing) {
    corio::queue<int> q;
    q.put_nowait(1);
    EXPECT_EQ(outside_task_error(q.get()), "queue::get: not inside a task run by corio::run");
    EXPECT_EQ(outside_task_error(q.next()), "queue::get: not inside a task run by corio::run");
    EXPECT_EQ(q.size(), 1u);
    corio::priority_queue<int> p;
    EXPECT_EQ(outside_task_error(p.put(1)), "priority_queue::put: not inside a task run by corio::run");
    EXPECT_TRUE(p.empty());
    corio::lifo_queue<int> l;
    EXPECT_EQ(outside_task_error(l.join()), "lifo_queue::join: not inside a task run by corio::run");
}

TEST(queue, errors_name_the_queue_kind) {
    corio::priority_queue<int> p(1);
    p.put_nowait(1);
    try {
        p.put_nowait(2);
        FAIL();
    } catch (const corio::queue_full& e) {
        EXPECT_STREQ(e.what(), "priority_queue::put_nowait: queue is full (maxsize 1)");
    }
    corio::lifo_queue<int> l;
    try {
        (void)l.get_nowait();
        FAIL();
    } catch (const corio::queue_empty& e) {
        EXPECT_STREQ(e.what(), "lifo_queue::get_nowait: queue is empty");
    }
}

// ---------------------------------------------------------------- cancellation

TEST(queue, get_in_cancelled_scope_throws_even_with_items) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        q.put_nowait(1);
        std::vector<int> got;
        auto g = corio::spawn(get_and_record(q, got));
        g.cancel();
        EXPECT_EQ(co_await outcome(g), "cancelled");
        EXPECT_TRUE(got.empty());
        EXPECT_EQ(q.size(), 1u);
    }());
}

TEST(queue, put_in_cancelled_scope_throws_without_putting) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        std::vector<int> done;
        auto p = corio::spawn(put_and_record(q, 1, done));
        p.cancel();
        EXPECT_EQ(co_await outcome(p), "cancelled");
        EXPECT_TRUE(q.empty());
        EXPECT_EQ(q.unfinished_tasks(), 0u);
    }());
}

TEST(queue, cancelled_getter_takes_no_item) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        std::vector<int> got;
        auto a = corio::spawn(get_and_record(q, got));
        auto b = corio::spawn(get_and_record(q, got));
        co_await corio::sleep(0s);
        a.cancel();
        EXPECT_EQ(q.getters(), 1u);
        EXPECT_EQ(co_await outcome(a), "cancelled");
        q.put_nowait(7);
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(got, (std::vector<int>{7}));
    }());
}

TEST(queue, cancel_after_wake_passes_the_item_to_the_next_getter) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        std::vector<int> got;
        auto a = corio::spawn(get_and_record(q, got));
        auto b = corio::spawn(get_and_record(q, got));
        co_await corio::sleep(0s);
        q.put_nowait(7);  // handed to a...
        a.cancel();       // ...cancelled before it runs
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(got, (std::vector<int>{7}));
        EXPECT_EQ(q.unfinished_tasks(), 1u);
    }());
}

TEST(queue, cancel_after_wake_puts_the_item_back_at_the_head) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        std::vector<int> got;
        auto a = corio::spawn(get_and_record(q, got));
        co_await corio::sleep(0s);
        q.put_nowait(1);  // handed to a
        q.put_nowait(2);  // queued
        a.cancel();
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_TRUE(got.empty());
        EXPECT_EQ(drain_nowait(q), (std::vector<int>{1, 2}));
    }());
}

TEST(queue, next_cancelled_after_wake_puts_the_item_back_on_top_of_a_lifo_queue) {
    corio::run([]() -> corio::task<> {
        corio::lifo_queue<int> q;
        std::optional<int> got;
        auto a = corio::spawn([&]() -> corio::task<> { got = co_await q.next(); });
        co_await corio::sleep(0s);
        q.put_nowait(1);  // handed to a
        q.put_nowait(2);  // stored
        a.cancel();       // a gives 1 back to the head, the top
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_FALSE(got.has_value());
        EXPECT_EQ(drain_nowait(q), (std::vector<int>{1, 2}));
        EXPECT_EQ(q.unfinished_tasks(), 2u);
    }());
}

TEST(queue, waiters_woken_by_shutdown_and_cancelled_throw_cancelled_error) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q(1);
        q.put_nowait(0);
        std::vector<int> done;
        auto p = corio::spawn(put_and_record(q, 1, done));
        corio::queue<int> empty;
        std::vector<int> got;
        auto g = corio::spawn(get_and_record(empty, got));
        co_await corio::sleep(0s);
        q.shutdown();
        empty.shutdown();  // both woken with queue_shut_down...
        p.cancel();
        g.cancel();        // ...and cancelled before they run: the cancellation wins
        EXPECT_EQ(co_await outcome(p), "cancelled");
        EXPECT_EQ(co_await outcome(g), "cancelled");
        EXPECT_TRUE(done.empty());
        EXPECT_TRUE(got.empty());
        EXPECT_EQ(q.size(), 1u);
    }());
}

TEST(queue, item_on_its_way_to_a_getter_still_counts_against_maxsize) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q(1);
        std::vector<int> got;
        auto a = corio::spawn(get_and_record(q, got));
        co_await corio::sleep(0s);
        q.put_nowait(1);  // handed to a, which has not run
        EXPECT_EQ(q.size(), 0u);
        EXPECT_TRUE(q.full());  // so that giving it back cannot overflow
        EXPECT_THROW(q.put_nowait(2), corio::queue_full);
        a.cancel();
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_EQ(q.size(), 1u);
        EXPECT_EQ(q.get_nowait(), 1);
        EXPECT_FALSE(q.full());
    }());
}

TEST(queue, cancel_after_wake_after_immediate_shutdown_discards_the_item) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        std::vector<int> got;
        auto a = corio::spawn(get_and_record(q, got));
        co_await corio::sleep(0s);
        q.put_nowait(1);  // handed to a
        q.shutdown(true);
        a.cancel();
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_TRUE(q.empty());
        EXPECT_EQ(q.unfinished_tasks(), 0u);  // discarded counts as done
        co_await q.join();
    }());
}

TEST(queue, item_handed_to_a_getter_is_delivered_despite_immediate_shutdown) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        std::vector<int> got;
        auto a = corio::spawn(get_and_record(q, got));
        co_await corio::sleep(0s);
        q.put_nowait(1);
        q.shutdown(true);
        EXPECT_EQ(co_await outcome(a), "ok");
        EXPECT_EQ(got, (std::vector<int>{1}));
        EXPECT_EQ(q.unfinished_tasks(), 1u);
    }());
}

TEST(queue, cancelled_putter_puts_nothing) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q(1);
        std::vector<int> done;
        q.put_nowait(0);
        auto a = corio::spawn(put_and_record(q, 1, done));
        auto b = corio::spawn(put_and_record(q, 2, done));
        co_await corio::sleep(0s);
        a.cancel();
        EXPECT_EQ(q.putters(), 1u);
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_EQ(q.get_nowait(), 0);
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(done, (std::vector<int>{2}));
        EXPECT_EQ(drain_nowait(q), (std::vector<int>{2}));
    }());
}

TEST(queue, cancel_after_wake_passes_the_slot_to_the_next_putter) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q(1);
        std::vector<int> done;
        q.put_nowait(0);
        auto a = corio::spawn(put_and_record(q, 1, done));
        auto b = corio::spawn(put_and_record(q, 2, done));
        co_await corio::sleep(0s);
        EXPECT_EQ(q.get_nowait(), 0);  // the slot goes to a...
        a.cancel();                    // ...cancelled before it runs
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(done, (std::vector<int>{2}));
        EXPECT_EQ(drain_nowait(q), (std::vector<int>{2}));  // a's item never went in
        EXPECT_EQ(q.unfinished_tasks(), 2u);                // 0 and 2
    }());
}

TEST(queue, producer_and_consumer_ping_pong_in_order) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> ping(1), pong(1);
        auto echo = corio::spawn([&]() -> corio::task<> {
            while (auto v = co_await ping.next()) co_await pong.put(*v * 10);
        });
        std::vector<int> replies;
        for (int i = 1; i <= 100; ++i) {
            co_await ping.put(i);
            replies.push_back(co_await pong.get());
        }
        ping.shutdown();
        co_await echo;
        std::vector<int> expected;
        for (int i = 1; i <= 100; ++i) expected.push_back(i * 10);
        EXPECT_EQ(replies, expected);
    }());
}

TEST(queue, get_that_times_out_takes_no_later_item) {
    corio::run([]() -> corio::task<> {
        corio::queue<int> q;
        auto scope = corio::move_on_after(5ms);
        co_await corio::with(scope, [&](corio::timeout_scope&) -> corio::task<> {
            (void)co_await q.get();
            ADD_FAILURE() << "got an item from an empty queue";
        });
        EXPECT_TRUE(scope.cancelled_caught());
        EXPECT_EQ(q.getters(), 0u);
        q.put_nowait(1);
        EXPECT_EQ(q.size(), 1u);  // nobody took it
        EXPECT_EQ(co_await q.get(), 1);  // and the scope is gone: this await works
    }());
}

}  // namespace
