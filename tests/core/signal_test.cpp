// Signals: add_signal_handler / remove_signal_handler on both backends,
// delivery from other threads while tasks are busy, misuse, and run's
// shutdown_signals (in forked children, since they end the process).
#include <corio/runtime/signal.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <corio/context/context_manager.hpp>
#include <corio/errors.hpp>
#include <corio/run.hpp>
#include <corio/tasks/shield.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/sync/event.hpp>
#include <corio/task.hpp>
#include <corio/tasks/task_group.hpp>
#include <corio/time/sleep.hpp>
#include <corio/time/timeout.hpp>
#include <corio/context/with.hpp>

using namespace std::chrono_literals;

namespace {

class signals : public testing::TestWithParam<corio::backend_kind> {
protected:
    template <class T>
    T run(corio::task<T> t) {
        corio::run_options o;
        o.backend = GetParam();
        try {
            return corio::run(std::move(t), o);
        } catch (const std::system_error& e) {
            if (std::strstr(e.what(), "io_uring_setup") != nullptr) skipped_ = true;
            if (!skipped_) throw;
        }
        if constexpr (!std::is_void_v<T>) return T{};
    }
    void TearDown() override {
        if (skipped_) GTEST_SKIP() << "io_uring refused here";
    }
    bool skipped_ = false;
};

std::string backend_name(const testing::TestParamInfo<corio::backend_kind>& info) {
    return corio::to_string(info.param);
}

INSTANTIATE_TEST_SUITE_P(backends, signals,
                         testing::Values(corio::backend_kind::epoll, corio::backend_kind::io_uring), backend_name);

TEST_P(signals, a_raised_signal_runs_the_callback_on_the_loop) {
    const auto loop_thread = std::this_thread::get_id();
    bool same_thread = false;
    run([&]() -> corio::task<> {
        corio::event got;
        corio::add_signal_handler(SIGUSR1, [&] {
            same_thread = std::this_thread::get_id() == loop_thread;
            got.set();
        });
        ::raise(SIGUSR1);
        auto wait = [&]() -> corio::task<> { co_await got.wait(); };
        co_await corio::wait_for(wait(), 2s);
        EXPECT_TRUE(corio::remove_signal_handler(SIGUSR1));
    }());
    EXPECT_TRUE(same_thread);
}

TEST_P(signals, an_async_callback_is_awaited_in_its_own_task) {
    int steps = 0;
    run([&]() -> corio::task<> {
        corio::event done;
        corio::add_signal_handler(SIGUSR2, [&]() -> corio::task<> {
            ++steps;
            co_await corio::sleep(1ms);
            ++steps;
            done.set();
        });
        ::raise(SIGUSR2);
        co_await done.wait();
        corio::remove_signal_handler(SIGUSR2);
    }());
    EXPECT_EQ(steps, 2);
}

TEST_P(signals, delivered_from_another_thread_while_tasks_are_busy) {
    std::atomic<int> sent{0};
    std::atomic<int> received{0};
    long busy_rounds = 0;
    run([&]() -> corio::task<> {
        corio::event all_in;
        corio::add_signal_handler(SIGUSR1, [&] {
            if (++received == 20) all_in.set();
        });
        std::thread sender([&] {
            // Standard signals of one kind coalesce while one is pending, so
            // the next is sent once the last was handled.
            for (int i = 0; i < 20; ++i) {
                ::kill(::getpid(), SIGUSR1);
                ++sent;
                const auto give_up = std::chrono::steady_clock::now() + 5s;
                while (received.load() <= i && std::chrono::steady_clock::now() < give_up)
                    std::this_thread::sleep_for(100us);
            }
        });
        // Busy tasks: never waiting in the backend for long.
        auto spinner = [&]() -> corio::task<> {
            while (!all_in.is_set()) {
                ++busy_rounds;
                co_await corio::sleep(0s);
            }
        };
        auto a = corio::spawn(spinner());
        auto b = corio::spawn(spinner());
        auto wait = [&]() -> corio::task<> { co_await all_in.wait(); };
        try {
            co_await corio::wait_for(wait(), 10s);
        } catch (const corio::timeout_error&) {
            ADD_FAILURE() << "only " << received.load() << " of 20 signals arrived";
        }
        all_in.set();
        co_await a;
        co_await b;
        sender.join();
        corio::remove_signal_handler(SIGUSR1);
    }());
    EXPECT_EQ(sent.load(), 20);
    EXPECT_EQ(received.load(), 20);
    EXPECT_GT(busy_rounds, 20);
}

TEST_P(signals, a_waiting_main_task_is_no_deadlock_while_a_handler_can_wake_it) {
    run([&]() -> corio::task<> {
        corio::event got;
        corio::add_signal_handler(SIGUSR1, [&] { got.set(); });
        std::thread sender([] {
            std::this_thread::sleep_for(50ms);
            ::kill(::getpid(), SIGUSR1);
        });
        co_await got.wait();  // nothing else is alive: only the signal can wake us
        sender.join();
        corio::remove_signal_handler(SIGUSR1);
    }());
}

TEST_P(signals, remove_restores_the_previous_disposition) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGUSR2, &ignore, nullptr);
    run([&]() -> corio::task<> {
        corio::add_signal_handler(SIGUSR2, [] {});
        struct sigaction now {};
        ::sigaction(SIGUSR2, nullptr, &now);
        EXPECT_NE(now.sa_handler, SIG_IGN);
        EXPECT_TRUE(corio::remove_signal_handler(SIGUSR2));
        EXPECT_FALSE(corio::remove_signal_handler(SIGUSR2));
        ::sigaction(SIGUSR2, nullptr, &now);
        EXPECT_EQ(now.sa_handler, SIG_IGN);
        co_return;
    }());
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGUSR2, &dfl, nullptr);
}

