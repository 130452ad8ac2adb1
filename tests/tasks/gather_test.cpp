// gather and gather_settled: results in argument order, start order, the
// first failure cancelling and awaiting the siblings, cancellation of the
// awaiter reaching every child, settled outcomes cancelling nothing.
#include <corio/tasks/gather.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <corio/errors.hpp>
#include <corio/run.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>

#include "../support/outcome.hpp"

using namespace std::chrono_literals;

namespace {

using log_t = std::vector<std::string>;

static_assert(std::is_same_v<decltype(corio::gather(std::declval<corio::task<int>>(),
                                                    std::declval<corio::task<>>()))::value_type,
                             std::tuple<int, std::monostate>>);
static_assert(std::is_same_v<decltype(corio::gather(std::declval<std::vector<corio::task<int>>>()))::value_type,
                             std::vector<int>>);
static_assert(std::is_same_v<decltype(corio::gather_settled(std::declval<corio::task<int>>()))::value_type,
                             std::tuple<std::variant<int, std::exception_ptr>>>);
static_assert(std::is_same_v<decltype(corio::gather_settled(std::declval<corio::task<>>()))::value_type,
                             std::tuple<std::variant<std::monostate, std::exception_ptr>>>);

using corio_test::outcome;

// Records its start, yields `yields` times, records its end, gives `value`.
template <class T>
corio::task<T> after_yields(log_t& log, std::string name, int yields, T value) {
    log.push_back(name + " start");
    for (int i = 0; i < yields; ++i) co_await corio::sleep(0s);
    log.push_back(name + " end");
    co_return value;
}

corio::task<> void_after_yields(log_t& log, std::string name, int yields) {
    log.push_back(name + " start");
    for (int i = 0; i < yields; ++i) co_await corio::sleep(0s);
    log.push_back(name + " end");
}

corio::task<int> fail_after_yields(log_t& log, std::string name, int yields, std::string message) {
    log.push_back(name + " start");
    for (int i = 0; i < yields; ++i) co_await corio::sleep(0s);
    log.push_back(name + " throws");
    throw std::runtime_error(message);
}

// Sleeps "forever"; records its cancellation before letting it go on.
corio::task<int> sleep_recording(log_t& log, std::string name) {
    log.push_back(name + " start");
    try {
        co_await corio::sleep(1h);
    } catch (const corio::cancelled_error&) {
        log.push_back(name + " cancelled");
        throw;
    }
    co_return 0;
}

TEST(gather, gives_a_tuple_of_results_in_argument_order) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        // The last argument finishes first; the tuple keeps argument order.
        auto [a, b, c] = co_await corio::gather(after_yields<int>(log, "a", 3, 1),
                                                after_yields<std::string>(log, "b", 2, "two"),
                                                void_after_yields(log, "c", 0));
        EXPECT_EQ(a, 1);
        EXPECT_EQ(b, "two");
        EXPECT_EQ(c, std::monostate{});
    }());
    EXPECT_EQ(log, (log_t{"a start", "b start", "c start", "c end", "b end", "a end"}));
}

TEST(gather, starts_its_arguments_in_order) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto t = co_await corio::gather(after_yields<int>(log, "1", 1, 1), after_yields<int>(log, "2", 1, 2),
                                        after_yields<int>(log, "3", 1, 3), after_yields<int>(log, "4", 1, 4));
        EXPECT_EQ(t, std::make_tuple(1, 2, 3, 4));
    }());
    EXPECT_EQ(log, (log_t{"1 start", "2 start", "3 start", "4 start", "1 end", "2 end", "3 end", "4 end"}));
}

TEST(gather, vector_form_gives_results_in_order) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        std::vector<corio::task<int>> tasks;
        for (int i = 0; i < 5; ++i) tasks.push_back(after_yields<int>(log, std::to_string(i), 5 - i, i * 10));
        std::vector<int> results = co_await corio::gather(std::move(tasks));
        EXPECT_EQ(results, (std::vector<int>{0, 10, 20, 30, 40}));
    }());
    EXPECT_EQ(log.front(), "0 start");
    EXPECT_EQ(log[4], "4 start");
    EXPECT_EQ(log.back(), "0 end");  // the longest ran last
}

