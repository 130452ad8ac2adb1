// condition: wait/notify with the lock, re-acquisition even when cancelled,
// notifications never lost to cancelled waiters.
#include <corio/sync/condition.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <corio/run.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>
#include <corio/context/with.hpp>

#include "../support/outcome.hpp"
#include "../support/outside_task.hpp"

using namespace std::chrono_literals;

namespace {

using corio_test::outcome;
using corio_test::outside_task_error;

// Waits once; records `id` when notified, and whether it held the lock when
// wait() ended (normally or not). Releases the lock in any case.
corio::task<> wait_once(corio::condition& c, std::vector<int>& order, std::vector<bool>& held, int id) {
    co_await c.acquire();
    try {
        co_await c.wait();
    } catch (...) {
        held.push_back(c.locked());
        c.release();
        throw;
    }
    held.push_back(c.locked());
    order.push_back(id);
    c.release();
}

template <class F>
std::string logic_error_of(F f) {
    try {
        f();
    } catch (const std::logic_error& e) {
        return e.what();
    }
    return "no exception";
}

static_assert(std::is_same_v<decltype(std::declval<corio::condition&>().aenter().await_resume()), corio::condition&>);
static_assert(std::is_same_v<decltype(std::declval<corio::condition&>().wait_for([] { return 42; })),
                             corio::task<int>>);

TEST(condition, notify_without_the_lock_throws_logic_error) {
    corio::condition c;
    EXPECT_EQ(logic_error_of([&] { c.notify(); }), "condition::notify: lock is not acquired");
    EXPECT_EQ(logic_error_of([&] { c.notify_all(); }), "condition::notify_all: lock is not acquired");
}

TEST(condition, wait_without_the_lock_throws_logic_error) {
    corio::run([]() -> corio::task<> {
        corio::condition c;
        try {
            co_await c.wait();
            ADD_FAILURE() << "wait() without the lock did not throw";
        } catch (const std::logic_error& e) {
            EXPECT_STREQ(e.what(), "condition::wait: lock is not acquired");
        }
        try {
            (void)co_await c.wait_for([] { return true; });
            ADD_FAILURE() << "wait_for() without the lock did not throw";
        } catch (const std::logic_error& e) {
            EXPECT_STREQ(e.what(), "condition::wait_for: lock is not acquired");
        }
        EXPECT_FALSE(c.locked());
    }());
}

TEST(condition, wait_outside_a_task_says_so_before_the_missing_lock) {
    corio::condition c;
    EXPECT_EQ(outside_task_error(c.wait()), "condition::wait: not inside a task run by corio::run");
    EXPECT_EQ(outside_task_error(c.aenter()), "condition::aenter: not inside a task run by corio::run");
    EXPECT_FALSE(c.locked());
}

TEST(condition, acquire_release_and_locked_use_the_lock) {
    corio::run([]() -> corio::task<> {
        corio::condition c;
        EXPECT_FALSE(c.locked());
        co_await c.acquire();
        EXPECT_TRUE(c.locked());
        EXPECT_TRUE(c.underlying_lock().locked());
        c.release();
        EXPECT_FALSE(c.locked());
        EXPECT_THROW(c.release(), std::logic_error);
    }());
}

TEST(condition, shares_a_lock_passed_by_reference) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        corio::condition c(l);
        EXPECT_EQ(&c.underlying_lock(), &l);
        co_await l.acquire();
        EXPECT_TRUE(c.locked());
        c.notify();  // legal: the shared lock is held
        c.release();
        EXPECT_FALSE(l.locked());
    }());
}

TEST(condition, aenter_gives_the_condition_holding_the_lock) {
    corio::run([]() -> corio::task<> {
        corio::condition c;
        corio::condition& entered = co_await c.aenter();
        EXPECT_EQ(&entered, &c);
        EXPECT_TRUE(c.locked());
        EXPECT_FALSE(co_await c.aexit(nullptr));
        EXPECT_FALSE(c.locked());
    }());
}

TEST(condition, wait_releases_the_lock_and_reacquires_it_after_notify) {
    corio::run([]() -> corio::task<> {
        corio::condition c;
        std::vector<int> order;
        std::vector<bool> held;
        auto a = corio::spawn(wait_once(c, order, held, 1));
        co_await corio::sleep(0s);
        EXPECT_FALSE(c.locked());  // released while waiting
        EXPECT_EQ(c.waiters(), 1u);
        co_await c.acquire();
        c.notify();
        EXPECT_EQ(c.waiters(), 0u);
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
        EXPECT_TRUE(order.empty());  // notified, but the lock is still ours
        c.release();
        co_await a;
        EXPECT_EQ(order, (std::vector<int>{1}));
        EXPECT_EQ(held, (std::vector<bool>{true}));
        EXPECT_FALSE(c.locked());
    }());
}