TEST_P(signals, the_loop_end_restores_the_disposition) {
    run([&]() -> corio::task<> {
        corio::add_signal_handler(SIGUSR1, [] {});
        co_return;
    }());
    struct sigaction now {};
    ::sigaction(SIGUSR1, nullptr, &now);
    EXPECT_EQ(now.sa_handler, SIG_DFL);
}

TEST_P(signals, a_later_add_replaces_the_handler) {
    int first = 0, second = 0;
    run([&]() -> corio::task<> {
        corio::event got;
        corio::add_signal_handler(SIGUSR1, [&] { ++first; });
        corio::add_signal_handler(SIGUSR1, [&] {
            ++second;
            got.set();
        });
        ::raise(SIGUSR1);
        co_await got.wait();
        corio::remove_signal_handler(SIGUSR1);
    }());
    EXPECT_EQ(first, 0);
    EXPECT_EQ(second, 1);
}

TEST_P(signals, misuse_is_reported) {
    run([&]() -> corio::task<> {
        try {
            corio::add_signal_handler(SIGKILL, [] {});
            ADD_FAILURE() << "SIGKILL accepted";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find("SIGKILL"), std::string::npos) << e.what();
        }
        const int bads[] = {0, -1, NSIG, 1000};
        for (int bad : bads) {
            try {
                corio::add_signal_handler(bad, [] {});
                ADD_FAILURE() << bad << " accepted";
            } catch (const std::invalid_argument& e) {
                EXPECT_NE(std::string(e.what()).find(std::to_string(bad)), std::string::npos) << e.what();
            }
        }
        EXPECT_FALSE(corio::remove_signal_handler(0));
        co_return;
    }());
    EXPECT_THROW(corio::add_signal_handler(SIGUSR1, [] {}), std::logic_error);
    EXPECT_THROW(corio::remove_signal_handler(SIGUSR1), std::logic_error);
}

TEST(signals_threads, two_loops_cannot_share_a_signal) {
    std::atomic<bool> held{false}, release{false};
    std::thread other([&] {
        corio::run([&]() -> corio::task<> {
            corio::add_signal_handler(SIGUSR1, [] {});
            held = true;
            while (!release) co_await corio::sleep(1ms);
        }());
    });
    while (!held) std::this_thread::sleep_for(1ms);
    corio::run([&]() -> corio::task<> {
        try {
            corio::add_signal_handler(SIGUSR1, [] {});
            ADD_FAILURE() << "a second loop took SIGUSR1";
        } catch (const std::logic_error& e) {
            EXPECT_NE(std::string(e.what()).find("another thread"), std::string::npos) << e.what();
        }
        co_return;
    }());
    release = true;
    other.join();
}

// ---------------------------------------------------------------- shutdown

