// run: main's value and exception, nested runs, the shutdown of tasks still
// running when main ends, backend selection, the deadlock detector, and the
// misuse of awaiting a moved-from or already-awaited task.
#include <corio/run.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <corio/context/enter.hpp>
#include <corio/errors.hpp>
#include <corio/tasks/gather.hpp>
#include <corio/runtime/run_options.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/sync/event.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>
#include <corio/tasks/to_thread.hpp>

#include "../support/scoped_env.hpp"

using namespace std::chrono_literals;

namespace {

using log_t = std::vector<std::string>;

// "ok", "cancelled" or the exception's what(): what an exit saw.
std::string kind(const std::exception_ptr& e) {
    if (!e) return "ok";
    if (corio::is_cancellation(e)) return "cancelled";
    return corio::describe(e);
}

// Records its enter and its exit (with what the exit saw) in `log`.
struct recording_cm {
    log_t* log;
    std::string name;
    corio::task<> aenter() {
        log->push_back(name + " enter");
        co_return;
    }
    corio::task<> aexit(std::exception_ptr e) {
        log->push_back(name + " exit " + kind(e));
        co_return;
    }
};

// Enters a recording manager for the rest of the task, then waits "forever".
corio::task<> enter_and_sleep(log_t& log, std::string name) {
    recording_cm cm{&log, name};  // g++ 12: no braced temporaries in co_await expressions
    co_await corio::enter(std::move(cm));
    co_await corio::sleep(1h);
    log.push_back(name + " woke");  // never reached
}

corio::task<> wait_forever(log_t& log, corio::event& e, std::string name) {
    recording_cm cm{&log, name};
    co_await corio::enter(std::move(cm));
    co_await e.wait();
    log.push_back(name + " woke");  // never reached
}

corio::task<int> forty_two() {
    co_await corio::sleep(0s);
    co_return 42;
}

// Restores an environment variable when the test ends, whatever happens.
using corio_test::scoped_env;

TEST(run, returns_the_value_of_main) {
    EXPECT_EQ(corio::run(forty_two()), 42);
    const std::string s = corio::run([]() -> corio::task<std::string> {
        co_await corio::sleep(0s);
        co_return "hello";
    }());
    EXPECT_EQ(s, "hello");
}

TEST(run, runs_a_void_main_to_its_end) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        log.push_back("start");
        co_await corio::sleep(0s);
        log.push_back("end");
    }());
    EXPECT_EQ(log, (log_t{"start", "end"}));
}

TEST(run, rethrows_the_exception_of_main) {
    try {
        corio::run([]() -> corio::task<int> {
            co_await corio::sleep(0s);
            throw std::runtime_error("main failed");
        }());
        FAIL() << "run did not throw";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "main failed");
    }
}

TEST(run, can_be_called_again_after_it_returned) {
    EXPECT_EQ(corio::run(forty_two()), 42);
    EXPECT_EQ(corio::run(forty_two()), 42);
}

TEST(run, inside_a_running_loop_is_a_logic_error) {
    std::string message;
    const int outer = corio::run([&]() -> corio::task<int> {
        try {
            (void)corio::run(forty_two());
        } catch (const std::logic_error& e) {
            message = e.what();
        }
        co_await corio::sleep(0s);  // the outer loop still works
        co_return 7;
    }());
    EXPECT_EQ(outer, 7);
    EXPECT_NE(message.find("already running"), std::string::npos) << message;
}

TEST(run, of_a_moved_from_task_is_a_logic_error) {
    corio::task<int> t = forty_two();
    corio::task<int> moved = std::move(t);
    EXPECT_THROW((void)corio::run(std::move(t)), std::logic_error);
    EXPECT_EQ(corio::run(std::move(moved)), 42);
}

