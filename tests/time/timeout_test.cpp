// timeout, timeout_at, move_on_after, move_on_at, wait_for: cancellation at
// the deadline, conversion to timeout_error or swallowing at exit, deadlines
// already passed, reschedule, nested scopes (Trio: the outermost fired scope
// catches), exits that await while a timeout is in effect.
#include <corio/time/timeout.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <corio/context/enter.hpp>
#include <corio/errors.hpp>
#include <corio/run.hpp>
#include <corio/tasks/shield.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>
#include <corio/context/with.hpp>

using namespace std::chrono_literals;

namespace {

using log_t = std::vector<std::string>;
using steady = std::chrono::steady_clock;

// What a deadline must cut short: long enough that no busy machine lets it
// finish first, short enough that a broken cut fails within a minute, not at
// CTest's timeout.
constexpr std::chrono::milliseconds long_sleep = 60s;
// An upper bound for what takes milliseconds: generous, so that a machine
// keeping the test off the CPU for a while does not fail it.
constexpr std::chrono::milliseconds prompt = 10s;

static_assert(std::is_base_of_v<std::runtime_error, corio::timeout_error>);
static_assert(corio::async_context_manager<corio::timeout_scope>);

std::string kind(const std::exception_ptr& e) {
    if (!e) return "ok";
    if (corio::is_cancellation(e)) return "cancelled";
    return corio::describe(e);
}

// An exit that takes a while: it sleeps `exit_time`, recording start and end
// (or its own cancellation).
struct slow_exit_cm {
    log_t* log;
    std::chrono::milliseconds exit_time;
    corio::task<> aenter() { co_return; }
    corio::task<> aexit(std::exception_ptr e) {
        log->push_back("exit start " + kind(e));
        try {
            co_await corio::sleep(exit_time);
        } catch (const corio::cancelled_error&) {
            log->push_back("exit cancelled");
            throw;
        }
        log->push_back("exit end");
    }
};

corio::task<> sleep_recording(log_t& log, std::string name, std::chrono::milliseconds d) {
    try {
        co_await corio::sleep(d);
    } catch (const corio::cancelled_error&) {
        log.push_back(name + " cancelled");
        throw;
    }
    log.push_back(name + " woke");
}

// Runs `body` inside a with of `manager`, recording how the with ended.
template <class Manager, class Body>
corio::task<> recorded_with(log_t& log, std::string name, Manager& manager, Body body) {
    try {
        co_await corio::with(manager, std::move(body));
        log.push_back(name + " ok");
    } catch (const corio::timeout_error&) {
        log.push_back(name + " timeout_error");
        throw;
    } catch (const corio::cancelled_error&) {
        log.push_back(name + " cancelled_error");
        throw;
    }
}

TEST(timeout, body_is_cancelled_at_the_deadline_and_exit_raises_timeout_error) {
    log_t log;
    const auto start = steady::now();
    corio::run([&]() -> corio::task<> {
        auto t = corio::timeout(20ms);
        try {
            co_await corio::with(t, [&](corio::timeout_scope&) -> corio::task<> {
                co_await sleep_recording(log, "body", long_sleep);
            });
            ADD_FAILURE() << "no timeout_error";
        } catch (const corio::timeout_error& e) {
            log.push_back("timeout_error");
            EXPECT_NE(std::string(e.what()).find("deadline"), std::string::npos) << e.what();
        }
        EXPECT_TRUE(t.expired());
        EXPECT_TRUE(t.cancelled_caught());
    }());
    const auto took = steady::now() - start;
    EXPECT_EQ(log, (log_t{"body cancelled", "timeout_error"}));
    EXPECT_GE(took, 20ms);
    EXPECT_LT(took, prompt);
}

TEST(timeout, timeout_error_is_a_runtime_error) {
    corio::run([]() -> corio::task<> {
        try {
            co_await corio::with(corio::timeout(1ms), [](corio::timeout_scope&) -> corio::task<> {
                co_await corio::sleep(long_sleep);
            });
            ADD_FAILURE() << "no exception";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(dynamic_cast<const corio::timeout_error*>(&e), nullptr);
        }
    }());
}

TEST(timeout, body_that_finishes_in_time_gives_its_value) {
    corio::run([]() -> corio::task<> {
        auto t = corio::timeout(1s);
        const int v = co_await corio::with(t, [](corio::timeout_scope&) -> corio::task<int> {
            co_await corio::sleep(1ms);
            co_return 11;
        });
        EXPECT_EQ(v, 11);
        EXPECT_FALSE(t.expired());
        EXPECT_FALSE(t.cancelled_caught());
    }());
}

TEST(timeout, body_returning_a_value_that_times_out_raises_timeout_error) {
    corio::run([]() -> corio::task<> {
        EXPECT_THROW(co_await corio::with(corio::timeout(5ms),
                                          [](corio::timeout_scope&) -> corio::task<int> {
                                              co_await corio::sleep(long_sleep);
                                              co_return 1;
                                          }),
                     corio::timeout_error);
    }());
}

TEST(timeout, other_exceptions_pass_through_unchanged) {
    corio::run([]() -> corio::task<> {
        try {
            co_await corio::with(corio::timeout(1s), [](corio::timeout_scope&) -> corio::task<> {
                co_await corio::sleep(0s);
                throw std::logic_error("body");
            });
            ADD_FAILURE() << "no exception";
        } catch (const std::logic_error& e) {
            EXPECT_STREQ(e.what(), "body");
        }
    }());
}

TEST(timeout, a_body_that_swallows_the_cancellation_ends_without_timeout_error) {
    // asyncio/Trio: a timeout converts only a cancellation that reaches its exit.
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto t = corio::timeout(5ms);
        co_await corio::with(t, [&](corio::timeout_scope&) -> corio::task<> {
            try {
                co_await corio::sleep(long_sleep);
            } catch (const corio::cancelled_error&) {
                log.push_back("swallowed");
            }
        });
        log.push_back("with returned");
        EXPECT_TRUE(t.expired());
        EXPECT_FALSE(t.cancelled_caught());
    }());
    EXPECT_EQ(log, (log_t{"swallowed", "with returned"}));
}