TEST(gather, vector_of_void_tasks_gives_monostates) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        std::vector<corio::task<>> tasks;
        tasks.push_back(void_after_yields(log, "a", 1));
        tasks.push_back(void_after_yields(log, "b", 0));
        auto results = co_await corio::gather(std::move(tasks));
        EXPECT_EQ(results.size(), 2u);
    }());
    EXPECT_EQ(log, (log_t{"a start", "b start", "b end", "a end"}));
}

TEST(gather, empty_vector_gives_an_empty_vector) {
    corio::run([]() -> corio::task<> {
        std::vector<corio::task<int>> none;
        std::vector<int> results = co_await corio::gather(std::move(none));
        EXPECT_TRUE(results.empty());
        std::vector<corio::task<int>> none_settled;
        auto settled = co_await corio::gather_settled(std::move(none_settled));
        EXPECT_TRUE(settled.empty());
    }());
}

TEST(gather, tasks_run_concurrently) {
    // Every sleeper starts before any ends: they overlap. (Not a bound on the
    // time taken, which a busy machine can stretch past 4 x 100 ms.)
    log_t log;
    const auto start = std::chrono::steady_clock::now();
    corio::run([&]() -> corio::task<> {
        auto sleeper = [&log](int v) -> corio::task<int> {
            log.push_back("start " + std::to_string(v));
            co_await corio::sleep(100ms);
            log.push_back("end " + std::to_string(v));
            co_return v;
        };
        auto r = co_await corio::gather(sleeper(1), sleeper(2), sleeper(3), sleeper(4));
        EXPECT_EQ(r, std::make_tuple(1, 2, 3, 4));
    }());
    EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
    ASSERT_EQ(log.size(), 8u);
    EXPECT_EQ(log_t(log.begin(), log.begin() + 4), (log_t{"start 1", "start 2", "start 3", "start 4"}));
}

TEST(gather, first_failure_cancels_and_awaits_the_siblings_then_rethrows) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        try {
            co_await corio::gather(sleep_recording(log, "a"), fail_after_yields(log, "b", 1, "b failed"),
                                   sleep_recording(log, "c"));
            ADD_FAILURE() << "gather did not throw";
        } catch (const std::runtime_error& e) {
            log.push_back(std::string("gather threw ") + e.what());
        }
    }());
    // The siblings' cancellation handlers ran before gather rethrew.
    ASSERT_EQ(log.size(), 7u);
    EXPECT_EQ(log_t(log.begin(), log.begin() + 4), (log_t{"a start", "b start", "c start", "b throws"}));
    log_t cancelled(log.begin() + 4, log.begin() + 6);
    std::sort(cancelled.begin(), cancelled.end());
    EXPECT_EQ(cancelled, (log_t{"a cancelled", "c cancelled"}));
    EXPECT_EQ(log.back(), "gather threw b failed");
}

TEST(gather, rethrows_the_first_exception_when_several_fail) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        // "late" fails only in its cancellation handler, after "early".
        auto late = [&log]() -> corio::task<int> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
                log.push_back("late fails while cancelled");
                throw std::logic_error("late");
            }
            co_return 0;
        };
        try {
            co_await corio::gather(late(), fail_after_yields(log, "early", 1, "early"));
            ADD_FAILURE() << "gather did not throw";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "early");
        } catch (const std::logic_error& e) {
            ADD_FAILURE() << "the later failure was rethrown: " << e.what();
        }
    }());
    EXPECT_EQ(log, (log_t{"early start", "early throws", "late fails while cancelled"}));
}

TEST(gather, vector_form_first_failure_cancels_the_siblings) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        std::vector<corio::task<int>> tasks;
        tasks.push_back(sleep_recording(log, "a"));
        tasks.push_back(fail_after_yields(log, "b", 0, "b failed"));
        try {
            co_await corio::gather(std::move(tasks));
            ADD_FAILURE() << "gather did not throw";
        } catch (const std::runtime_error& e) {
            log.push_back(e.what());
        }
    }());
    EXPECT_EQ(log, (log_t{"a start", "b start", "b throws", "a cancelled", "b failed"}));
}