TEST(condition, notify_wakes_n_waiters_in_fifo_order) {
    corio::run([]() -> corio::task<> {
        corio::condition c;
        std::vector<int> order;
        std::vector<bool> held;
        std::vector<corio::join_handle<>> hs;
        for (int i = 1; i <= 4; ++i) hs.push_back(corio::spawn(wait_once(c, order, held, i)));
        co_await corio::sleep(0s);
        EXPECT_EQ(c.waiters(), 4u);
        co_await c.acquire();
        c.notify(2);
        EXPECT_EQ(c.waiters(), 2u);
        c.release();
        co_await hs[0];
        co_await hs[1];
        EXPECT_EQ(order, (std::vector<int>{1, 2}));
        co_await c.acquire();
        c.notify();
        c.release();
        co_await hs[2];
        EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
        co_await c.acquire();
        c.notify(0);  // nobody
        EXPECT_EQ(c.waiters(), 1u);
        c.notify(5);  // more than there are: wakes the one left
        c.release();
        co_await hs[3];
        EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
        EXPECT_EQ(held, (std::vector<bool>{true, true, true, true}));
    }());
}

TEST(condition, notify_all_wakes_everyone_one_holder_at_a_time) {
    corio::run([]() -> corio::task<> {
        corio::condition c;
        std::vector<int> order;
        std::vector<bool> held;
        std::vector<corio::join_handle<>> hs;
        for (int i = 1; i <= 3; ++i) hs.push_back(corio::spawn(wait_once(c, order, held, i)));
        co_await corio::sleep(0s);
        co_await c.acquire();
        c.notify_all();
        EXPECT_EQ(c.waiters(), 0u);
        c.release();
        for (auto& h : hs) co_await h;
        EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
        EXPECT_EQ(held, (std::vector<bool>{true, true, true}));
        EXPECT_FALSE(c.locked());
    }());
}

TEST(condition, notified_waiter_queues_behind_earlier_lock_waiters) {
    corio::run([]() -> corio::task<> {
        corio::condition c;
        std::vector<int> order;
        std::vector<bool> held;
        auto a = corio::spawn(wait_once(c, order, held, 1));
        co_await corio::sleep(0s);
        co_await c.acquire();
        auto b = corio::spawn([&]() -> corio::task<> {
            co_await c.acquire();  // queues for the lock before a is notified
            order.push_back(2);
            c.release();
        });
        co_await corio::sleep(0s);
        c.notify();
        c.release();
        co_await a;
        co_await b;
        EXPECT_EQ(order, (std::vector<int>{2, 1}));
    }());
}

TEST(condition, wait_in_cancelled_scope_throws_without_releasing_the_lock) {
    corio::run([]() -> corio::task<> {
        corio::condition c;
        bool held = false;
        std::size_t lock_waiters = 0;
        auto a = corio::spawn([&]() -> corio::task<> {
            co_await c.acquire();
            try {
                co_await corio::sleep(1h);  // cancelled here
            } catch (const corio::cancelled_error&) {
            }
            try {
                co_await c.wait();  // the scope is still cancelled
            } catch (const corio::cancelled_error&) {
                held = c.locked();
                lock_waiters = c.underlying_lock().waiters();
                c.release();
                throw;
            }
        });
        auto b = corio::spawn([&]() -> corio::task<> { co_await c.acquire(); });
        co_await corio::sleep(0s);
        EXPECT_EQ(c.underlying_lock().waiters(), 1u);  // b
        a.cancel();
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_TRUE(held);
        EXPECT_EQ(lock_waiters, 1u);  // never released: b was still queued
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_TRUE(c.locked());  // b holds it
        c.release();
    }());
}

TEST(condition, cancelled_wait_reacquires_the_lock_before_throwing) {
    corio::run([]() -> corio::task<> {
        corio::condition c;
        std::vector<int> order;
        std::vector<bool> held;
        auto a = corio::spawn(wait_once(c, order, held, 1));
        co_await corio::sleep(0s);
        co_await c.acquire();
        a.cancel();
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
        EXPECT_FALSE(a.done());  // waiting for the lock, uncancellably
        EXPECT_TRUE(held.empty());
        c.release();
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_EQ(held, (std::vector<bool>{true}));
        EXPECT_TRUE(order.empty());
        EXPECT_FALSE(c.locked());
    }());
}

TEST(condition, cancelled_waiter_takes_no_notification) {
    corio::run([]() -> corio::task<> {
        corio::condition c;
        std::vector<int> order;
        std::vector<bool> held;
        auto a = corio::spawn(wait_once(c, order, held, 1));
        auto b = corio::spawn(wait_once(c, order, held, 2));
        co_await corio::sleep(0s);
        a.cancel();
        EXPECT_EQ(c.waiters(), 1u);
        EXPECT_EQ(co_await outcome(a), "cancelled");
        co_await c.acquire();
        c.notify();
        c.release();
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(order, (std::vector<int>{2}));
        EXPECT_EQ(held, (std::vector<bool>{true, true}));
    }());
}

