// lock: FIFO handoff, misuse errors, cancellation (bpo-32734: a waiter
// cancelled just after being woken must not lose the lock for everyone).
#include <corio/sync/lock.hpp>

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
#include <corio/time/timeout.hpp>
#include <corio/context/with.hpp>

#include "../support/outcome.hpp"
#include "../support/outside_task.hpp"

using namespace std::chrono_literals;

namespace {

using corio_test::outcome;
using corio_test::outside_task_error;

// Acquires, records `id`, yields once while holding the lock, releases.
corio::task<> take_and_record(corio::lock& l, std::vector<int>& order, int id) {
    co_await l.acquire();
    order.push_back(id);
    co_await corio::sleep(0s);
    l.release();
}

// The same through scoped(): the guard releases when the task ends.
corio::task<> scoped_and_record(corio::lock& l, std::vector<int>& order, int id) {
    auto guard = co_await l.scoped();
    order.push_back(id);
    co_await corio::sleep(0s);
}

static_assert(std::is_same_v<decltype(std::declval<corio::lock::enter_awaiter&>().await_resume()), corio::lock&>);
static_assert(!std::is_copy_constructible_v<corio::lock>);

TEST(lock, acquire_and_release_toggle_locked) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        EXPECT_FALSE(l.locked());
        co_await l.acquire();
        EXPECT_TRUE(l.locked());
        l.release();
        EXPECT_FALSE(l.locked());
        co_await l.acquire();  // free again: the fast path
        EXPECT_TRUE(l.locked());
        l.release();
    }());
}

TEST(lock, release_of_unlocked_lock_throws_logic_error) {
    corio::lock l;
    try {
        l.release();
        FAIL() << "release() of an unlocked lock did not throw";
    } catch (const std::logic_error& e) {
        EXPECT_STREQ(e.what(), "lock::release: lock is not acquired");
    }
    EXPECT_FALSE(l.locked());
}

TEST(lock, acquire_outside_a_task_throws_logic_error) {
    corio::lock l;
    auto a = l.acquire();
    try {
        (void)a.await_ready();
        FAIL() << "await_ready outside a task did not throw";
    } catch (const std::logic_error& e) {
        EXPECT_STREQ(e.what(), "lock::acquire: not inside a task run by corio::run");
    }
    EXPECT_FALSE(l.locked());
}

TEST(lock, every_form_of_acquire_outside_a_task_names_itself) {
    corio::lock l;
    EXPECT_EQ(outside_task_error(l.aenter()), "lock::aenter: not inside a task run by corio::run");
    EXPECT_EQ(outside_task_error(l.scoped()), "lock::scoped: not inside a task run by corio::run");
    EXPECT_FALSE(l.locked());
}

TEST(lock, waiters_acquire_in_fifo_order) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        std::vector<int> order;
        co_await l.acquire();
        auto a = corio::spawn(take_and_record(l, order, 1));
        auto b = corio::spawn(take_and_record(l, order, 2));
        auto c = corio::spawn(take_and_record(l, order, 3));
        co_await corio::sleep(0s);
        EXPECT_EQ(l.waiters(), 3u);
        EXPECT_TRUE(order.empty());
        l.release();
        co_await a;
        co_await b;
        co_await c;
        EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
        EXPECT_FALSE(l.locked());
    }());
}

TEST(lock, release_hands_the_lock_to_the_first_waiter) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        std::vector<int> order;
        co_await l.acquire();
        auto a = corio::spawn(take_and_record(l, order, 1));
        co_await corio::sleep(0s);
        l.release();
        // Ownership passed to the woken waiter before it even ran.
        EXPECT_TRUE(l.locked());
        EXPECT_EQ(l.waiters(), 0u);
        EXPECT_TRUE(order.empty());
        co_await a;
        EXPECT_EQ(order, (std::vector<int>{1}));
        EXPECT_FALSE(l.locked());
    }());
}

TEST(lock, late_acquirer_does_not_overtake_a_woken_waiter) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        std::vector<int> order;
        co_await l.acquire();
        auto a = corio::spawn(take_and_record(l, order, 1));
        co_await corio::sleep(0s);
        l.release();     // a is woken but has not run
        co_await l.acquire();  // must queue behind a
        order.push_back(0);
        l.release();
        co_await a;
        EXPECT_EQ(order, (std::vector<int>{1, 0}));
        EXPECT_FALSE(l.locked());
    }());
}

TEST(lock, acquire_in_cancelled_scope_throws_even_when_free) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        bool acquired = false;
        auto h = corio::spawn([&]() -> corio::task<> {
            co_await l.acquire();
            acquired = true;
        });
        h.cancel();  // cancelled before its first step
        EXPECT_EQ(co_await outcome(h), "cancelled");
        EXPECT_FALSE(acquired);
        EXPECT_FALSE(l.locked());
    }());
}