TEST(run, cancels_and_awaits_tasks_still_running_when_main_ends) {
    log_t log;
    const auto start = std::chrono::steady_clock::now();
    const int r = corio::run([&]() -> corio::task<int> {
        corio::spawn(enter_and_sleep(log, "a")).detach();
        corio::spawn(enter_and_sleep(log, "b")).detach();
        co_await corio::sleep(0s);  // both have entered and are asleep
        log.push_back("main ends");
        co_return 1;
    }());
    EXPECT_EQ(r, 1);
    // The exits ran, with the cancellation, before run returned (in no
    // particular order between the two tasks).
    ASSERT_EQ(log.size(), 5u);
    EXPECT_EQ(log_t(log.begin(), log.begin() + 3), (log_t{"a enter", "b enter", "main ends"}));
    log_t exits(log.begin() + 3, log.end());
    std::sort(exits.begin(), exits.end());
    EXPECT_EQ(exits, (log_t{"a exit cancelled", "b exit cancelled"}));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);  // not the hour; generous for a busy machine
}

TEST(run, a_task_that_catches_the_shutdown_cancellation_may_still_clean_up) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        corio::spawn([&log]() -> corio::task<> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
                log.push_back("cancelled");
                throw;
            }
        }).detach();
        co_await corio::sleep(0s);
        log.push_back("main ends");
    }());
    EXPECT_EQ(log, (log_t{"main ends", "cancelled"}));
}

TEST(run, the_shutdown_also_cancels_tasks_whose_handle_main_still_holds) {
    log_t log;
    corio::join_handle<> kept;
    corio::run([&]() -> corio::task<> {
        kept = corio::spawn(enter_and_sleep(log, "kept"));
        co_await corio::sleep(0s);
    }());
    EXPECT_EQ(log, (log_t{"kept enter", "kept exit cancelled"}));
    EXPECT_TRUE(kept.done());
}

TEST(run, main_exception_still_cancels_and_awaits_the_other_tasks) {
    log_t log;
    EXPECT_THROW(corio::run([&]() -> corio::task<> {
                     corio::spawn(enter_and_sleep(log, "a")).detach();
                     co_await corio::sleep(0s);
                     throw std::runtime_error("boom");
                 }()),
                 std::runtime_error);
    EXPECT_EQ(log, (log_t{"a enter", "a exit cancelled"}));
}

TEST(run, epoll_backend_works_and_is_reported) {
    corio::backend_kind seen = corio::backend_kind::automatic;
    corio::run(
        [&]() -> corio::task<> {
            seen = corio::current_backend();
            co_await corio::sleep(1ms);
        }(),
        corio::run_options{.backend = corio::backend_kind::epoll});
    EXPECT_EQ(seen, corio::backend_kind::epoll);
    EXPECT_STREQ(corio::to_string(seen), "epoll");
}

// Whether this kernel (or container) lets us use io_uring: asking for it
// explicitly either works or throws std::system_error from io_uring_setup.
bool io_uring_allowed() {
    try {
        corio::run(forty_two(), corio::run_options{.backend = corio::backend_kind::io_uring});
        return true;
    } catch (const std::system_error& e) {
        EXPECT_NE(std::string(e.what()).find("io_uring_setup"), std::string::npos) << e.what();
        return false;
    }
}

corio::backend_kind backend_of(corio::run_options options) {
    corio::backend_kind seen = corio::backend_kind::automatic;
    corio::run(
        [&]() -> corio::task<> {
            seen = corio::current_backend();
            co_return;
        }(),
        options);
    return seen;
}

TEST(run, automatic_backend_is_io_uring_where_allowed_else_epoll) {
    scoped_env env("CORIO_BACKEND", "");
    const auto expected = io_uring_allowed() ? corio::backend_kind::io_uring : corio::backend_kind::epoll;
    EXPECT_EQ(backend_of({}), expected);
}

TEST(run, explicit_io_uring_runs_on_io_uring_or_names_the_refusal) {
    if (!io_uring_allowed()) GTEST_SKIP() << "io_uring is refused here; epoll is the fallback";
    EXPECT_EQ(backend_of(corio::run_options{.backend = corio::backend_kind::io_uring}),
              corio::backend_kind::io_uring);
    EXPECT_STREQ(corio::to_string(corio::backend_kind::io_uring), "io_uring");
}

