// barrier: arrival indexes, release together, rounds, cancellation.
#include <corio/sync/barrier.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
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

// Arrives; records (id, index) once released.
corio::task<> arrive(corio::barrier& b, std::vector<std::pair<int, std::size_t>>& log, int id) {
    const std::size_t index = co_await b.wait();
    log.emplace_back(id, index);
}

using log_t = std::vector<std::pair<int, std::size_t>>;

TEST(barrier, zero_parties_throws_invalid_argument) {
    try {
        corio::barrier b(0);
        FAIL() << "barrier(0) did not throw";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "barrier: parties must be > 0, got 0");
    }
}

TEST(barrier, nobody_passes_until_the_last_arrives) {
    corio::run([]() -> corio::task<> {
        corio::barrier b(3);
        log_t log;
        auto x = corio::spawn(arrive(b, log, 1));
        auto y = corio::spawn(arrive(b, log, 2));
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
        EXPECT_EQ(b.n_waiting(), 2u);
        EXPECT_TRUE(log.empty());
        const std::size_t mine = co_await b.wait();  // the last: does not suspend
        EXPECT_EQ(mine, 2u);
        EXPECT_EQ(b.n_waiting(), 0u);
        co_await x;
        co_await y;
        EXPECT_EQ(log, (log_t{{1, 0}, {2, 1}}));
    }());
}

TEST(barrier, single_party_passes_at_once_with_index_zero) {
    corio::run([]() -> corio::task<> {
        corio::barrier b(1);
        EXPECT_EQ(co_await b.wait(), 0u);
        EXPECT_EQ(co_await b.wait(), 0u);
        EXPECT_EQ(b.parties(), 1u);
    }());
}

TEST(barrier, starts_over_for_the_next_round) {
    corio::run([]() -> corio::task<> {
        corio::barrier b(2);
        std::vector<std::size_t> indexes;
        auto other = corio::spawn([&]() -> corio::task<> {
            for (int round = 0; round < 3; ++round) indexes.push_back(co_await b.wait());
        });
        for (int round = 0; round < 3; ++round) {
            co_await corio::sleep(0s);  // let other arrive first
            indexes.push_back(co_await b.wait());
        }
        co_await other;
        // Each round: other arrives first (0), main last (1).
        EXPECT_EQ(indexes, (std::vector<std::size_t>{1, 0, 1, 0, 1, 0}));
    }());
}

TEST(barrier, wait_outside_a_task_throws_without_arriving) {
    corio::barrier b(1);  // would trip at once inside a task
    EXPECT_EQ(outside_task_error(b.wait()), "barrier::wait: not inside a task run by corio::run");
    EXPECT_EQ(outside_task_error(b.aenter()), "barrier::wait: not inside a task run by corio::run");
    EXPECT_EQ(b.n_waiting(), 0u);
}

TEST(barrier, wait_in_cancelled_scope_throws_without_arriving) {
    corio::run([]() -> corio::task<> {
        corio::barrier b(2);
        log_t log;
        auto x = corio::spawn(arrive(b, log, 1));
        x.cancel();
        EXPECT_EQ(co_await outcome(x), "cancelled");
        EXPECT_EQ(b.n_waiting(), 0u);
        auto y = corio::spawn(arrive(b, log, 2));
        co_await corio::sleep(0s);
        EXPECT_EQ(b.n_waiting(), 1u);  // x did not count
        EXPECT_EQ(co_await b.wait(), 1u);
        co_await y;
        EXPECT_EQ(log, (log_t{{2, 0}}));
    }());
}

TEST(barrier, cancelled_waiter_leaves_and_later_indexes_move_down) {
    corio::run([]() -> corio::task<> {
        corio::barrier b(3);
        log_t log;
        auto x = corio::spawn(arrive(b, log, 1));
        auto y = corio::spawn(arrive(b, log, 2));
        co_await corio::sleep(0s);
        EXPECT_EQ(b.n_waiting(), 2u);
        x.cancel();
        EXPECT_EQ(b.n_waiting(), 1u);
        EXPECT_EQ(co_await outcome(x), "cancelled");
        auto z = corio::spawn(arrive(b, log, 3));
        co_await corio::sleep(0s);
        EXPECT_EQ(b.n_waiting(), 2u);
        EXPECT_EQ(co_await b.wait(), 2u);
        co_await y;
        co_await z;
        // y moved from index 1 to 0: one round's indexes stay 0..n-1.
        EXPECT_EQ(log, (log_t{{2, 0}, {3, 1}}));
    }());
}

TEST(barrier, cancelled_middle_waiter_moves_only_later_indexes_down) {
    corio::run([]() -> corio::task<> {
        corio::barrier b(4);
        log_t log;
        auto x = corio::spawn(arrive(b, log, 1));
        auto y = corio::spawn(arrive(b, log, 2));
        auto z = corio::spawn(arrive(b, log, 3));
        co_await corio::sleep(0s);
        y.cancel();
        EXPECT_EQ(co_await outcome(y), "cancelled");
        auto w = corio::spawn(arrive(b, log, 4));
        co_await corio::sleep(0s);
        EXPECT_EQ(co_await b.wait(), 3u);
        co_await x;
        co_await z;
        co_await w;
        EXPECT_EQ(log, (log_t{{1, 0}, {3, 1}, {4, 2}}));
    }());
}

TEST(barrier, cancel_after_release_throws_and_the_others_pass) {
    corio::run([]() -> corio::task<> {
        corio::barrier b(3);
        log_t log;
        auto x = corio::spawn(arrive(b, log, 1));
        auto y = corio::spawn(arrive(b, log, 2));
        co_await corio::sleep(0s);
        EXPECT_EQ(co_await b.wait(), 2u);  // trips: x and y are woken...
        x.cancel();                        // ...x is cancelled before it runs
        EXPECT_EQ(co_await outcome(x), "cancelled");
        EXPECT_EQ(co_await outcome(y), "ok");
        EXPECT_EQ(log, (log_t{{2, 1}}));
        EXPECT_EQ(b.n_waiting(), 0u);
    }());
}

TEST(barrier, aenter_gives_the_arrival_index) {
    corio::run([]() -> corio::task<> {
        corio::barrier b(2);
        log_t log;
        auto x = corio::spawn(arrive(b, log, 1));
        co_await corio::sleep(0s);
        const std::size_t position = co_await b.aenter();
        EXPECT_EQ(position, 1u);
        co_await b.aexit(nullptr);
        co_await x;
        EXPECT_EQ(log, (log_t{{1, 0}}));
    }());
}

TEST(barrier, with_gives_the_arrival_index_to_the_body) {
    corio::run([]() -> corio::task<> {
        corio::barrier b(2);
        log_t log;
        auto x = corio::spawn(arrive(b, log, 1));
        co_await corio::sleep(0s);
        std::size_t seen = 99;
        co_await corio::with(b, [&](std::size_t& position) { seen = position; });
        EXPECT_EQ(seen, 1u);
        co_await x;
        EXPECT_EQ(log, (log_t{{1, 0}}));
    }());
}

}  // namespace