TEST(move_on_after, swallows_the_cancellation_and_reports_it) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto m = corio::move_on_after(10ms);
        co_await corio::with(m, [&](corio::timeout_scope&) -> corio::task<> {
            co_await sleep_recording(log, "body", long_sleep);
            log.push_back("after sleep");  // never
        });
        log.push_back("after block");
        EXPECT_TRUE(m.cancelled_caught());
        EXPECT_TRUE(m.expired());
        co_await corio::sleep(0s);  // the task itself is not cancelled
    }());
    EXPECT_EQ(log, (log_t{"body cancelled", "after block"}));
}

TEST(move_on_after, cancelled_caught_is_false_when_it_did_not_fire) {
    corio::run([]() -> corio::task<> {
        auto m = corio::move_on_after(1s);
        co_await corio::with(m, [](corio::timeout_scope&) -> corio::task<> { co_await corio::sleep(1ms); });
        EXPECT_FALSE(m.cancelled_caught());
        EXPECT_FALSE(m.expired());
    }());
}

TEST(move_on_at, swallows_at_an_absolute_deadline) {
    corio::run([]() -> corio::task<> {
        auto m = corio::move_on_at(steady::now() + 10ms);
        co_await corio::with(m, [](corio::timeout_scope&) -> corio::task<> { co_await corio::sleep(long_sleep); });
        EXPECT_TRUE(m.cancelled_caught());
    }());
}

TEST(timeout_at, raises_at_an_absolute_deadline) {
    const auto start = steady::now();
    corio::run([]() -> corio::task<> {
        EXPECT_THROW(co_await corio::with(corio::timeout_at(steady::now() + 10ms),
                                          [](corio::timeout_scope&) -> corio::task<> { co_await corio::sleep(long_sleep); }),
                     corio::timeout_error);
    }());
    EXPECT_LT(steady::now() - start, prompt);
}

TEST(timeout_at, nullopt_means_no_deadline) {
    corio::run([]() -> corio::task<> {
        auto t = corio::timeout_at(std::nullopt);
        EXPECT_FALSE(t.when().has_value());
        co_await corio::with(t, [](corio::timeout_scope&) -> corio::task<> { co_await corio::sleep(10ms); });
        EXPECT_FALSE(t.expired());
    }());
}