TEST(lock, cancelled_waiter_leaves_the_queue_taking_nothing) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        std::vector<int> order;
        co_await l.acquire();
        auto a = corio::spawn(take_and_record(l, order, 1));
        auto b = corio::spawn(take_and_record(l, order, 2));
        co_await corio::sleep(0s);
        EXPECT_EQ(l.waiters(), 2u);
        a.cancel();
        EXPECT_EQ(l.waiters(), 1u);  // left at once
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_TRUE(l.locked());     // still ours
        l.release();
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(order, (std::vector<int>{2}));
        EXPECT_FALSE(l.locked());
    }());
}

TEST(lock, cancel_after_wake_passes_grant) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        std::vector<int> order;
        co_await l.acquire();
        auto a = corio::spawn(take_and_record(l, order, 1));
        auto b = corio::spawn(take_and_record(l, order, 2));
        co_await corio::sleep(0s);
        l.release();  // a is granted the lock...
        a.cancel();   // ...and cancelled before it runs
        EXPECT_TRUE(l.locked());
        EXPECT_EQ(co_await outcome(a), "cancelled");
        // a handed the lock to b instead of dropping it.
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(order, (std::vector<int>{2}));
        EXPECT_FALSE(l.locked());
    }());
}

TEST(lock, cancel_after_wake_with_no_one_behind_unlocks) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        std::vector<int> order;
        co_await l.acquire();
        auto a = corio::spawn(take_and_record(l, order, 1));
        co_await corio::sleep(0s);
        l.release();
        a.cancel();
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_TRUE(order.empty());
        EXPECT_FALSE(l.locked());
    }());
}

TEST(lock, scoped_cancelled_after_wake_passes_grant) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        std::vector<int> order;
        co_await l.acquire();
        auto a = corio::spawn(scoped_and_record(l, order, 1));
        auto b = corio::spawn(scoped_and_record(l, order, 2));
        co_await corio::sleep(0s);
        l.release();  // a is granted the lock...
        a.cancel();   // ...and cancelled before it runs: no guard is made
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(order, (std::vector<int>{2}));
        EXPECT_FALSE(l.locked());  // released once, by b's guard
    }());
}

TEST(lock, aenter_gives_the_lock_and_aexit_releases) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        corio::lock& entered = co_await l.aenter();
        EXPECT_EQ(&entered, &l);
        EXPECT_TRUE(l.locked());
        const bool suppress = co_await l.aexit(nullptr);
        EXPECT_FALSE(suppress);
        EXPECT_FALSE(l.locked());
    }());
}

TEST(lock, aexit_without_the_lock_throws_logic_error) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        try {
            (void)co_await l.aexit(nullptr);
            ADD_FAILURE() << "aexit of an unlocked lock did not throw";
        } catch (const std::logic_error& e) {
            EXPECT_STREQ(e.what(), "lock::release: lock is not acquired");
        }
    }());
}

TEST(lock, scoped_guard_releases_when_destroyed) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        {
            auto guard = co_await l.scoped();
            EXPECT_TRUE(guard.owns());
            EXPECT_TRUE(l.locked());
        }
        EXPECT_FALSE(l.locked());
    }());
}

TEST(lock, scoped_guard_reset_releases_early_and_move_transfers) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        auto guard = co_await l.scoped();
        corio::lock::guard moved = std::move(guard);
        EXPECT_FALSE(guard.owns());
        EXPECT_TRUE(moved.owns());
        EXPECT_TRUE(l.locked());
        moved.reset();
        EXPECT_FALSE(moved.owns());
        EXPECT_FALSE(l.locked());
    }());
}

TEST(lock, scoped_guard_hands_the_lock_to_a_waiter_on_destruction) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        std::vector<int> order;
        auto h = corio::spawn([&]() -> corio::task<> {
            co_await corio::sleep(0s);  // let main take the lock first
            auto g = co_await l.scoped();
            order.push_back(2);
        });
        {
            auto g = co_await l.scoped();
            order.push_back(1);
            co_await corio::sleep(0s);
            co_await corio::sleep(0s);
            EXPECT_EQ(l.waiters(), 1u);
        }
        co_await h;
        EXPECT_EQ(order, (std::vector<int>{1, 2}));
        EXPECT_FALSE(l.locked());
    }());
}

TEST(lock, holder_cancelled_while_holding_still_releases_in_guard) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        auto h = corio::spawn([&]() -> corio::task<> {
            auto g = co_await l.scoped();
            co_await corio::sleep(1h);  // cancelled here; the guard releases
        });
        co_await corio::sleep(0s);
        EXPECT_TRUE(l.locked());
        h.cancel();
        EXPECT_EQ(co_await outcome(h), "cancelled");
        EXPECT_FALSE(l.locked());
    }());
}

