// docs/reference.md, "with": every numbered rule, on success, exception and
// cancellation paths.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <type_traits>

#include <corio/corio.hpp>

#include "../support/recording_manager.hpp"

using namespace std::chrono_literals;
using corio_test::log_t;
using corio_test::recording_manager;

namespace {

struct void_manager {
    log_t* log;
    corio::task<> aenter() {
        log->push_back("enter void");
        co_return;
    }
    corio::task<> aexit(std::exception_ptr e) {
        log->push_back("exit void saw " + corio_test::what_of(e));
        co_return;
    }
};

static_assert(corio::async_context_manager<recording_manager>);
static_assert(corio::async_context_manager<void_manager>);
static_assert(corio::async_context_manager<corio::lock>);
static_assert(corio::async_context_manager<corio::task_group>);
static_assert(corio::async_context_manager<corio::exit_stack>);
static_assert(corio::async_context_manager<corio::timeout_scope>);
static_assert(!corio::async_context_manager<int>);

}  // namespace

TEST(with, enter_body_exit_in_order) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(recording_manager{&log, "a"}, [&](recording_manager& m) -> corio::task<> {
            log.push_back("body " + m.name);
            co_return;
        });
    }());
    EXPECT_EQ(log, (log_t{"enter a", "body a", "exit a saw none"}));
}

TEST(with, aexit_sees_body_exception_and_it_propagates) {
    log_t log;
    EXPECT_THROW(corio::run([&]() -> corio::task<> {
                     co_await corio::with(recording_manager{&log, "a"}, [](recording_manager&) -> corio::task<> {
                         throw std::runtime_error("body failed");
                         co_return;
                     });
                 }()),
                 std::runtime_error);
    EXPECT_EQ(log, (log_t{"enter a", "exit a saw body failed"}));
}

TEST(with, aexit_true_suppresses_for_void_body) {
    log_t log;
    bool after = false;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(recording_manager{&log, "a", true}, [](recording_manager&) -> corio::task<> {
            throw std::runtime_error("suppressed");
            co_return;
        });
        after = true;
    }());
    EXPECT_TRUE(after);
    EXPECT_EQ(log.back(), "exit a saw suppressed");
}

TEST(with, value_body_always_propagates_even_when_aexit_suppresses) {
    log_t log;
    EXPECT_THROW(corio::run([&]() -> corio::task<int> {
                     co_return co_await corio::with(recording_manager{&log, "a", true},
                                                    [](recording_manager&) -> corio::task<int> {
                                                        throw std::runtime_error("value body failed");
                                                        co_return 1;
                                                    });
                 }()),
                 std::runtime_error);
}

TEST(with, aenter_failure_skips_aexit_and_body) {
    log_t log;
    recording_manager m{&log, "a"};
    m.fail_enter = true;
    bool body_ran = false;
    EXPECT_THROW(corio::run([&]() -> corio::task<> {
                     co_await corio::with(m, [&](recording_manager&) { body_ran = true; });
                 }()),
                 std::runtime_error);
    EXPECT_FALSE(body_ran);
    EXPECT_EQ(log, (log_t{"enter a"}));
}

TEST(with, aexit_exception_replaces_body_exception) {
    log_t log;
    recording_manager m{&log, "a"};
    m.fail_exit = true;
    try {
        corio::run([&]() -> corio::task<> {
            co_await corio::with(m, [](recording_manager&) -> corio::task<> {
                throw std::logic_error("body");
                co_return;
            });
        }());
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "exit a failed");
    }
}

TEST(with, several_managers_enter_left_to_right_exit_right_to_left) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(recording_manager{&log, "a"}, void_manager{&log}, recording_manager{&log, "b"},
                             [&](recording_manager& a, recording_manager& b) {
                                 log.push_back("body " + a.name + b.name);
                             });
    }());
    EXPECT_EQ(log, (log_t{"enter a", "enter void", "enter b", "body ab", "exit b saw none", "exit void saw none",
                          "exit a saw none"}));
}

