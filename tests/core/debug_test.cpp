// Debug mode and the reports on stderr: an exception nobody retrieved (always
// reported), steps longer than 100 ms without yielding, the banner naming the
// backend, CORIO_DEBUG in the environment.
#include <corio/run.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include <corio/errors.hpp>
#include <corio/run_options.hpp>
#include <corio/spawn.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>
#include "../support/scoped_env.hpp"

using namespace std::chrono_literals;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

using corio_test::scoped_env;

corio::task<> fail_detached() {
    co_await corio::sleep(0s);
    throw std::runtime_error("nobody looked at me");
}

// Runs `main` with `options`, capturing what it writes to stderr.
std::string stderr_of(corio::task<> main, corio::run_options options = {}) {
    testing::internal::CaptureStderr();
    try {
        corio::run(std::move(main), options);
    } catch (...) {
        testing::internal::GetCapturedStderr();
        throw;
    }
    return testing::internal::GetCapturedStderr();
}

TEST(debug, unretrieved_exception_of_a_detached_task_is_reported_without_debug_mode) {
    scoped_env no_debug("CORIO_DEBUG", "0");
    const std::string err = stderr_of([]() -> corio::task<> {
        corio::spawn(fail_detached()).detach();
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
    }());
    EXPECT_TRUE(contains(err, "exception in a task nobody awaited")) << err;
    EXPECT_TRUE(contains(err, "std::runtime_error: nobody looked at me")) << err;
    EXPECT_TRUE(contains(err, "debug_test.cpp")) << err;  // where it was spawned
    EXPECT_FALSE(contains(err, "corio debug:")) << err;
}

TEST(debug, unretrieved_exception_is_reported_when_the_handle_is_dropped_after_the_end) {
    scoped_env no_debug("CORIO_DEBUG", "0");
    const std::string err = stderr_of([]() -> corio::task<> {
        auto h = corio::spawn(fail_detached());
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
        EXPECT_TRUE(h.done());
        h = corio::join_handle<>{};  // dropped unread
    }());
    EXPECT_TRUE(contains(err, "nobody looked at me")) << err;
}

TEST(debug, a_retrieved_exception_is_not_reported) {
    const std::string err = stderr_of(
        []() -> corio::task<> {
            auto h = corio::spawn(fail_detached());
            EXPECT_THROW(co_await h, std::runtime_error);
        }(),
        corio::run_options{.debug = true});
    EXPECT_FALSE(contains(err, "nobody awaited")) << err;
    EXPECT_FALSE(contains(err, "nobody looked at me")) << err;
}

TEST(debug, a_cancelled_detached_task_is_not_reported_as_a_failure) {
    scoped_env no_debug("CORIO_DEBUG", "0");
    const std::string err = stderr_of([]() -> corio::task<> {
        corio::spawn([]() -> corio::task<> { co_await corio::sleep(1h); }).detach();
        co_await corio::sleep(0s);
    }());  // run cancels it at the end
    EXPECT_EQ(err, "");
}

TEST(debug, a_step_longer_than_100ms_is_reported) {
    const std::string err = stderr_of(
        []() -> corio::task<> {
            auto h = corio::spawn([]() -> corio::task<> {
                co_await corio::sleep(0s);
                std::this_thread::sleep_for(120ms);  // blocks the loop
            });
            co_await h;
        }(),
        corio::run_options{.debug = true});
    EXPECT_TRUE(contains(err, "corio debug: a step of a task took")) << err;
    EXPECT_TRUE(contains(err, "ms without yielding")) << err;
    EXPECT_TRUE(contains(err, "debug_test.cpp")) << err;  // the task's spawn site
}

TEST(debug, a_short_step_is_not_reported) {
    const std::string err = stderr_of(
        []() -> corio::task<> {
            std::this_thread::sleep_for(5ms);
            co_await corio::sleep(0s);
        }(),
        corio::run_options{.debug = true});
    EXPECT_FALSE(contains(err, "without yielding")) << err;
}

TEST(debug, slow_steps_are_not_reported_without_debug_mode) {
    scoped_env no_debug("CORIO_DEBUG", "0");
    const std::string err = stderr_of([]() -> corio::task<> {
        co_await corio::sleep(0s);
        std::this_thread::sleep_for(120ms);
    }());
    EXPECT_EQ(err, "");
}

TEST(debug, banner_names_the_backend) {
    const std::string err = stderr_of([]() -> corio::task<> { co_return; }(),
                                      corio::run_options{.backend = corio::backend_kind::epoll, .debug = true});
    EXPECT_TRUE(contains(err, "corio debug: event loop started, backend epoll")) << err;
}

TEST(debug, corio_debug_environment_turns_debug_mode_on) {
    scoped_env debug("CORIO_DEBUG", "1");
    corio::backend_kind used = corio::backend_kind::automatic;
    const std::string err = stderr_of([&]() -> corio::task<> {
        used = corio::current_backend();
        co_return;
    }());
    EXPECT_TRUE(contains(err, std::string("corio debug: event loop started, backend ") + corio::to_string(used)))
        << err;
}

TEST(debug, no_banner_without_debug_mode) {
    scoped_env no_debug("CORIO_DEBUG", "0");
    const std::string err = stderr_of([]() -> corio::task<> { co_return; }());
    EXPECT_EQ(err, "");
}

}  // namespace
