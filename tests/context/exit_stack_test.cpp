// exit_stack (contextlib.AsyncExitStack): every rule of docs/reference.md, "exit_stack".
#include <gtest/gtest.h>

#include <memory>

#include <corio/corio.hpp>

#include "../support/recording_manager.hpp"

using namespace std::chrono_literals;
using corio_test::log_t;
using corio_test::recording_manager;

TEST(exit_stack, exits_run_lifo_at_the_end_of_the_with) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::exit_stack{}, [&](corio::exit_stack& stack) -> corio::task<> {
            auto& a = co_await stack.enter(recording_manager{&log, "a"});
            stack.callback([&] { log.push_back("callback"); });
            stack.push_exit([&](std::exception_ptr) -> corio::task<bool> {
                co_await corio::sleep(1ms);
                log.push_back("push_exit");
                co_return false;
            });
            co_await stack.enter(recording_manager{&log, "b"});
            log.push_back("body " + a.name);
        });
    }());
    EXPECT_EQ(log, (log_t{"enter a", "enter b", "body a", "exit b saw none", "push_exit", "callback",
                          "exit a saw none"}));
}

TEST(exit_stack, each_exit_sees_the_exception_as_the_previous_left_it) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::exit_stack{}, [&](corio::exit_stack& stack) -> corio::task<> {
            co_await stack.enter(recording_manager{&log, "outer"});
            stack.push_exit([&](std::exception_ptr e) {
                log.push_back("suppressor saw " + corio_test::what_of(e));
                return true;  // suppress
            });
            co_await stack.enter(recording_manager{&log, "inner"});
            throw std::runtime_error("body");
        });
        log.push_back("after");
    }());
    EXPECT_EQ(log, (log_t{"enter outer", "enter inner", "exit inner saw body", "suppressor saw body",
                          "exit outer saw none", "after"}));
}

TEST(exit_stack, exception_from_an_exit_replaces_and_is_seen_by_the_next) {
    log_t log;
    recording_manager failing{&log, "failing"};
    failing.fail_exit = true;
    try {
        corio::run([&]() -> corio::task<> {
            co_await corio::with(corio::exit_stack{}, [&](corio::exit_stack& stack) -> corio::task<> {
                co_await stack.enter(recording_manager{&log, "outer"});
                co_await stack.enter(failing);
            });
        }());
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "exit failing failed");
    }
    EXPECT_EQ(log.back(), "exit outer saw exit failing failed");
}

TEST(exit_stack, aclose_runs_exits_now) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        corio::exit_stack stack;
        co_await stack.enter(recording_manager{&log, "a"});
        EXPECT_FALSE(stack.empty());
        co_await stack.aclose();
        EXPECT_TRUE(stack.empty());
        log.push_back("after aclose");
    }());
    EXPECT_EQ(log, (log_t{"enter a", "exit a saw none", "after aclose"}));
}

TEST(exit_stack, pop_all_moves_exits_to_a_new_stack) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        corio::exit_stack kept;
        co_await corio::with(corio::exit_stack{}, [&](corio::exit_stack& stack) -> corio::task<> {
            co_await stack.enter(recording_manager{&log, "a"});
            kept = stack.pop_all();
        });
        log.push_back("with ended");
        co_await kept.aclose();
    }());
    EXPECT_EQ(log, (log_t{"enter a", "with ended", "exit a saw none"}));
}

TEST(exit_stack, callbacks_are_stored_by_value_until_they_finish) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        corio::exit_stack stack;
        {
            auto payload = std::make_shared<std::string>("kept alive");
            stack.callback([payload, &log]() -> corio::task<> {
                co_await corio::sleep(1ms);
                log.push_back(*payload);
            });
        }
        co_await stack.aclose();
    }());
    EXPECT_EQ(log, (log_t{"kept alive"}));
}

TEST(exit_stack, failed_enter_registers_nothing) {
    log_t log;
    recording_manager bad{&log, "bad"};
    bad.fail_enter = true;
    corio::run([&]() -> corio::task<> {
        corio::exit_stack stack;
        EXPECT_THROW(co_await stack.enter(bad), std::runtime_error);
        EXPECT_TRUE(stack.empty());
    }());
}

namespace {

std::string stderr_of_debug_run(corio::task<> main) {
    testing::internal::CaptureStderr();
    corio::run_options options;
    options.debug = true;
    corio::run(std::move(main), options);
    return testing::internal::GetCapturedStderr();
}

}  // namespace

TEST(exit_stack, a_stack_dropped_with_exits_registered_is_reported_in_debug_mode_and_runs_none) {
    log_t log;
    const std::string err = stderr_of_debug_run([&]() -> corio::task<> {
        corio::exit_stack stack;
        stack.callback([&] { log.push_back("first"); });
        stack.callback([&] { log.push_back("second"); });  // the last registered: its line is named
        co_return;  // never closed: the exits are freed, not run
    }());
    EXPECT_TRUE(log.empty());
    EXPECT_NE(err.find("corio debug: exit_stack destroyed with 2 exits registered and never run"), std::string::npos)
        << err;
    EXPECT_NE(err.find("exit_stack_test.cpp:" + std::to_string(__LINE__ - 6)), std::string::npos) << err;
}

TEST(exit_stack, a_closed_or_emptied_stack_is_not_reported) {
    log_t log;
    const std::string err = stderr_of_debug_run([&]() -> corio::task<> {
        corio::exit_stack closed;
        closed.callback([&] { log.push_back("closed"); });
        co_await closed.aclose();
        corio::exit_stack moved_from;
        moved_from.callback([&] { log.push_back("moved"); });
        corio::exit_stack taker = moved_from.pop_all();
        co_await taker.aclose();
    }());
    EXPECT_EQ(log, (log_t{"closed", "moved"}));
    EXPECT_EQ(err.find("exit_stack destroyed"), std::string::npos) << err;
}

TEST(exit_stack, a_stack_dropped_with_exits_is_not_reported_without_debug_mode) {
    testing::internal::CaptureStderr();
    corio::run([]() -> corio::task<> {
        corio::exit_stack stack;
        stack.callback([] {});
        co_return;
    }());
    EXPECT_EQ(testing::internal::GetCapturedStderr().find("exit_stack destroyed"), std::string::npos);
}