TEST(timeout, deadline_already_passed_cancels_at_the_first_await_without_waiting) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto other = corio::spawn([&log]() -> corio::task<> {
            log.push_back("other ran");
            co_return;
        });
        auto t = corio::timeout_at(steady::now() - 1s);
        try {
            co_await corio::with(t, [&](corio::timeout_scope&) -> corio::task<> {
                log.push_back("body runs");
                try {
                    co_await corio::sleep(0s);
                } catch (const corio::cancelled_error&) {
                    log.push_back("first await threw");  // before "other" had a turn
                    throw;
                }
            });
        } catch (const corio::timeout_error&) {
            log.push_back("timeout_error");
        }
        EXPECT_TRUE(t.expired());
        co_await other;
    }());
    EXPECT_EQ(log, (log_t{"body runs", "first await threw", "timeout_error", "other ran"}));
}

TEST(timeout, zero_duration_cancels_at_the_first_await) {
    const auto start = steady::now();
    corio::run([]() -> corio::task<> {
        EXPECT_THROW(co_await corio::with(corio::timeout(0s),
                                          [](corio::timeout_scope&) -> corio::task<> { co_await corio::sleep(long_sleep); }),
                     corio::timeout_error);
    }());
    EXPECT_LT(steady::now() - start, prompt);
}

TEST(timeout, aenter_gives_the_scope_itself) {
    corio::run([]() -> corio::task<> {
        auto t = corio::timeout(1s);
        const corio::timeout_scope* seen = nullptr;
        co_await corio::with(t, [&seen](corio::timeout_scope& s) -> corio::task<> {
            seen = &s;
            co_return;
        });
        EXPECT_EQ(seen, &t);
    }());
}

TEST(timeout, when_gives_the_deadline_fixed_at_creation) {
    const auto before = steady::now();
    auto t = corio::timeout(1s);
    const auto after = steady::now();
    ASSERT_TRUE(t.when().has_value());
    EXPECT_GE(*t.when(), before + 1s);
    EXPECT_LE(*t.when(), after + 1s);
    const auto fixed = steady::now() + 5s;
    EXPECT_EQ(corio::timeout_at(fixed).when(), fixed);
}

TEST(timeout, reschedule_earlier_fires_sooner) {
    const auto start = steady::now();
    corio::run([]() -> corio::task<> {
        auto t = corio::timeout(long_sleep);
        EXPECT_THROW(co_await corio::with(t,
                                          [](corio::timeout_scope& s) -> corio::task<> {
                                              s.reschedule(steady::now() + 10ms);
                                              co_await corio::sleep(long_sleep);
                                          }),
                     corio::timeout_error);
        EXPECT_TRUE(t.expired());
    }());
    EXPECT_LT(steady::now() - start, prompt);
}

TEST(timeout, reschedule_later_lets_the_body_finish) {
    corio::run([]() -> corio::task<> {
        auto t = corio::timeout(10ms);
        co_await corio::with(t, [](corio::timeout_scope& s) -> corio::task<> {
            s.reschedule(steady::now() + 10s);
            co_await corio::sleep(30ms);
        });
        EXPECT_FALSE(t.expired());
    }());
}

TEST(timeout, reschedule_to_nullopt_removes_the_deadline) {
    corio::run([]() -> corio::task<> {
        auto t = corio::timeout(10ms);
        co_await corio::with(t, [](corio::timeout_scope& s) -> corio::task<> {
            s.reschedule(std::nullopt);
            EXPECT_FALSE(s.when().has_value());
            co_await corio::sleep(30ms);
        });
        EXPECT_FALSE(t.expired());
    }());
}

TEST(timeout, reschedule_sets_a_deadline_on_a_scope_that_had_none) {
    corio::run([]() -> corio::task<> {
        auto t = corio::timeout_at(std::nullopt);
        EXPECT_THROW(co_await corio::with(t,
                                          [](corio::timeout_scope& s) -> corio::task<> {
                                              s.reschedule(steady::now() + 5ms);
                                              co_await corio::sleep(long_sleep);
                                          }),
                     corio::timeout_error);
    }());
}

