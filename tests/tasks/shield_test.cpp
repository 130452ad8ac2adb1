// shield: the shielded awaitable runs to completion although its scope was
// cancelled, the awaiter waits for it, and the pending cancellation surfaces
// at the next unshielded await.
#include <corio/tasks/shield.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <corio/detail/event_loop.hpp>
#include <corio/errors.hpp>
#include <corio/run.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>
#include <corio/time/timeout.hpp>
#include <corio/context/with.hpp>

#include "../support/outcome.hpp"

using namespace std::chrono_literals;

namespace {

using log_t = std::vector<std::string>;
using steady = std::chrono::steady_clock;

using corio_test::outcome;

corio::task<int> slow_value(log_t& log, std::chrono::milliseconds d, int v) {
    co_await corio::sleep(d);
    log.push_back("shielded work done");
    co_return v;
}

TEST(shield, shielded_awaitable_runs_to_completion_although_the_task_was_cancelled) {
    log_t log;
    const auto start = steady::now();
    corio::run([&]() -> corio::task<> {
        auto h = corio::spawn([&log]() -> corio::task<> {
            const int v = co_await corio::shield(slow_value(log, 20ms, 5));
            log.push_back("shield gave " + std::to_string(v));
            try {
                co_await corio::sleep(0s);  // the first unshielded await
                log.push_back("not cancelled?");
            } catch (const corio::cancelled_error&) {
                log.push_back("cancellation surfaced");
                throw;
            }
        });
        co_await corio::sleep(0s);
        h.cancel();  // while the shielded sleep runs
        co_await corio::sleep(0s);
        EXPECT_TRUE(log.empty());
        EXPECT_FALSE(h.done());
        EXPECT_EQ(co_await outcome(h), "cancelled");
    }());
    EXPECT_EQ(log, (log_t{"shielded work done", "shield gave 5", "cancellation surfaced"}));
    EXPECT_GE(steady::now() - start, 20ms);  // the cancel did not cut the sleep short
}

TEST(shield, inside_an_already_cancelled_scope_the_shielded_await_still_runs) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto m = corio::move_on_at(steady::now() - 1s);  // cancelled on entry
        co_await corio::with(m, [&](corio::timeout_scope&) -> corio::task<> {
            co_await corio::shield(corio::sleep(1ms));
            log.push_back("shielded sleep returned");
            co_await corio::shield(corio::sleep(0s));
            log.push_back("shielded yield returned");
            co_await corio::sleep(0s);
            log.push_back("unshielded returned");  // never
        });
        EXPECT_TRUE(m.cancelled_caught());
    }());
    EXPECT_EQ(log, (log_t{"shielded sleep returned", "shielded yield returned"}));
}

TEST(shield, protects_from_a_timeout_expiring_meanwhile) {
    log_t log;
    const auto start = steady::now();
    corio::run([&]() -> corio::task<> {
        auto t = corio::timeout(5ms);
        try {
            co_await corio::with(t, [&](corio::timeout_scope&) -> corio::task<> {
                const int v = co_await corio::shield(slow_value(log, 30ms, 1));
                log.push_back("got " + std::to_string(v));
                co_await corio::sleep(0s);
            });
        } catch (const corio::timeout_error&) {
            log.push_back("timeout_error");
        }
        EXPECT_TRUE(t.expired());
    }());
    EXPECT_EQ(log, (log_t{"shielded work done", "got 1", "timeout_error"}));
    EXPECT_GE(steady::now() - start, 30ms);
}

TEST(shield, a_cancel_scope_inside_the_shield_still_works) {
    // The shield stops cancellations from outside only.
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto inner = [&log]() -> corio::task<> {
            auto m = corio::move_on_after(5ms);
            co_await corio::with(m, [](corio::timeout_scope&) -> corio::task<> { co_await corio::sleep(1s); });
            log.push_back(m.cancelled_caught() ? "inner move_on fired" : "inner move_on did not fire");
        };
        co_await corio::shield(inner());
    }());
    EXPECT_EQ(log, (log_t{"inner move_on fired"}));
}

TEST(shield, passes_the_exception_of_the_awaitable_through) {
    corio::run([]() -> corio::task<> {
        auto failing = []() -> corio::task<int> {
            co_await corio::sleep(0s);
            throw std::runtime_error("shielded failure");
        };
        try {
            (void)co_await corio::shield(failing());
            ADD_FAILURE() << "no exception";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "shielded failure");
        }
    }());
}

TEST(shield, of_a_join_handle_waits_for_the_task_while_the_awaiter_is_cancelled) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto worker = corio::spawn(slow_value(log, 10ms, 3));
        auto waiter = corio::spawn([&log, &worker]() -> corio::task<> {
            const int v = co_await corio::shield(std::move(worker));
            log.push_back("worker gave " + std::to_string(v));
            co_await corio::sleep(0s);
        });
        co_await corio::sleep(0s);
        waiter.cancel();  // does not reach the worker through the shield
        EXPECT_EQ(co_await outcome(waiter), "cancelled");
    }());
    EXPECT_EQ(log, (log_t{"shielded work done", "worker gave 3"}));
}

}  // namespace

// A cancel_scope keeps its cancellation's number in 56 bits (the rest of the
// word holds a fiber's state). At the last numbers, an exit's shield still
// stops the cancellation in effect when the exit started (number max - 2)
// and not a later one (max - 1, a timeout expiring during the exit);
// numbering past the last one stops the process with a message instead of
// wrapping, which would reorder cancellations and shields.
struct slow_exit {
    log_t* log;
    corio::task<> aenter() { co_return; }
    corio::task<> aexit(std::exception_ptr) {
        try {
            co_await corio::sleep(5ms);
            log->push_back("exit ran under its shield");
            co_await corio::sleep(1h);
            log->push_back("exit slept an hour");
        } catch (const corio::cancelled_error&) {
            log->push_back("exit cut by the later timeout");
            throw;
        }
    }
};

TEST(shield, cancellation_numbers_at_their_56_bit_limit_keep_exit_shields_right) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        corio::detail::event_loop::current("test").set_cancel_counter_for_test(corio::detail::max_cancel_number - 3);
        auto victim = corio::spawn([&]() -> corio::task<> {
            co_await corio::with(corio::timeout(50ms), [&](corio::timeout_scope&) -> corio::task<> {
                slow_exit cm{&log};
                co_await corio::with(cm, [&]() -> corio::task<> { co_await corio::sleep(1h); });
            });
        });
        co_await corio::sleep(1ms);
        victim.cancel();  // number max - 2; the timeout will be max - 1
        EXPECT_EQ(co_await outcome(victim), "cancelled");
    }());
    EXPECT_EQ(log, (log_t{"exit ran under its shield", "exit cut by the later timeout"}));
}

TEST(shield_death, numbering_past_the_56_bit_limit_stops_with_a_message) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(corio::run([]() -> corio::task<> {
        corio::detail::event_loop::current("test").set_cancel_counter_for_test(corio::detail::max_cancel_number - 1);
        auto a = corio::spawn([]() -> corio::task<> { co_await corio::sleep(1h); });
        auto b = corio::spawn([]() -> corio::task<> { co_await corio::sleep(1h); });
        co_await corio::sleep(0s);
        a.cancel();  // numbered max: fine
        b.cancel();  // would be max + 1
        co_await corio::sleep(0s);
    }()), "cancellations on one loop");
}