TEST(condition, notified_then_cancelled_passes_the_notification) {
    corio::run([]() -> corio::task<> {
        corio::condition c;
        std::vector<int> order;
        std::vector<bool> held;
        auto a = corio::spawn(wait_once(c, order, held, 1));
        auto b = corio::spawn(wait_once(c, order, held, 2));
        co_await corio::sleep(0s);
        co_await c.acquire();
        c.notify();  // a is notified...
        a.cancel();  // ...and cancelled before it runs
        EXPECT_EQ(c.waiters(), 1u);
        c.release();
        EXPECT_EQ(co_await outcome(a), "cancelled");
        // a handed its notification to b instead of dropping it.
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(order, (std::vector<int>{2}));
        EXPECT_EQ(held, (std::vector<bool>{true, true}));
        EXPECT_FALSE(c.locked());
    }());
}

TEST(condition, aenter_cancelled_after_the_lock_was_granted_passes_it_on) {
    corio::run([]() -> corio::task<> {
        corio::condition c;
        std::vector<int> order;
        co_await c.acquire();
        auto a = corio::spawn([&]() -> corio::task<> {
            co_await corio::with(c, [&](corio::condition&) -> corio::task<> {
                order.push_back(1);
                co_return;
            });
        });
        auto b = corio::spawn([&]() -> corio::task<> {
            co_await c.acquire();
            order.push_back(2);
            c.release();
        });
        co_await corio::sleep(0s);
        c.release();  // aenter is granted the lock...
        a.cancel();   // ...and cancelled before it runs
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(order, (std::vector<int>{2}));
        EXPECT_FALSE(c.locked());
    }());
}

TEST(condition, wait_for_waits_until_the_predicate_holds_and_gives_its_value) {
    corio::run([]() -> corio::task<> {
        corio::condition c;
        int counter = 0;
        int calls = 0;
        int result = -1;
        auto a = corio::spawn([&]() -> corio::task<> {
            co_await c.acquire();
            result = co_await c.wait_for([&] {
                ++calls;
                EXPECT_TRUE(c.locked());
                return counter >= 3 ? counter : 0;
            });
            EXPECT_TRUE(c.locked());
            c.release();
        });
        co_await corio::sleep(0s);
        EXPECT_EQ(calls, 1);
        for (int i = 1; i <= 3; ++i) {
            co_await c.acquire();
            ++counter;
            c.notify();
            c.release();
            co_await corio::sleep(0s);
            EXPECT_EQ(calls, i + 1);
        }
        co_await a;
        EXPECT_EQ(result, 3);
        EXPECT_FALSE(c.locked());
    }());
}

TEST(condition, wait_for_with_a_true_predicate_returns_without_waiting) {
    corio::run([]() -> corio::task<> {
        corio::condition c;
        co_await c.acquire();
        const bool ok = co_await c.wait_for([] { return true; });
        EXPECT_TRUE(ok);
        EXPECT_TRUE(c.locked());
        EXPECT_EQ(c.waiters(), 0u);
        c.release();
    }());
}

TEST(condition, wait_for_in_cancelled_scope_throws_even_if_the_predicate_holds) {
    corio::run([]() -> corio::task<> {
        corio::condition c;
        bool held = false;
        auto a = corio::spawn([&]() -> corio::task<> {
            co_await c.acquire();
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
            }
            try {
                (void)co_await c.wait_for([] { return true; });
            } catch (const corio::cancelled_error&) {
                held = c.locked();
                c.release();
                throw;
            }
        });
        co_await corio::sleep(0s);
        a.cancel();
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_TRUE(held);
        EXPECT_FALSE(c.locked());
    }());
}

TEST(condition, with_holds_the_lock_around_wait_and_notify) {
    corio::run([]() -> corio::task<> {
        corio::condition c;
        bool ready = false;
        int seen = 0;
        auto consumer = corio::spawn([&]() -> corio::task<> {
            co_await corio::with(c, [&](corio::condition& cc) -> corio::task<> {
                co_await cc.wait_for([&] { return ready; });
                EXPECT_TRUE(c.locked());
                seen = 1;
            });
        });
        co_await corio::sleep(0s);
        EXPECT_FALSE(c.locked());
        co_await corio::with(c, [&](corio::condition& cc) {
            ready = true;
            cc.notify();
        });
        co_await consumer;
        EXPECT_EQ(seen, 1);
        EXPECT_FALSE(c.locked());
    }());
}

TEST(condition, with_body_cancelled_in_wait_releases_the_reacquired_lock) {
    corio::run([]() -> corio::task<> {
        corio::condition c;
        auto a = corio::spawn([&]() -> corio::task<> {
            co_await corio::with(c, [&](corio::condition& cc) -> corio::task<> { co_await cc.wait(); });
        });
        co_await corio::sleep(0s);
        EXPECT_FALSE(c.locked());
        a.cancel();
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_FALSE(c.locked());  // re-acquired by wait, released by aexit
        EXPECT_EQ(c.waiters(), 0u);
    }());
}

}  // namespace