TEST(run, corio_backend_environment_selects_io_uring) {
    if (!io_uring_allowed()) GTEST_SKIP() << "io_uring is refused here";
    scoped_env env("CORIO_BACKEND", "io_uring");
    EXPECT_EQ(backend_of({}), corio::backend_kind::io_uring);
}

// Timers and wake-ups from other threads behave the same on both backends.
class run_on_backend : public testing::TestWithParam<corio::backend_kind> {
protected:
    void SetUp() override {
        if (GetParam() == corio::backend_kind::io_uring && !io_uring_allowed())
            GTEST_SKIP() << "io_uring is refused here";
    }
};

TEST_P(run_on_backend, timers_fire_in_deadline_order_and_not_early) {
    std::vector<int> order;
    const auto start = std::chrono::steady_clock::now();
    corio::run(
        [&]() -> corio::task<> {
            auto sleeper = [&](int id, std::chrono::milliseconds d) -> corio::task<> {
                co_await corio::sleep(d);
                order.push_back(id);
            };
            co_await corio::gather(sleeper(3, 30ms), sleeper(1, 10ms), sleeper(2, 20ms));
        }(),
        corio::run_options{.backend = GetParam()});
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
    EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
}

TEST_P(run_on_backend, to_thread_completion_wakes_the_sleeping_loop) {
    const int v = corio::run(
        []() -> corio::task<int> {
            co_return co_await corio::to_thread([] {
                std::this_thread::sleep_for(20ms);  // the loop sleeps in its backend meanwhile
                return 7;
            });
        }(),
        corio::run_options{.backend = GetParam()});
    EXPECT_EQ(v, 7);
}

INSTANTIATE_TEST_SUITE_P(backends, run_on_backend,
                         testing::Values(corio::backend_kind::epoll, corio::backend_kind::io_uring),
                         [](const testing::TestParamInfo<corio::backend_kind>& info) {
                             return std::string(corio::to_string(info.param));
                         });

TEST(run, corio_backend_environment_selects_epoll) {
    scoped_env env("CORIO_BACKEND", "epoll");
    corio::backend_kind seen = corio::backend_kind::automatic;
    corio::run([&]() -> corio::task<> {
        seen = corio::current_backend();
        co_return;
    }());
    EXPECT_EQ(seen, corio::backend_kind::epoll);
}

TEST(run, corio_backend_environment_with_a_bogus_value_is_invalid_argument) {
    scoped_env env("CORIO_BACKEND", "bogus");
    try {
        corio::run(forty_two());
        FAIL() << "run did not throw";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("bogus"), std::string::npos) << e.what();
    }
}

TEST(run, corio_backend_environment_does_not_override_an_explicit_backend) {
    scoped_env env("CORIO_BACKEND", "bogus");
    corio::backend_kind seen = corio::backend_kind::automatic;
    corio::run(
        [&]() -> corio::task<> {
            seen = corio::current_backend();
            co_return;
        }(),
        corio::run_options{.backend = corio::backend_kind::epoll});
    EXPECT_EQ(seen, corio::backend_kind::epoll);
}

TEST(run, current_backend_outside_a_loop_is_a_logic_error) {
    EXPECT_THROW((void)corio::current_backend(), std::logic_error);
}

TEST(run, deadlock_on_an_event_nobody_sets_is_a_logic_error_and_exits_run) {
    log_t log;
    testing::internal::CaptureStderr();
    try {
        corio::run([&]() -> corio::task<> {
            corio::event never;
            co_await wait_forever(log, never, "main");
        }());
        testing::internal::GetCapturedStderr();
        FAIL() << "run did not throw";
    } catch (const std::logic_error& e) {
        const std::string err = testing::internal::GetCapturedStderr();
        EXPECT_NE(std::string(e.what()).find("deadlock"), std::string::npos) << e.what();
        EXPECT_NE(err.find("deadlock"), std::string::npos) << err;
    }
    EXPECT_EQ(log, (log_t{"main enter", "main exit cancelled"}));
}