TEST(with, second_enter_failure_unwinds_the_first_with_that_exception) {
    log_t log;
    recording_manager b{&log, "b"};
    b.fail_enter = true;
    EXPECT_THROW(corio::run([&]() -> corio::task<> {
                     co_await corio::with(recording_manager{&log, "a"}, b,
                                          [](recording_manager&, recording_manager&) {});
                 }()),
                 std::runtime_error);
    EXPECT_EQ(log, (log_t{"enter a", "enter b", "exit a saw enter b failed"}));
}

TEST(with, lvalue_manager_is_used_by_reference) {
    log_t log;
    recording_manager m{&log, "a"};
    recording_manager* seen = nullptr;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(m, [&](recording_manager& r) { seen = &r; });
    }());
    EXPECT_EQ(seen, &m);
}

TEST(with, rvalue_manager_is_moved_in_and_lives_until_aexit_returns) {
    // The manager is a temporary of the full expression that builds the with;
    // awaiting later must still find it alive (ASan checks the accesses).
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto block = corio::with(recording_manager{&log, std::string(40, 'x')},
                                 [](recording_manager& m) { return m.name.size(); });
        co_await corio::sleep(0s);
        std::size_t n = co_await std::move(block);
        EXPECT_EQ(n, 40u);
    }());
    EXPECT_EQ(log.size(), 2u);
}

TEST(with, is_lazy_until_awaited) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto block = corio::with(recording_manager{&log, "a"}, [](recording_manager&) {});
        EXPECT_TRUE(log.empty());
        co_await block;
        EXPECT_EQ(log.size(), 2u);
    }());
}

TEST(with, plain_body_result_comes_out_as_it_is) {
    log_t log;
    int v = corio::run([&]() -> corio::task<int> {
        co_return co_await corio::with(recording_manager{&log, "a"}, [](recording_manager& m) { return m.value + 1; });
    }());
    EXPECT_EQ(v, 43);
}

TEST(with, coroutine_body_value_is_awaited) {
    log_t log;
    std::string v = corio::run([&]() -> corio::task<std::string> {
        co_return co_await corio::with(recording_manager{&log, "a"}, [](recording_manager& m) -> corio::task<std::string> {
            co_await corio::sleep(1ms);
            co_return m.name + "!";
        });
    }());
    EXPECT_EQ(v, "a!");
}

TEST(with, void_aenter_gives_the_body_no_argument) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(void_manager{&log}, [&] { log.push_back("body"); });
    }());
    EXPECT_EQ(log, (log_t{"enter void", "body", "exit void saw none"}));
}

TEST(with, capturing_lambda_body_is_stored_by_value) {
    // The closure is a temporary; its captures must outlive the awaits of its
    // coroutine body (the PITFALLS.md dangling-capture bug).
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto block = [&] {
            auto payload = std::make_shared<std::string>("captured payload");
            return corio::with(recording_manager{&log, "a"},
                               [payload, &log](recording_manager&) -> corio::task<> {
                                   co_await corio::sleep(1ms);
                                   log.push_back(*payload);
                               });
        }();
        co_await block;
    }());
    EXPECT_EQ(log[1], "captured payload");
}

TEST(with, aexit_that_awaits_completes_when_body_was_cancelled_by_timeout) {
    log_t log;
    recording_manager m{&log, "slow"};
    m.exit_delay = 20ms;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::move_on_after(5ms), [&](corio::timeout_scope&) -> corio::task<> {
            co_await corio::with(m, [](recording_manager&) -> corio::task<> { co_await corio::sleep(10s); });
        });
    }());
    EXPECT_EQ(log, (log_t{"enter slow", "exit slow saw cancelled", "exit slow finished"}));
}