// Runs `child` in a forked process; gives its wait status. The parent sends
// one `signo` each time the child's output shows the next of `triggers`
// (the child writes "ready" when it wants the first): never on a timer, so a
// slow child cannot get two signals at once (which coalesce into one).
template <class Child>
int fork_and_signal(Child child, int signo, const std::vector<std::string>& triggers, std::string& child_output) {
    int out[2];
    if (::pipe(out) != 0) return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(out[0]);
        child(out[1]);
        ::_exit(0);
    }
    ::close(out[1]);
    std::string text;
    char buf[256];
    std::size_t sent = 0, seen_up_to = 0;
    for (;;) {
        const ssize_t n = ::read(out[0], buf, sizeof buf);
        if (n <= 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        while (sent < triggers.size()) {
            const std::size_t at = text.find(triggers[sent], seen_up_to);
            if (at == std::string::npos) break;
            seen_up_to = at + triggers[sent].size();
            ::kill(pid, signo);
            ++sent;
        }
    }
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    child_output = text;
    return status;
}

void say(int fd, const char* what) { [[maybe_unused]] ssize_t r = ::write(fd, what, std::strlen(what)); }

TEST_P(signals, shutdown_signal_cancels_main_runs_exits_and_leaves_with_the_signal) {
    const corio::backend_kind backend = GetParam();
    std::string output;
    const int status = fork_and_signal(
        [backend](int fd) {
            corio::run_options o;
            o.backend = backend;
            o.shutdown_signals = {SIGINT, SIGTERM};
            try {
                corio::run([](int out) -> corio::task<> {
                    auto guard = [out]() -> corio::context_manager<> {
                        try {
                            co_yield {};
                        } catch (...) {
                            say(out, " exit-ran");
                            throw;
                        }
                    };
                    auto body = [out]() -> corio::task<> {
                        say(out, "ready");
                        co_await corio::sleep(30s);
                        say(out, " not-cancelled");
                    };
                    co_await corio::with(guard(), body);
                }(fd), o);
            } catch (const corio::cancelled_error&) {
                say(fd, " run-threw-cancelled");
            } catch (...) {
                say(fd, " run-threw-other");
            }
            say(fd, " survived");  // must not print: the signal is raised again
        },
        SIGTERM, {"ready"}, output);
    if (output.find("io_uring_setup") != std::string::npos) GTEST_SKIP();
    EXPECT_TRUE(WIFSIGNALED(status)) << "status " << status << " output: " << output;
    if (WIFSIGNALED(status)) {
        EXPECT_EQ(WTERMSIG(status), SIGTERM);
    }
    EXPECT_NE(output.find("exit-ran"), std::string::npos) << output;
    EXPECT_EQ(output.find("not-cancelled"), std::string::npos) << output;
    EXPECT_EQ(output.find("survived"), std::string::npos) << output;
}

TEST_P(signals, a_second_shutdown_signal_ends_the_process_at_once) {
    const corio::backend_kind backend = GetParam();
    std::string output;
    const auto start = std::chrono::steady_clock::now();
    const int status = fork_and_signal(
        [backend](int fd) {
            corio::run_options o;
            o.backend = backend;
            o.shutdown_signals = {SIGINT};
            ::close(2);  // the "again during shutdown" notice
            corio::run([](int out) -> corio::task<> {
                auto slow_exit = [out]() -> corio::context_manager<> {
                    bool failed = false;
                    try {
                        co_yield {};
                    } catch (...) {
                        failed = true;
                    }
                    if (failed) {
                        say(out, " slow-exit");
                        co_await corio::shield(corio::sleep(20s));  // a stuck cleanup
                    }
                };
                auto body = [out]() -> corio::task<> {
                    say(out, "ready");
                    co_await corio::sleep(30s);
                };
                co_await corio::with(slow_exit(), body);
            }(fd), o);
        },
        SIGINT, {"ready", "slow-exit"}, output);  // the second once the first began the shutdown
    EXPECT_TRUE(WIFSIGNALED(status)) << "status " << status << " output: " << output;
    if (WIFSIGNALED(status)) {
        EXPECT_EQ(WTERMSIG(status), SIGINT);
    }
    EXPECT_NE(output.find("slow-exit"), std::string::npos) << output;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

}  // namespace
