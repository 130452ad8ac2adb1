// Debug mode (issue 2, item 7): frames destroyed while suspended, and
// managers still entered when the loop ends, are reported with where they
// were entered.
#include <gtest/gtest.h>

#include <string>

#include <corio/corio.hpp>

#include "../support/recording_manager.hpp"

using namespace std::chrono_literals;
using corio_test::log_t;

namespace {
corio::async_generator<int> plain_numbers() {
    for (int i = 0;; ++i) co_yield i;
}

corio::async_generator<int> numbers_holding(log_t& log) {
    co_await corio::enter(corio_test::recording_manager{&log, "held"});
    for (int i = 0;; ++i) co_yield i;
}
}  // namespace

TEST(debug_lifetimes, generator_destroyed_while_suspended_is_reported) {
    testing::internal::CaptureStderr();
    corio::run(
        []() -> corio::task<> {
            auto g = plain_numbers();
            co_await g.next();
        }(),
        corio::run_options{.debug = true});
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("async_generator destroyed while suspended"), std::string::npos) << err;
}

TEST(debug_lifetimes, closed_generator_is_not_reported) {
    testing::internal::CaptureStderr();
    corio::run(
        []() -> corio::task<> {
            auto g = plain_numbers();
            co_await g.next();
            co_await g.aclose();
        }(),
        corio::run_options{.debug = true});
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(err.find("destroyed while suspended"), std::string::npos) << err;
}

TEST(debug_lifetimes, manager_still_entered_at_loop_end_is_reported_with_its_location) {
    log_t log;
    corio::async_generator<int> outlives_the_loop;
    testing::internal::CaptureStderr();
    corio::run(
        [&]() -> corio::task<> {
            outlives_the_loop = numbers_holding(log);
            co_await outlives_the_loop.next();
        }(),
        corio::run_options{.debug = true});
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("enter still entered at loop end"), std::string::npos) << err;
    EXPECT_NE(err.find("debug_lifetimes_test.cpp"), std::string::npos) << err;
    // Destroyed outside any loop: the frame is freed, the exit cannot run.
    outlives_the_loop = corio::async_generator<int>();
    EXPECT_EQ(log, (log_t{"enter held"}));
}

TEST(debug_lifetimes, nothing_is_reported_for_a_clean_program) {
    log_t log;
    testing::internal::CaptureStderr();
    corio::run(
        [&]() -> corio::task<> {
            co_await corio::with(corio_test::recording_manager{&log, "m"}, [](auto&) -> corio::task<> {
                co_await corio::sleep(1ms);
            });
        }(),
        corio::run_options{.debug = true});
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(err.find("still"), std::string::npos) << err;
    EXPECT_EQ(err.find("destroyed"), std::string::npos) << err;
}