TEST(timeout, reschedule_to_the_past_cancels_at_the_next_await) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto m = corio::move_on_after(10s);
        co_await corio::with(m, [&](corio::timeout_scope& s) -> corio::task<> {
            s.reschedule(steady::now() - 1ms);
            log.push_back("rescheduled");
            co_await sleep_recording(log, "sleep", long_sleep);
        });
        EXPECT_TRUE(m.cancelled_caught());
    }());
    EXPECT_EQ(log, (log_t{"rescheduled", "sleep cancelled"}));
}

TEST(timeout, reschedule_after_firing_keeps_the_scope_cancelled) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto m = corio::move_on_after(5ms);
        co_await corio::with(m, [&](corio::timeout_scope& s) -> corio::task<> {
            try {
                co_await corio::sleep(long_sleep);
            } catch (const corio::cancelled_error&) {
                log.push_back("fired");
            }
            s.reschedule(steady::now() + 10s);
            co_await sleep_recording(log, "again", long_sleep);  // still cancelled
        });
        EXPECT_TRUE(m.cancelled_caught());
    }());
    EXPECT_EQ(log, (log_t{"fired", "again cancelled"}));
}

TEST(timeout, entering_a_scope_twice_is_a_logic_error) {
    corio::run([]() -> corio::task<> {
        auto t = corio::timeout(1s);
        co_await corio::with(t, [](corio::timeout_scope&) -> corio::task<> { co_return; });
        EXPECT_THROW(co_await corio::with(t, [](corio::timeout_scope&) -> corio::task<> { co_return; }),
                     std::logic_error);
    }());
}

TEST(timeout, nested_inner_fires_and_only_the_inner_converts) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto outer = corio::timeout(1s);
        auto inner = corio::timeout(10ms);
        co_await recorded_with(log, "outer", outer, [&](corio::timeout_scope&) -> corio::task<> {
            try {
                co_await recorded_with(log, "inner", inner, [&](corio::timeout_scope&) -> corio::task<> {
                    co_await sleep_recording(log, "body", long_sleep);
                });
            } catch (const corio::timeout_error&) {
                log.push_back("outer body caught the inner timeout");
            }
            co_await corio::sleep(0s);  // the outer scope is not cancelled
            log.push_back("outer body goes on");
        });
        EXPECT_TRUE(inner.expired());
        EXPECT_TRUE(inner.cancelled_caught());
        EXPECT_FALSE(outer.expired());
        EXPECT_FALSE(outer.cancelled_caught());
    }());
    EXPECT_EQ(log, (log_t{"body cancelled", "inner timeout_error", "outer body caught the inner timeout",
                          "outer body goes on", "outer ok"}));
}

TEST(timeout, nested_outer_fires_while_inner_is_active_and_only_the_outer_converts) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto outer = corio::timeout(10ms);
        auto inner = corio::timeout(1s);
        try {
            co_await recorded_with(log, "outer", outer, [&](corio::timeout_scope&) -> corio::task<> {
                co_await recorded_with(log, "inner", inner, [&](corio::timeout_scope&) -> corio::task<> {
                    co_await sleep_recording(log, "body", long_sleep);
                });
            });
        } catch (const corio::timeout_error&) {
            log.push_back("one timeout_error");
        }
        EXPECT_FALSE(inner.expired());
        EXPECT_FALSE(inner.cancelled_caught());
        EXPECT_TRUE(outer.expired());
        EXPECT_TRUE(outer.cancelled_caught());
    }());
    EXPECT_EQ(log, (log_t{"body cancelled", "inner cancelled_error", "outer timeout_error", "one timeout_error"}));
}

TEST(timeout, nested_move_on_inside_a_fired_timeout_does_not_swallow_the_outer_cancellation) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto outer = corio::timeout(10ms);
        auto inner = corio::move_on_after(1s);
        try {
            co_await corio::with(outer, [&](corio::timeout_scope&) -> corio::task<> {
                co_await corio::with(inner, [&](corio::timeout_scope&) -> corio::task<> {
                    co_await sleep_recording(log, "body", long_sleep);
                });
                log.push_back("after inner block");  // must not run
            });
        } catch (const corio::timeout_error&) {
            log.push_back("timeout_error");
        }
        EXPECT_FALSE(inner.cancelled_caught());
        EXPECT_TRUE(outer.cancelled_caught());
    }());
    EXPECT_EQ(log, (log_t{"body cancelled", "timeout_error"}));
}