TEST(run, deadlock_on_a_join_that_never_completes_cancels_every_waiting_task) {
    log_t log;
    testing::internal::CaptureStderr();
    try {
        corio::run([&]() -> corio::task<> {
            recording_cm cm{&log, "main"};
            co_await corio::enter(std::move(cm));
            corio::event never;
            auto a = corio::spawn(wait_forever(log, never, "a"));
            auto b = corio::spawn(wait_forever(log, never, "b"));
            co_await a;
            log.push_back("joined");  // never reached
        }());
        testing::internal::GetCapturedStderr();
        FAIL() << "run did not throw";
    } catch (const std::logic_error& e) {
        testing::internal::GetCapturedStderr();
        EXPECT_NE(std::string(e.what()).find("deadlock"), std::string::npos) << e.what();
    }
    // Every waiting task's exit ran; main's last, after the task it joined.
    ASSERT_EQ(log.size(), 6u);
    EXPECT_EQ(log[0], "main enter");
    EXPECT_EQ(log[1], "a enter");
    EXPECT_EQ(log[2], "b enter");
    EXPECT_EQ(log.back(), "main exit cancelled");
    EXPECT_NE(std::find(log.begin(), log.end(), "a exit cancelled"), log.end());
    EXPECT_NE(std::find(log.begin(), log.end(), "b exit cancelled"), log.end());
}

TEST(run, a_wait_with_a_timer_pending_is_not_a_deadlock) {
    // main waits on an event that a sleeping task sets: the timer can wake it.
    const int r = corio::run([]() -> corio::task<int> {
        corio::event e;
        auto setter = corio::spawn([&e]() -> corio::task<> {
            co_await corio::sleep(5ms);
            e.set();
        });
        co_await e.wait();
        co_await setter;
        co_return 3;
    }());
    EXPECT_EQ(r, 3);
}

TEST(run, awaiting_a_moved_from_task_is_a_logic_error) {
    std::string message;
    corio::run([&]() -> corio::task<> {
        corio::task<int> t = forty_two();
        corio::task<int> other = std::move(t);
        try {
            (void)co_await t;
        } catch (const std::logic_error& e) {
            message = e.what();
        }
        EXPECT_EQ(co_await other, 42);
    }());
    EXPECT_NE(message.find("moved-from"), std::string::npos) << message;
}

TEST(run, awaiting_a_task_twice_is_a_logic_error) {
    std::string message;
    corio::run([&]() -> corio::task<> {
        corio::task<int> t = forty_two();
        EXPECT_EQ(co_await t, 42);
        try {
            (void)co_await t;
        } catch (const std::logic_error& e) {
            message = e.what();
        }
    }());
    EXPECT_NE(message.find("awaited once"), std::string::npos) << message;
}

TEST(run, awaiting_a_join_handle_twice_is_a_logic_error) {
    corio::run([]() -> corio::task<> {
        auto h = corio::spawn(forty_two());
        EXPECT_EQ(co_await h, 42);
        EXPECT_THROW((void)co_await h, std::logic_error);
    }());
}

TEST(run, awaiting_a_moved_from_join_handle_is_a_logic_error) {
    corio::run([]() -> corio::task<> {
        auto h = corio::spawn(forty_two());
        auto other = std::move(h);
        EXPECT_THROW((void)co_await h, std::logic_error);
        EXPECT_EQ(co_await other, 42);
    }());
}

TEST(run, a_task_that_never_ran_is_destroyed_without_running) {
    bool ran = false;
    corio::run([&]() -> corio::task<> {
        {
            auto t = [&]() -> corio::task<> {
                ran = true;
                co_return;
            }();
        }
        co_await corio::sleep(0s);
    }());
    EXPECT_FALSE(ran);
}

}  // namespace