TEST(gather, cancellation_of_the_awaiter_reaches_every_child) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto h = corio::spawn([&log]() -> corio::task<> {
            try {
                co_await corio::gather(sleep_recording(log, "a"), sleep_recording(log, "b"),
                                       sleep_recording(log, "c"));
            } catch (const corio::cancelled_error&) {
                log.push_back("gather cancelled");
                throw;
            }
        });
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
        EXPECT_EQ(log, (log_t{"a start", "b start", "c start"}));
        h.cancel();
        EXPECT_EQ(co_await outcome(h), "cancelled");
    }());
    ASSERT_EQ(log.size(), 7u);
    log_t cancelled(log.begin() + 3, log.begin() + 6);
    std::sort(cancelled.begin(), cancelled.end());
    EXPECT_EQ(cancelled, (log_t{"a cancelled", "b cancelled", "c cancelled"}));
    EXPECT_EQ(log.back(), "gather cancelled");
}

TEST(gather, a_child_that_swallows_the_awaiters_cancellation_still_ends_in_cancelled_error) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto h = corio::spawn([&log]() -> corio::task<> {
            auto stubborn = [&log]() -> corio::task<int> {
                try {
                    co_await corio::sleep(1h);
                } catch (const corio::cancelled_error&) {
                    log.push_back("stubborn swallowed it");
                }
                co_return 1;
            };
            auto r = co_await corio::gather(stubborn(), sleep_recording(log, "other"));
            log.push_back("gather returned " + std::to_string(std::get<0>(r)));
        });
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
        h.cancel();
        EXPECT_EQ(co_await outcome(h), "cancelled");
    }());
    EXPECT_EQ(std::count(log.begin(), log.end(), "stubborn swallowed it"), 1);
    EXPECT_EQ(std::count(log.begin(), log.end(), "other cancelled"), 1);
    EXPECT_EQ(std::count_if(log.begin(), log.end(), [](const std::string& s) { return s.starts_with("gather returned"); }),
              0);
}

TEST(gather, a_moved_from_task_is_a_logic_error) {
    corio::run([]() -> corio::task<> {
        auto t = []() -> corio::task<int> { co_return 1; }();
        auto moved = std::move(t);
        EXPECT_THROW((void)co_await corio::gather(std::move(t), std::move(moved)), std::logic_error);
    }());
}

TEST(gather_settled, gives_every_outcome_and_cancels_nothing) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto [a, b, c] = co_await corio::gather_settled(fail_after_yields(log, "a", 0, "a failed"),
                                                        after_yields<int>(log, "b", 3, 2),
                                                        void_after_yields(log, "c", 2));
        EXPECT_EQ(a.index(), 1u);
        try {
            std::rethrow_exception(std::get<1>(a));
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "a failed");
        }
        EXPECT_EQ(b.index(), 0u);
        EXPECT_EQ(std::get<0>(b), 2);
        EXPECT_EQ(c.index(), 0u);
    }());
    // The failure of "a" did not cancel its siblings: both ran to the end.
    EXPECT_EQ(log, (log_t{"a start", "a throws", "b start", "c start", "c end", "b end"}));
}

TEST(gather_settled, vector_form_gives_every_outcome) {
    corio::run([]() -> corio::task<> {
        log_t log;
        std::vector<corio::task<int>> tasks;
        tasks.push_back(after_yields<int>(log, "a", 1, 1));
        tasks.push_back(fail_after_yields(log, "b", 0, "b failed"));
        tasks.push_back(after_yields<int>(log, "c", 2, 3));
        auto results = co_await corio::gather_settled(std::move(tasks));
        EXPECT_EQ(results.size(), 3u);
        EXPECT_EQ(std::get<0>(results.at(0)), 1);
        EXPECT_EQ(results.at(1).index(), 1u);
        EXPECT_EQ(corio::describe(std::get<1>(results.at(1))), "std::runtime_error: b failed");
        EXPECT_EQ(std::get<0>(results.at(2)), 3);
    }());
}

TEST(gather_settled, cancellation_of_the_awaiter_reaches_every_child_and_throws) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto h = corio::spawn([&log]() -> corio::task<> {
            co_await corio::gather_settled(sleep_recording(log, "a"), sleep_recording(log, "b"));
            log.push_back("gather_settled returned");
        });
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
        h.cancel();
        EXPECT_EQ(co_await outcome(h), "cancelled");
    }());
    log_t sorted = log;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (log_t{"a cancelled", "a start", "b cancelled", "b start"}));
}

}  // namespace
