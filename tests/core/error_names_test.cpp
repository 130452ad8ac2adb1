// Errors name the operation as `type::member` (or a free function's name),
// then what went wrong: a few of corio's own misuse errors, checked whole.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

namespace {

corio::task<int> answer() { co_return 42; }

// The message of the std::logic_error that `main` throws out of run.
std::string logic_error_of(corio::task<> main) {
    try {
        corio::run(std::move(main));
    } catch (const std::logic_error& e) {
        return e.what();
    }
    return "(no std::logic_error)";
}

}  // namespace

TEST(error_names, awaiting_a_moved_from_task_names_task_co_await) {
    EXPECT_EQ(logic_error_of([]() -> corio::task<> {
                  corio::task<int> t = answer();
                  corio::task<int> moved = std::move(t);
                  EXPECT_EQ(co_await moved, 42);
                  co_await t;  // NOLINT(bugprone-use-after-move): the misuse under test
              }()),
              "task::co_await: the task is empty (moved-from)");
}

TEST(error_names, awaiting_a_task_twice_names_task_co_await_and_keeps_the_first_result) {
    // The second await finds the result taken (the mark left in the spent
    // continuation); a failed task's exception is given to the first await only.
    EXPECT_EQ(logic_error_of([]() -> corio::task<> {
                  corio::task<int> t = answer();
                  EXPECT_EQ(co_await t, 42);
                  co_await t;
              }()),
              "task::co_await: the result was already taken (a task is awaited once)");
    EXPECT_EQ(logic_error_of([]() -> corio::task<> {
                  corio::task<> t = []() -> corio::task<> {
                      throw std::runtime_error("boom");
                      co_return;
                  }();
                  EXPECT_THROW(co_await t, std::runtime_error);
                  co_await t;
              }()),
              "task::co_await: the result was already taken (a task is awaited once)");
}

TEST(error_names, awaiting_an_empty_join_handle_names_join_handle_co_await) {
    EXPECT_EQ(logic_error_of([]() -> corio::task<> {
                  corio::join_handle<> empty;
                  co_await empty;
              }()),
              "join_handle::co_await: the handle is empty (moved-from)");
}

TEST(error_names, entering_a_task_group_twice_names_task_group_aenter) {
    // The misuse happens in the group's body, so it comes out in the group's exception_group.
    try {
        corio::run([]() -> corio::task<> {
            corio::task_group group;
            co_await corio::with(group, [&]() -> corio::task<> {
                co_await group.aenter();  // a second enter, inside the first
            });
        }());
        FAIL() << "no exception";
    } catch (const corio::exception_group& e) {
        EXPECT_STREQ(e.what(), "exception_group: 1 sub-exception [std::logic_error: task_group::aenter: entered twice]");
    }
}

TEST(error_names, entering_a_timeout_twice_names_timeout_scope_aenter) {
    EXPECT_EQ(logic_error_of([]() -> corio::task<> {
                  auto scope = corio::timeout(1h);
                  co_await corio::with(scope, [&]() -> corio::task<> { co_await scope.aenter(); });
              }()),
              "timeout_scope::aenter: the scope was already entered (a timeout is entered once)");
}

TEST(error_names, awaiting_a_with_twice_names_with) {
    corio::lock lock;
    EXPECT_EQ(logic_error_of([&]() -> corio::task<> {
                  auto block = corio::with(lock, [] {});
                  co_await block;
                  co_await block;
              }()),
              "with: awaited twice (a with runs once)");
}

TEST(error_names, a_wait_outside_any_task_names_the_operation) {
    try {
        auto s = corio::sleep(1ms);
        (void)s.await_ready();
        FAIL() << "no exception";
    } catch (const std::logic_error& e) {
        EXPECT_STREQ(e.what(), "sleep: not inside a task run by corio::run");
    }
}