TEST(timeout, nested_both_fired_the_outermost_catches) {
    // Trio: when several scopes have fired, the outermost fired scope
    // catches. Both deadlines pass while the body is shielded; the
    // cancellation then surfaces at the body's next await.
    // Regression: at commit 4e83c85 the inner scope's exit asked
    // fiber_->cancelled() whether an outer scope was cancelled too, but the
    // exit shield that `with` pushed for that aexit hid every cancellation
    // in effect, so the inner scope always caught (timeout.hpp, exit()).
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto outer = corio::timeout(20ms);
        auto inner = corio::move_on_after(10ms);
        try {
            co_await corio::with(outer, [&](corio::timeout_scope&) -> corio::task<> {
                co_await corio::with(inner, [&](corio::timeout_scope&) -> corio::task<> {
                    co_await corio::shield(corio::sleep(40ms));
                    log.push_back("shielded sleep done");
                    co_await sleep_recording(log, "body", long_sleep);
                });
                log.push_back("after inner block");  // must not run: the outer caught it
            });
        } catch (const corio::timeout_error&) {
            log.push_back("timeout_error");
        }
        EXPECT_TRUE(inner.expired());
        EXPECT_TRUE(outer.expired());
        EXPECT_FALSE(inner.cancelled_caught());
        EXPECT_TRUE(outer.cancelled_caught());
    }());
    EXPECT_EQ(log, (log_t{"shielded sleep done", "body cancelled", "timeout_error"}));
}

TEST(timeout, nested_both_fired_timeouts_give_one_timeout_error_from_the_outermost) {
    // The same with two timeouts (at 4e83c85 the inner one converted).
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto outer = corio::timeout(20ms);
        auto inner = corio::timeout(10ms);
        try {
            co_await recorded_with(log, "outer", outer, [&](corio::timeout_scope&) -> corio::task<> {
                co_await recorded_with(log, "inner", inner, [&](corio::timeout_scope&) -> corio::task<> {
                    co_await corio::shield(corio::sleep(40ms));
                    co_await sleep_recording(log, "body", long_sleep);
                });
            });
        } catch (const corio::timeout_error&) {
            log.push_back("caught");
        }
        EXPECT_FALSE(inner.cancelled_caught());
        EXPECT_TRUE(outer.cancelled_caught());
    }());
    EXPECT_EQ(log, (log_t{"body cancelled", "inner cancelled_error", "outer timeout_error", "caught"}));
}

TEST(timeout, an_exit_that_awaits_completes_when_the_body_was_cancelled_by_the_timeout) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        try {
            co_await corio::with(corio::timeout(10ms), [&](corio::timeout_scope&) -> corio::task<> {
                slow_exit_cm cm{&log, 5ms};
                co_await corio::with(cm, [&]() -> corio::task<> {
                    co_await sleep_recording(log, "body", long_sleep);
                });
            });
        } catch (const corio::timeout_error&) {
            log.push_back("timeout_error");
        }
    }());
    EXPECT_EQ(log, (log_t{"body cancelled", "exit start cancelled", "exit end", "timeout_error"}));
}

TEST(timeout, an_enter_exit_that_awaits_completes_when_the_task_was_cancelled_by_the_timeout) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto t = corio::timeout(10ms);
        try {
            co_await corio::with(t, [&](corio::timeout_scope&) -> corio::task<> {
                co_await [&]() -> corio::task<> {
                    slow_exit_cm cm{&log, 5ms};
                    co_await corio::enter(std::move(cm));
                    co_await sleep_recording(log, "body", long_sleep);
                }();
            });
        } catch (const corio::timeout_error&) {
            log.push_back("timeout_error");
        }
    }());
    EXPECT_EQ(log, (log_t{"body cancelled", "exit start cancelled", "exit end", "timeout_error"}));
}