TEST(with, cancellation_starting_during_exit_still_applies) {
    // The body is cancelled by the inner scope; while the (shielded) exit
    // sleeps, the outer scope expires: that newer cancellation reaches the exit.
    log_t log;
    recording_manager m{&log, "slow"};
    m.exit_delay = 10s;
    auto start = std::chrono::steady_clock::now();
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::move_on_after(50ms), [&](corio::timeout_scope& outer) -> corio::task<> {
            co_await corio::with(corio::move_on_after(5ms), [&](corio::timeout_scope&) -> corio::task<> {
                co_await corio::with(m, [](recording_manager&) -> corio::task<> { co_await corio::sleep(10s); });
            });
            EXPECT_TRUE(outer.expired());
        });
    }());
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    EXPECT_EQ(log, (log_t{"enter slow", "exit slow saw cancelled"}));
}

TEST(with, exit_of_cancelled_task_runs_and_task_ends_cancelled) {
    log_t log;
    recording_manager m{&log, "m"};
    m.exit_delay = 1ms;
    corio::run([&]() -> corio::task<> {
        auto h = corio::spawn([&]() -> corio::task<> {
            co_await corio::with(m, [](recording_manager&) -> corio::task<> { co_await corio::sleep(10s); });
        });
        co_await corio::sleep(0s);
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
    }());
    EXPECT_EQ(log, (log_t{"enter m", "exit m saw cancelled", "exit m finished"}));
}

TEST(with, lock_managers_by_reference) {
    corio::lock a, b;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(a, b, [&](corio::lock& x, corio::lock& y) {
            EXPECT_EQ(&x, &a);
            EXPECT_EQ(&y, &b);
            EXPECT_TRUE(a.locked());
            EXPECT_TRUE(b.locked());
        });
    }());
    EXPECT_FALSE(a.locked());
    EXPECT_FALSE(b.locked());
}

TEST(with, try_catch_around_with_sees_body_exception_after_exit) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        try {
            co_await corio::with(recording_manager{&log, "a"}, [](recording_manager&) -> corio::task<> {
                throw std::runtime_error("oops");
                co_return;
            });
        } catch (const std::runtime_error& e) {
            log.push_back(std::string("caught ") + e.what());
        }
    }());
    EXPECT_EQ(log, (log_t{"enter a", "exit a saw oops", "caught oops"}));
}

// ---- Rule 2: a body that takes no arguments, whatever the managers give ----

TEST(with, a_body_without_arguments_runs_under_a_manager_that_gives_a_value) {
    corio::lock lock;
    int counter = 0;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(lock, [&] { ++counter; });  // async with lock: (no `as`)
        co_await corio::with(lock, [&]() -> corio::task<> {
            EXPECT_TRUE(lock.locked());
            co_await corio::sleep(0s);
            ++counter;
        });
        int v = co_await corio::with(lock, [&] { return counter * 10; });
        EXPECT_EQ(v, 20);
    }());
    EXPECT_EQ(counter, 2);
    EXPECT_FALSE(lock.locked());
}

TEST(with, a_body_without_arguments_under_several_managers_of_every_shape) {
    log_t log;
    corio::lock lock;
    corio::run([&]() -> corio::task<> {
        std::string got = co_await corio::with(recording_manager{&log, "a"}, void_manager{&log}, lock,
                                               [&]() -> corio::task<std::string> {
                                                   EXPECT_TRUE(lock.locked());
                                                   co_return "done";
                                               });
        EXPECT_EQ(got, "done");
    }());
    EXPECT_EQ(log, (log_t{"enter a", "enter void", "exit void saw none", "exit a saw none"}));
}

TEST(with, a_body_without_arguments_sees_exits_on_exception_and_cancellation) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        EXPECT_THROW(co_await corio::with(recording_manager{&log, "a"}, []() { throw std::runtime_error("plain failed"); }),
                     std::runtime_error);
        co_await corio::with(corio::move_on_after(1ms), [&]() -> corio::task<> {
            co_await corio::with(recording_manager{&log, "b"}, []() -> corio::task<> { co_await corio::sleep(10s); });
        });
    }());
    EXPECT_EQ(log, (log_t{"enter a", "exit a saw plain failed", "enter b", "exit b saw cancelled"}));
}

