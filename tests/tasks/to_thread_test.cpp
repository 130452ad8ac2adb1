// to_thread: results and exceptions from a pool thread, arguments stored by
// value, cancellation waiting for the blocking call, many calls at once.
#include <corio/tasks/to_thread.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <corio/errors.hpp>
#include <corio/tasks/gather.hpp>
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

using corio_test::outcome;

// How long a wait for another thread gives up after: only a test that has
// failed waits that long, so generous enough for any busy machine.
constexpr auto give_up_after = 30s;

// Polls a flag another thread sets: the only way to wait for a thread
// without blocking the loop (each poll is a real, short sleep).
corio::task<> until(const std::atomic<bool>& flag) {
    const auto give_up = std::chrono::steady_clock::now() + give_up_after;
    while (!flag.load() && std::chrono::steady_clock::now() < give_up) co_await corio::sleep(1ms);
}

TEST(to_thread, gives_the_result) {
    corio::run([]() -> corio::task<> {
        const int sum = co_await corio::to_thread([](int a, int b) { return a + b; }, 2, 3);
        EXPECT_EQ(sum, 5);
    }());
}

TEST(to_thread, void_function_runs) {
    std::atomic<int> calls{0};
    corio::run([&]() -> corio::task<> {
        co_await corio::to_thread([&calls] { ++calls; });
        EXPECT_EQ(calls.load(), 1);
    }());
}

TEST(to_thread, rethrows_the_exception) {
    corio::run([]() -> corio::task<> {
        try {
            co_await corio::to_thread([]() -> int { throw std::runtime_error("worker failed"); });
            ADD_FAILURE() << "no exception";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "worker failed");
        }
    }());
}

TEST(to_thread, runs_on_another_thread) {
    const std::thread::id loop_thread = std::this_thread::get_id();
    std::thread::id worker_thread;
    std::thread::id resumed_on;
    corio::run([&]() -> corio::task<> {
        worker_thread = co_await corio::to_thread([] { return std::this_thread::get_id(); });
        resumed_on = std::this_thread::get_id();
    }());
    EXPECT_NE(worker_thread, loop_thread);
    EXPECT_NE(worker_thread, std::thread::id{});
    EXPECT_EQ(resumed_on, loop_thread);  // the awaiter resumes on the loop's thread
}

TEST(to_thread, arguments_are_stored_by_value) {
    corio::run([]() -> corio::task<> {
        corio::task<std::size_t> t = [] {
            std::string temporary(100, 'z');
            return corio::to_thread([](const std::string& s) { return s.size(); }, temporary);
        }();  // `temporary` is gone before the call runs
        EXPECT_EQ(co_await t, 100u);
    }());
}

TEST(to_thread, the_loop_keeps_running_other_tasks_meanwhile) {
    log_t log;
    std::atomic<bool> release{false};
    corio::run([&]() -> corio::task<> {
        auto ticker = corio::spawn([&log, &release]() -> corio::task<> {
            for (int i = 0; i < 3; ++i) {
                co_await corio::sleep(0s);
                log.push_back("tick");
            }
            release = true;
        });
        co_await corio::to_thread([&release] {
            const auto give_up = std::chrono::steady_clock::now() + give_up_after;
            while (!release.load() && std::chrono::steady_clock::now() < give_up)
                std::this_thread::sleep_for(1ms);
        });
        log.push_back("thread done");
        co_await ticker;
    }());
    EXPECT_EQ(log, (log_t{"tick", "tick", "tick", "thread done"}));
}