// ---------------------------------------------------------------- with

TEST(lock, with_holds_the_lock_for_the_body_and_releases_after) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        bool inside = false;
        co_await corio::with(l, [&](corio::lock& entered) -> corio::task<> {
            EXPECT_EQ(&entered, &l);
            EXPECT_TRUE(l.locked());
            inside = true;
            co_await corio::sleep(0s);
            EXPECT_TRUE(l.locked());
        });
        EXPECT_TRUE(inside);
        EXPECT_FALSE(l.locked());
    }());
}

TEST(lock, with_releases_when_the_body_throws) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        try {
            co_await corio::with(l, [&](corio::lock&) -> corio::task<> {
                co_await corio::sleep(0s);
                throw std::runtime_error("body failed");
            });
            ADD_FAILURE() << "the body's exception did not propagate";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "body failed");
        }
        EXPECT_FALSE(l.locked());
    }());
}

TEST(lock, with_releases_when_the_body_is_cancelled_and_the_next_waiter_gets_it) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        std::vector<int> order;
        auto a = corio::spawn([&]() -> corio::task<> {
            co_await corio::with(l, [&](corio::lock&) -> corio::task<> {
                order.push_back(1);
                co_await corio::sleep(1h);  // cancelled here
                order.push_back(99);
            });
        });
        auto b = corio::spawn(take_and_record(l, order, 2));
        co_await corio::sleep(0s);
        EXPECT_TRUE(l.locked());
        EXPECT_EQ(l.waiters(), 1u);
        a.cancel();
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(order, (std::vector<int>{1, 2}));
        EXPECT_FALSE(l.locked());
    }());
}

TEST(lock, with_cancelled_while_waiting_to_enter_does_not_release) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        bool body_ran = false;
        co_await l.acquire();
        auto a = corio::spawn([&]() -> corio::task<> {
            co_await corio::with(l, [&](corio::lock&) -> corio::task<> {
                body_ran = true;
                co_return;
            });
        });
        co_await corio::sleep(0s);
        a.cancel();
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_FALSE(body_ran);
        EXPECT_TRUE(l.locked());  // still main's: aexit did not run
        l.release();
        EXPECT_FALSE(l.locked());
    }());
}

TEST(lock, with_cancelled_after_the_lock_was_granted_passes_it_on) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        std::vector<int> order;
        co_await l.acquire();
        auto a = corio::spawn([&]() -> corio::task<> {
            co_await corio::with(l, [&](corio::lock&) -> corio::task<> {
                order.push_back(1);
                co_return;
            });
        });
        auto b = corio::spawn(take_and_record(l, order, 2));
        co_await corio::sleep(0s);
        l.release();  // aenter is granted the lock...
        a.cancel();   // ...and cancelled before it runs
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(order, (std::vector<int>{2}));  // a's body never ran
        EXPECT_FALSE(l.locked());
    }());
}

TEST(lock, with_two_locks_enters_left_to_right_and_exits_right_to_left) {
    corio::run([]() -> corio::task<> {
        corio::lock a, b;
        co_await corio::with(a, b, [&](corio::lock& x, corio::lock& y) -> corio::task<> {
            EXPECT_EQ(&x, &a);
            EXPECT_EQ(&y, &b);
            EXPECT_TRUE(a.locked());
            EXPECT_TRUE(b.locked());
            co_return;
        });
        EXPECT_FALSE(a.locked());
        EXPECT_FALSE(b.locked());
    }());
}

TEST(lock, with_serializes_critical_sections) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        int inside = 0;
        int most = 0;
        std::vector<corio::join_handle<>> workers;
        for (int i = 0; i < 5; ++i)
            workers.push_back(corio::spawn([&]() -> corio::task<> {
                co_await corio::with(l, [&](corio::lock&) -> corio::task<> {
                    ++inside;
                    most = std::max(most, inside);
                    co_await corio::sleep(0s);
                    --inside;
                });
            }));
        for (auto& w : workers) co_await w;
        EXPECT_EQ(most, 1);
        EXPECT_FALSE(l.locked());
    }());
}

TEST(lock, acquire_that_times_out_leaves_the_queue_taking_nothing) {
    corio::run([]() -> corio::task<> {
        corio::lock l;
        co_await l.acquire();
        try {
            co_await corio::with(corio::timeout(5ms), [&](corio::timeout_scope&) -> corio::task<> {
                co_await l.acquire();
                ADD_FAILURE() << "acquired a lock that was held";
            });
            ADD_FAILURE() << "the timeout did not fire";
        } catch (const corio::timeout_error&) {
        }
        EXPECT_EQ(l.waiters(), 0u);
        EXPECT_TRUE(l.locked());  // still held by us, once
        l.release();
        EXPECT_FALSE(l.locked());
    }());
}

}  // namespace