// ---- the one-manager with is a frame of its own, inside its awaiter's --------

namespace {

// aenter/aexit as plain awaiters that complete without suspending, and
// awaiters whose await_suspend returns bool (false: go on) and void.
struct ready_manager {
    log_t* log;
    struct ready {
        int v;
        bool await_ready() const noexcept { return true; }
        void await_suspend(std::coroutine_handle<>) const noexcept {}
        int await_resume() const noexcept { return v; }
    };
    struct declining {  // suspends "then changes its mind"
        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<>) const noexcept { return false; }
        bool await_resume() const noexcept { return false; }
    };
    ready aenter() {
        log->push_back("enter ready");
        return {5};
    }
    declining aexit(std::exception_ptr e) {
        log->push_back("exit declining saw " + corio_test::what_of(e));
        return {};
    }
};

}  // namespace

TEST(with, awaiters_that_complete_at_once_or_decline_to_suspend) {
    log_t log;
    int v = corio::run([&]() -> corio::task<int> {
        co_return co_await corio::with(ready_manager{&log}, [](int& x) { return x * 3; });
    }());
    EXPECT_EQ(v, 15);
    EXPECT_EQ(log, (log_t{"enter ready", "exit declining saw none"}));
}

TEST(with, awaited_twice_is_a_logic_error_and_runs_nothing_twice) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto block = corio::with(recording_manager{&log, "a"}, [](recording_manager&) {});
        co_await block;
        EXPECT_THROW(co_await block, std::logic_error);
    }());
    EXPECT_EQ(log, (log_t{"enter a", "exit a saw none"}));
}

TEST(with, as_task_runs_the_block_in_gather) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto [a, b] = co_await corio::gather(
            corio::with(recording_manager{&log, "a"}, [](recording_manager& m) { return m.name; }).as_task(),
            corio::with(recording_manager{&log, "b"}, [](recording_manager& m) -> corio::task<std::string> {
                co_await corio::sleep(1ms);
                co_return m.name;
            }).as_task());
        EXPECT_EQ(a + b, "ab");
    }());
    EXPECT_EQ(log.size(), 4u);
}

TEST(with, ten_million_withs_completing_at_once_use_no_stack) {
    // Each step goes on by a tail call (clang) or through the loop's
    // transfer slot: a loop of withs whose parts never suspend must not
    // grow the native stack (PITFALLS: Asio's stack overflow on ready awaits).
    long n = 0;
    struct coroutine_manager {  // aenter, body and aexit are tasks that never suspend
        corio::task<int> aenter() { co_return 1; }
        corio::task<> aexit(std::exception_ptr) { co_return; }
    };
    corio::run([&]() -> corio::task<> {
        log_t log;
        ready_manager m{&log};
        for (int i = 0; i < 5'000'000; ++i) {
            co_await corio::with(m, [&] { ++n; });
            if (log.size() > 64) log.clear();
        }
        coroutine_manager c;
        for (int i = 0; i < 5'000'000; ++i)
            co_await corio::with(c, [&](int& one) -> corio::task<> {
                n += one;
                co_return;
            });
    }());
    EXPECT_EQ(n, 10'000'000);
}

// The layout the one-manager with relies on: a coroutine_handle made from
// the address of a handmade_frame resumes by calling its `resume` with that
// address, on this compiler.
namespace {
int handmade_resumes = 0;
void* handmade_seen = nullptr;
void count_resume(void* frame) {
    ++handmade_resumes;
    handmade_seen = frame;
}
void never_destroyed(void*) { std::terminate(); }
}  // namespace

TEST(with, handmade_frame_is_resumed_through_a_coroutine_handle) {
    corio::detail::handmade_frame frame{&count_resume, &never_destroyed};
    auto h = std::coroutine_handle<>::from_address(&frame);
    h.resume();
    h();
    EXPECT_EQ(handmade_resumes, 2);
    EXPECT_EQ(handmade_seen, &frame);
    EXPECT_EQ(h.address(), &frame);
}