TEST(to_thread, cancelled_while_running_waits_for_the_call_then_throws) {
    log_t log;
    std::mutex log_mutex;  // the worker writes to the log too
    std::atomic<bool> started{false};
    std::atomic<bool> release{false};
    std::atomic<bool> finished{false};
    corio::run([&]() -> corio::task<> {
        auto h = corio::spawn([&]() -> corio::task<> {
            try {
                co_await corio::to_thread([&] {
                    started = true;
                    const auto give_up = std::chrono::steady_clock::now() + give_up_after;
                    while (!release.load() && std::chrono::steady_clock::now() < give_up)
                        std::this_thread::sleep_for(1ms);
                    std::lock_guard<std::mutex> g(log_mutex);
                    log.push_back("call finished");
                    finished = true;
                    return 7;
                });
                log.push_back("to_thread returned");  // must not happen
            } catch (const corio::cancelled_error&) {
                std::lock_guard<std::mutex> g(log_mutex);
                log.push_back(finished ? "cancelled after the call finished" : "cancelled while the call ran");
                throw;
            }
        });
        co_await until(started);
        EXPECT_TRUE(started.load());
        h.cancel();
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
        EXPECT_FALSE(h.done());  // still waiting for the thread
        release = true;
        EXPECT_EQ(co_await outcome(h), "cancelled");
    }());
    EXPECT_EQ(log, (log_t{"call finished", "cancelled after the call finished"}));
}

TEST(to_thread, in_an_already_cancelled_scope_does_not_call_the_function) {
    std::atomic<int> calls{0};
    corio::run([&]() -> corio::task<> {
        auto scope = corio::move_on_at(std::chrono::steady_clock::now() - 1s);
        co_await corio::with(scope, [&](corio::timeout_scope&) -> corio::task<> {
            co_await corio::to_thread([&calls] { ++calls; });
            ADD_FAILURE() << "to_thread returned in a cancelled scope";
        });
        EXPECT_TRUE(scope.cancelled_caught());
    }());
    EXPECT_EQ(calls.load(), 0);
}

// The pool runs as many calls at once as it has threads (at least 4), also
// after a worker went to sleep: calls that wait for each other all start.
// Regression: a sleeping worker woken for one call still counted as idle, so
// the next calls' wake-ups went to nobody and no thread was started for them:
// they waited for the busy worker, here for ever (10 s each, one after another).
TEST(to_thread, calls_that_wait_for_each_other_all_run_at_once) {
    constexpr int n = 4;
    std::atomic<int> started{0};
    int saw_all = 0;
    corio::run([&]() -> corio::task<> {
        co_await corio::to_thread([] {});  // a worker, which then goes to sleep
        co_await corio::sleep(20ms);
        auto meet = [&started] {
            ++started;
            const auto give_up = std::chrono::steady_clock::now() + 10s;  // x 4 when they run one by one
            while (started.load() < n && std::chrono::steady_clock::now() < give_up)
                std::this_thread::sleep_for(1ms);
            return started.load() == n;
        };
        std::vector<corio::task<bool>> calls;
        for (int i = 0; i < n; ++i) calls.push_back(corio::to_thread(meet));
        for (const bool all : co_await corio::gather(std::move(calls))) saw_all += all ? 1 : 0;
    }());
    EXPECT_EQ(saw_all, n) << "only " << started.load() << " of " << n << " calls ran at once";
}

TEST(to_thread, many_concurrent_calls_all_complete) {
    std::mutex ids_mutex;
    std::set<std::thread::id> ids;
    std::atomic<int> started{0};
    corio::run([&]() -> corio::task<> {
        std::vector<corio::task<int>> calls;
        for (int i = 0; i < 64; ++i)
            calls.push_back(corio::to_thread(
                [&ids, &ids_mutex, &started](int n) {
                    // The first call waits until a second one starts, which
                    // can only be on another thread: on a busy machine one
                    // thread could otherwise take all 64 before the others wake.
                    const bool first = started.fetch_add(1) == 0;
                    const auto give_up = std::chrono::steady_clock::now() + give_up_after;
                    while (first && started.load() < 2 && std::chrono::steady_clock::now() < give_up)
                        std::this_thread::sleep_for(1ms);
                    std::this_thread::sleep_for(1ms);
                    std::lock_guard<std::mutex> g(ids_mutex);
                    ids.insert(std::this_thread::get_id());
                    return n * n;
                },
                i));
        std::vector<int> squares = co_await corio::gather(std::move(calls));
        EXPECT_EQ(squares.size(), 64u);
        for (std::size_t i = 0; i < squares.size(); ++i) EXPECT_EQ(squares[i], static_cast<int>(i * i));
    }());
    EXPECT_GE(ids.size(), 2u);  // they ran on several pool threads
    EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u);
}

}  // namespace
