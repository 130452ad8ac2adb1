// semaphore and bounded_semaphore: permits, FIFO handoff, bounds, cancellation.
#include <corio/sync/semaphore.hpp>

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

// Takes a permit, records `id`, keeps it until `hold` is over, gives it back.
corio::task<> take_and_record(corio::semaphore& s, std::vector<int>& order, int id) {
    co_await s.acquire();
    order.push_back(id);
    co_await corio::sleep(0s);
    s.release();
}

// Takes a permit through scoped(); the guard gives it back when the task ends.
template <class S>
corio::task<> scoped_and_record(S& s, std::vector<int>& order, int id) {
    auto guard = co_await s.scoped();
    order.push_back(id);
    co_await corio::sleep(0s);
}

static_assert(std::is_same_v<decltype(std::declval<corio::semaphore&>().value()), std::ptrdiff_t>);
static_assert(std::is_same_v<decltype(std::declval<corio::bounded_semaphore&>().aenter().await_resume()),
                             corio::bounded_semaphore&>);
static_assert(std::is_same_v<decltype(std::declval<corio::semaphore&>().aenter().await_resume()), corio::semaphore&>);

TEST(semaphore, acquire_takes_and_release_gives_back_permits) {
    corio::run([]() -> corio::task<> {
        corio::semaphore s(2);
        EXPECT_EQ(s.value(), 2);
        EXPECT_FALSE(s.locked());
        co_await s.acquire();
        EXPECT_EQ(s.value(), 1);
        co_await s.acquire();
        EXPECT_EQ(s.value(), 0);
        EXPECT_TRUE(s.locked());
        s.release();
        EXPECT_EQ(s.value(), 1);
        s.release();
        s.release();  // an unbounded semaphore may go past its initial value
        EXPECT_EQ(s.value(), 3);
    }());
}

TEST(semaphore, default_value_is_one) {
    corio::semaphore s;
    EXPECT_EQ(s.value(), 1);
    corio::bounded_semaphore b;
    EXPECT_EQ(b.value(), 1);
}

TEST(semaphore, negative_initial_value_throws_invalid_argument) {
    try {
        corio::semaphore s(-1);
        FAIL() << "semaphore(-1) did not throw";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "semaphore: initial value must be >= 0, got -1");
    }
    try {
        corio::bounded_semaphore s(-2);
        FAIL() << "bounded_semaphore(-2) did not throw";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "bounded_semaphore: initial value must be >= 0, got -2");
    }
}

TEST(semaphore, every_form_of_acquire_outside_a_task_names_itself) {
    corio::semaphore s(1);
    EXPECT_EQ(outside_task_error(s.acquire()), "semaphore::acquire: not inside a task run by corio::run");
    EXPECT_EQ(outside_task_error(s.aenter()), "semaphore::aenter: not inside a task run by corio::run");
    EXPECT_EQ(outside_task_error(s.scoped()), "semaphore::scoped: not inside a task run by corio::run");
    EXPECT_EQ(s.value(), 1);  // nothing taken
}

TEST(semaphore, waiters_get_permits_in_fifo_order) {
    corio::run([]() -> corio::task<> {
        corio::semaphore s(0);
        std::vector<int> order;
        auto a = corio::spawn(take_and_record(s, order, 1));
        auto b = corio::spawn(take_and_record(s, order, 2));
        auto c = corio::spawn(take_and_record(s, order, 3));
        co_await corio::sleep(0s);
        EXPECT_EQ(s.waiters(), 3u);
        s.release();
        co_await a;
        co_await b;
        co_await c;
        EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
        EXPECT_EQ(s.value(), 1);
    }());
}

TEST(semaphore, release_hands_the_permit_to_the_first_waiter) {
    corio::run([]() -> corio::task<> {
        corio::semaphore s(0);
        std::vector<int> order;
        auto a = corio::spawn(take_and_record(s, order, 1));
        co_await corio::sleep(0s);
        s.release();
        EXPECT_EQ(s.value(), 0);  // went straight to a, which has not run yet
        EXPECT_TRUE(s.locked());
        // A late acquirer queues behind a instead of taking it.
        co_await s.acquire();
        order.push_back(0);
        EXPECT_EQ(order, (std::vector<int>{1, 0}));
        co_await a;
        EXPECT_EQ(s.value(), 0);
        s.release();
        EXPECT_EQ(s.value(), 1);
    }());
}

TEST(semaphore, bounded_release_past_initial_value_throws_logic_error) {
    corio::run([]() -> corio::task<> {
        corio::bounded_semaphore s(2);
        co_await s.acquire();
        s.release();
        EXPECT_EQ(s.value(), 2);
        try {
            s.release();
            ADD_FAILURE() << "release past the bound did not throw";
        } catch (const std::logic_error& e) {
            EXPECT_STREQ(e.what(), "bounded_semaphore::release: released too many times (value would exceed 2)");
        }
        EXPECT_EQ(s.value(), 2);
    }());
}

TEST(semaphore, bounded_release_through_base_reference_is_still_checked) {
    corio::bounded_semaphore b(1);
    corio::semaphore& s = b;
    EXPECT_THROW(s.release(), std::logic_error);
    EXPECT_EQ(b.value(), 1);
}