TEST(timeout, a_timeout_expiring_during_an_exit_cancels_the_exit) {
    log_t log;
    const auto start = steady::now();
    corio::run([&]() -> corio::task<> {
        try {
            co_await corio::with(corio::timeout(20ms), [&](corio::timeout_scope&) -> corio::task<> {
                slow_exit_cm cm{&log, long_sleep};
                co_await corio::with(cm, [&]() -> corio::task<> {
                    log.push_back("body done");
                    co_return;
                });
            });
        } catch (const corio::timeout_error&) {
            log.push_back("timeout_error");
        }
    }());
    EXPECT_EQ(log, (log_t{"body done", "exit start ok", "exit cancelled", "timeout_error"}));
    EXPECT_LT(steady::now() - start, prompt);
}

TEST(timeout, an_enclosing_timeout_expiring_during_a_shielded_exit_still_applies) {
    // The inner move_on cancels the body; the exit is shielded from that
    // cancellation, but the outer timeout that expires during the exit still
    // cancels it, and that expiry is the outer timeout's to report.
    // Regression (asyncpg#97 class): at commit 4e83c85, for the reason given
    // in nested_both_fired_the_outermost_catches, the move_on swallowed the
    // outer timeout's cancellation and the outer block ended without
    // timeout_error.
    log_t log;
    const auto start = steady::now();
    corio::run([&]() -> corio::task<> {
        auto outer = corio::timeout(30ms);
        auto inner = corio::move_on_after(5ms);
        try {
            co_await corio::with(outer, [&](corio::timeout_scope&) -> corio::task<> {
                co_await corio::with(inner, [&](corio::timeout_scope&) -> corio::task<> {
                    slow_exit_cm cm{&log, long_sleep};
                    co_await corio::with(cm, [&]() -> corio::task<> {
                        co_await sleep_recording(log, "body", long_sleep);
                    });
                });
                log.push_back("after inner block");  // must not run
            });
            log.push_back("outer ended without timeout_error");
        } catch (const corio::timeout_error&) {
            log.push_back("timeout_error");
        }
        EXPECT_TRUE(outer.expired());
        EXPECT_TRUE(outer.cancelled_caught());
        EXPECT_FALSE(inner.cancelled_caught());
    }());
    EXPECT_EQ(log, (log_t{"body cancelled", "exit start cancelled", "exit cancelled", "timeout_error"}));
    EXPECT_LT(steady::now() - start, prompt);
}

TEST(wait_for, success_returns_the_value) {
    corio::run([]() -> corio::task<> {
        auto work = []() -> corio::task<std::string> {
            co_await corio::sleep(1ms);
            co_return "done";
        };
        EXPECT_EQ(co_await corio::wait_for(work(), 1s), "done");
    }());
}

TEST(wait_for, on_expiry_cancels_and_awaits_the_task_then_raises_timeout_error) {
    log_t log;
    const auto start = steady::now();
    corio::run([&]() -> corio::task<> {
        auto work = [&log]() -> corio::task<int> {
            slow_exit_cm cm{&log, 5ms};
            co_await corio::enter(std::move(cm));
            co_await sleep_recording(log, "work", long_sleep);
            co_return 1;
        };
        try {
            (void)co_await corio::wait_for(work(), 10ms);
            ADD_FAILURE() << "no timeout_error";
        } catch (const corio::timeout_error&) {
            log.push_back("timeout_error");
        }
    }());
    EXPECT_EQ(log, (log_t{"work cancelled", "exit start cancelled", "exit end", "timeout_error"}));
    EXPECT_LT(steady::now() - start, prompt);
}

TEST(wait_for, a_spawned_task_is_cancelled_and_awaited_on_expiry) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto h = corio::spawn(sleep_recording(log, "spawned", long_sleep));
        try {
            co_await corio::wait_for(std::move(h), 10ms);
            ADD_FAILURE() << "no timeout_error";
        } catch (const corio::timeout_error&) {
            log.push_back("timeout_error");
        }
    }());
    EXPECT_EQ(log, (log_t{"spawned cancelled", "timeout_error"}));
}

TEST(wait_for, the_tasks_own_exception_passes_through) {
    corio::run([]() -> corio::task<> {
        auto work = []() -> corio::task<int> {
            co_await corio::sleep(0s);
            throw std::out_of_range("work");
        };
        EXPECT_THROW((void)co_await corio::wait_for(work(), 1s), std::out_of_range);
    }());
}

}  // namespace