TEST(semaphore, acquire_in_cancelled_scope_throws_even_with_permits) {
    corio::run([]() -> corio::task<> {
        corio::semaphore s(3);
        bool acquired = false;
        auto h = corio::spawn([&]() -> corio::task<> {
            co_await s.acquire();
            acquired = true;
        });
        h.cancel();
        EXPECT_EQ(co_await outcome(h), "cancelled");
        EXPECT_FALSE(acquired);
        EXPECT_EQ(s.value(), 3);
    }());
}

TEST(semaphore, cancelled_waiter_takes_no_permit) {
    corio::run([]() -> corio::task<> {
        corio::semaphore s(0);
        std::vector<int> order;
        auto a = corio::spawn(take_and_record(s, order, 1));
        auto b = corio::spawn(take_and_record(s, order, 2));
        co_await corio::sleep(0s);
        a.cancel();
        EXPECT_EQ(s.waiters(), 1u);
        EXPECT_EQ(co_await outcome(a), "cancelled");
        s.release();
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(order, (std::vector<int>{2}));
        EXPECT_EQ(s.value(), 1);
    }());
}

TEST(semaphore, cancel_after_wake_passes_grant) {
    corio::run([]() -> corio::task<> {
        corio::semaphore s(0);
        std::vector<int> order;
        auto a = corio::spawn(take_and_record(s, order, 1));
        auto b = corio::spawn(take_and_record(s, order, 2));
        co_await corio::sleep(0s);
        s.release();  // granted to a...
        a.cancel();   // ...cancelled before it runs
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(order, (std::vector<int>{2}));
        EXPECT_EQ(s.value(), 1);
    }());
}

TEST(semaphore, bounded_cancel_after_wake_returns_the_permit_without_overflow) {
    corio::run([]() -> corio::task<> {
        corio::bounded_semaphore s(1);
        co_await s.acquire();
        auto a = corio::spawn([&]() -> corio::task<> { co_await s.acquire(); });
        co_await corio::sleep(0s);
        s.release();
        a.cancel();
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_EQ(s.value(), 1);
    }());
}

TEST(semaphore, bounded_scoped_cancelled_after_wake_passes_grant) {
    corio::run([]() -> corio::task<> {
        corio::bounded_semaphore s(1);
        std::vector<int> order;
        co_await s.acquire();
        auto a = corio::spawn(scoped_and_record(s, order, 1));
        auto b = corio::spawn(scoped_and_record(s, order, 2));
        co_await corio::sleep(0s);
        s.release();  // granted to a...
        a.cancel();   // ...cancelled before it runs: no guard is made
        EXPECT_EQ(co_await outcome(a), "cancelled");
        EXPECT_EQ(co_await outcome(b), "ok");
        EXPECT_EQ(order, (std::vector<int>{2}));
        EXPECT_EQ(s.value(), 1);  // given back once, by b's guard: no overflow
    }());
}

TEST(semaphore, aenter_gives_the_semaphore_and_aexit_releases) {
    corio::run([]() -> corio::task<> {
        corio::semaphore s(1);
        corio::semaphore& entered = co_await s.aenter();
        EXPECT_EQ(&entered, &s);
        EXPECT_EQ(s.value(), 0);
        EXPECT_FALSE(co_await s.aexit(nullptr));
        EXPECT_EQ(s.value(), 1);

        corio::bounded_semaphore b(1);
        corio::bounded_semaphore& be = co_await b.aenter();
        EXPECT_EQ(&be, &b);
        EXPECT_EQ(b.value(), 0);
        EXPECT_FALSE(co_await b.aexit(nullptr));
        EXPECT_EQ(b.value(), 1);
    }());
}

TEST(semaphore, scoped_guard_releases_one_permit) {
    corio::run([]() -> corio::task<> {
        corio::bounded_semaphore s(2);
        {
            auto g1 = co_await s.scoped();
            auto g2 = co_await s.scoped();
            EXPECT_TRUE(s.locked());
            g1.reset();
            EXPECT_EQ(s.value(), 1);
        }
        EXPECT_EQ(s.value(), 2);
    }());
}

TEST(semaphore, limits_concurrency_to_its_value) {
    corio::run([]() -> corio::task<> {
        corio::semaphore s(2);
        int inside = 0;
        int most = 0;
        std::vector<corio::join_handle<>> workers;
        for (int i = 0; i < 6; ++i)
            workers.push_back(corio::spawn([&]() -> corio::task<> {
                auto g = co_await s.scoped();
                ++inside;
                most = std::max(most, inside);
                co_await corio::sleep(0s);
                co_await corio::sleep(0s);
                --inside;
            }));
        for (auto& w : workers) co_await w;
        EXPECT_EQ(most, 2);
        EXPECT_EQ(s.value(), 2);
    }());
}

TEST(semaphore, with_takes_a_permit_for_the_body) {
    corio::run([]() -> corio::task<> {
        corio::bounded_semaphore s(2);
        co_await corio::with(s, [&](corio::bounded_semaphore& entered) -> corio::task<> {
            EXPECT_EQ(&entered, &s);
            EXPECT_EQ(s.value(), 1);
            co_return;
        });
        EXPECT_EQ(s.value(), 2);
        try {
            co_await corio::with(s, [&](corio::bounded_semaphore&) -> corio::task<> {
                co_await corio::sleep(0s);
                throw std::runtime_error("body failed");
            });
        } catch (const std::runtime_error&) {
        }
        EXPECT_EQ(s.value(), 2);
    }());
}

}  // namespace
