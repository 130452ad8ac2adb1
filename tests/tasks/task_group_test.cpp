// task_group: exit waits for every child; the first failure cancels the rest
// and the body; exception_group holds every non-cancellation failure (body
// included, nested groups nested); outside cancellation propagates as
// cancelled_error; spawn misuse; captured callables.
#include <corio/tasks/task_group.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <corio/errors.hpp>
#include <corio/run.hpp>
#include <corio/tasks/shield.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>
#include <corio/time/timeout.hpp>
#include <corio/context/with.hpp>

#include "../support/outcome.hpp"

using namespace std::chrono_literals;

namespace {

using log_t = std::vector<std::string>;

static_assert(corio::async_context_manager<corio::task_group>);
static_assert(std::is_base_of_v<std::exception, corio::exception_group>);

using corio_test::outcome;

corio::task<> steps(log_t& log, std::string name, int yields) {
    for (int i = 0; i < yields; ++i) co_await corio::sleep(0s);
    log.push_back(name + " done");
}

corio::task<> sleep_recording(log_t& log, std::string name) {
    try {
        co_await corio::sleep(1h);
    } catch (const corio::cancelled_error&) {
        log.push_back(name + " cancelled");
        throw;
    }
}

// Throws at once, without awaiting (so a sibling's failure cannot cancel it first).
corio::task<> fail_now(log_t& log, std::string message) {
    log.push_back(message + " throws");
    throw std::runtime_error(message);
    co_return;
}

corio::task<> fail_after_yield(log_t& log, std::string message) {
    co_await corio::sleep(0s);
    log.push_back(message + " throws");
    throw std::runtime_error(message);
}

// The what() of every exception in the group, sorted.
log_t messages(const corio::exception_group& g) {
    log_t out;
    for (const auto& e : g.exceptions()) {
        try {
            std::rethrow_exception(e);
        } catch (const corio::exception_group& inner) {
            out.push_back("group of " + std::to_string(inner.exceptions().size()));
        } catch (const std::exception& x) {
            out.push_back(x.what());
        } catch (...) {
            out.push_back("?");
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

TEST(task_group, exit_waits_for_every_child) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::task_group{}, [&](corio::task_group& g) -> corio::task<> {
            g.spawn(steps(log, "a", 3));
            g.spawn(steps(log, "b", 1));
            g.spawn(steps(log, "c", 0));
            EXPECT_EQ(g.size(), 3u);
            log.push_back("body done");
            co_return;
        });
        log.push_back("after group");
    }());
    EXPECT_EQ(log, (log_t{"body done", "c done", "b done", "a done", "after group"}));
}

TEST(task_group, exit_waits_for_children_spawned_while_it_waits) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::task_group{}, [&](corio::task_group& g) -> corio::task<> {
            g.spawn([&log, &g]() -> corio::task<> {
                co_await corio::sleep(0s);  // the body has ended: the group is exiting
                g.spawn(steps(log, "grandchild", 2));
                log.push_back("child done");
            });
            co_return;
        });
        log.push_back("after group");
    }());
    EXPECT_EQ(log, (log_t{"child done", "grandchild done", "after group"}));
}

TEST(task_group, body_value_comes_out_of_with) {
    corio::run([]() -> corio::task<> {
        const int v = co_await corio::with(corio::task_group{}, [](corio::task_group& g) -> corio::task<int> {
            auto h = g.spawn([]() -> corio::task<int> {
                co_await corio::sleep(0s);
                co_return 20;
            });
            co_return co_await h + 1;
        });
        EXPECT_EQ(v, 21);
    }());
}

TEST(task_group, first_child_failure_cancels_the_other_children_and_the_body) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        try {
            co_await corio::with(corio::task_group{}, [&](corio::task_group& g) -> corio::task<> {
                g.spawn(sleep_recording(log, "sibling"));
                g.spawn(fail_after_yield(log, "child"));
                try {
                    co_await corio::sleep(1h);
                } catch (const corio::cancelled_error&) {
                    log.push_back("body cancelled");
                    throw;
                }
            });
            ADD_FAILURE() << "no exception_group";
        } catch (const corio::exception_group& g) {
            EXPECT_EQ(messages(g), (log_t{"child"}));
            log.push_back("group failed");
        }
    }());
    ASSERT_EQ(log.size(), 4u);
    EXPECT_EQ(log[0], "child throws");
    log_t cancelled(log.begin() + 1, log.begin() + 3);
    std::sort(cancelled.begin(), cancelled.end());
    EXPECT_EQ(cancelled, (log_t{"body cancelled", "sibling cancelled"}));
    EXPECT_EQ(log[3], "group failed");
}

TEST(task_group, exception_group_holds_every_child_failure) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        try {
            co_await corio::with(corio::task_group{}, [&](corio::task_group& g) -> corio::task<> {
                g.spawn(fail_now(log, "first"));
                g.spawn(fail_now(log, "second"));
                g.spawn(sleep_recording(log, "sleeper"));
                co_return;
            });
            ADD_FAILURE() << "no exception_group";
        } catch (const corio::exception_group& g) {
            EXPECT_EQ(g.exceptions().size(), 2u);  // the cancellation is not in it
            EXPECT_EQ(messages(g), (log_t{"first", "second"}));
            const std::string what = g.what();
            EXPECT_NE(what.find("2 sub-exceptions"), std::string::npos) << what;
            EXPECT_NE(what.find("first"), std::string::npos) << what;
            EXPECT_NE(what.find("second"), std::string::npos) << what;
        }
    }());
    EXPECT_EQ(log, (log_t{"first throws", "second throws", "sleeper cancelled"}));
}

TEST(task_group, body_failure_cancels_the_children_and_is_in_the_group) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        try {
            co_await corio::with(corio::task_group{}, [&](corio::task_group& g) -> corio::task<> {
                g.spawn(sleep_recording(log, "child"));
                co_await corio::sleep(0s);
                log.push_back("body throws");
                throw std::logic_error("body");
            });
            ADD_FAILURE() << "no exception_group";
        } catch (const corio::exception_group& g) {
            EXPECT_EQ(messages(g), (log_t{"body"}));
            try {
                std::rethrow_exception(g.exceptions().at(0));
            } catch (const std::logic_error& e) {
                EXPECT_STREQ(e.what(), "body");
            }
        }
    }());
    EXPECT_EQ(log, (log_t{"body throws", "child cancelled"}));
}

TEST(task_group, body_and_child_failures_are_both_in_the_group) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        try {
            co_await corio::with(corio::task_group{}, [&](corio::task_group& g) -> corio::task<> {
                g.spawn(fail_now(log, "child"));
                try {
                    co_await corio::sleep(1h);
                } catch (const corio::cancelled_error&) {
                    log.push_back("body throws while cancelled");
                    throw std::runtime_error("body");
                }
            });
            ADD_FAILURE() << "no exception_group";
        } catch (const corio::exception_group& g) {
            EXPECT_EQ(messages(g), (log_t{"body", "child"}));
        }
    }());
    EXPECT_EQ(log, (log_t{"child throws", "body throws while cancelled"}));
}

TEST(task_group, nested_group_exception_group_stays_nested) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        try {
            co_await corio::with(corio::task_group{}, [&](corio::task_group& outer) -> corio::task<> {
                outer.spawn([&log]() -> corio::task<> {
                    co_await corio::with(corio::task_group{}, [&log](corio::task_group& inner) -> corio::task<> {
                        inner.spawn(fail_now(log, "x"));
                        inner.spawn(fail_now(log, "y"));
                        co_return;
                    });
                });
                co_return;
            });
            ADD_FAILURE() << "no exception_group";
        } catch (const corio::exception_group& g) {
            EXPECT_EQ(messages(g), (log_t{"group of 2"}));
            try {
                std::rethrow_exception(g.exceptions().at(0));
            } catch (const corio::exception_group& inner) {
                EXPECT_EQ(messages(inner), (log_t{"x", "y"}));
            }
        }
    }());
}

TEST(task_group, outside_cancellation_propagates_as_cancelled_error) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto h = corio::spawn([&log]() -> corio::task<> {
            try {
                co_await corio::with(corio::task_group{}, [&log](corio::task_group& g) -> corio::task<> {
                    g.spawn(sleep_recording(log, "a"));
                    g.spawn(sleep_recording(log, "b"));
                    co_await sleep_recording(log, "body");
                });
            } catch (const corio::cancelled_error&) {
                log.push_back("with threw cancelled_error");
                throw;
            } catch (const corio::exception_group&) {
                log.push_back("with threw exception_group");
                throw;
            }
        });
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
        h.cancel();
        EXPECT_EQ(co_await outcome(h), "cancelled");
    }());
    ASSERT_EQ(log.size(), 4u);
    log_t cancelled(log.begin(), log.begin() + 3);
    std::sort(cancelled.begin(), cancelled.end());
    EXPECT_EQ(cancelled, (log_t{"a cancelled", "b cancelled", "body cancelled"}));
    EXPECT_EQ(log[3], "with threw cancelled_error");
}

TEST(task_group, outside_cancellation_while_the_exit_waits_propagates_as_cancelled_error) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto h = corio::spawn([&log]() -> corio::task<> {
            co_await corio::with(corio::task_group{}, [&log](corio::task_group& g) -> corio::task<> {
                g.spawn(sleep_recording(log, "child"));
                co_return;  // the body ends at once; the exit waits for the child
            });
            log.push_back("after group");  // must not run
        });
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
        h.cancel();
        EXPECT_EQ(co_await outcome(h), "cancelled");
    }());
    EXPECT_EQ(log, (log_t{"child cancelled"}));
}

TEST(task_group, cancel_ends_the_group_quietly) {
    // task_group::cancel(): "cancels the body and every child (the group then
    // ends quietly)", like cancelling a Trio nursery's scope.
    // Regression (reported to the lead): at commit 4e83c85 aexit returned
    // false here and `with` rethrew the body's cancelled_error out of the
    // group, into a task that nobody cancelled.
    log_t log;
    corio::run([&]() -> corio::task<> {
        try {
            co_await corio::with(corio::task_group{}, [&](corio::task_group& g) -> corio::task<> {
                g.spawn(sleep_recording(log, "child"));
                g.spawn([&g]() -> corio::task<> {
                    co_await corio::sleep(0s);
                    g.cancel();
                });
                co_await sleep_recording(log, "body");
            });
            log.push_back("group ended quietly");
        } catch (const corio::cancelled_error&) {
            log.push_back("cancelled_error escaped the group");
        }
        co_await corio::sleep(0s);  // and the enclosing task is not cancelled
        log.push_back("still running");
    }());
    ASSERT_EQ(log.size(), 4u);
    log_t cancelled(log.begin(), log.begin() + 2);
    std::sort(cancelled.begin(), cancelled.end());
    EXPECT_EQ(cancelled, (log_t{"body cancelled", "child cancelled"}));
    EXPECT_EQ(log[2], "group ended quietly");
    EXPECT_EQ(log[3], "still running");
}

TEST(task_group, cancel_from_a_body_that_does_not_await_again_ends_quietly) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::task_group{}, [&](corio::task_group& g) -> corio::task<> {
            g.spawn(sleep_recording(log, "child"));
            co_await corio::sleep(0s);
            g.cancel();
            co_return;
        });
        log.push_back("after group");
    }());
    EXPECT_EQ(log, (log_t{"child cancelled", "after group"}));
}

TEST(task_group, cancel_does_not_swallow_an_outer_timeout_that_fired_too) {
    // The body cancels its own group, then an enclosing timeout fires while
    // the body is shielded. The group may end its own cancellation quietly,
    // but not the timeout's: that one must reach the timeout, which turns it
    // into timeout_error.
    // Regression: a first version of cancel()'s handling in aexit asked
    // self->cancelled() after popping the group's scope, where the exit
    // shield that `with` pushed for this aexit hides the timeout's
    // cancellation; the group swallowed it and the timeout block ended
    // without timeout_error.
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto t = corio::timeout(10ms);
        try {
            co_await corio::with(t, [&](corio::timeout_scope&) -> corio::task<> {
                co_await corio::with(corio::task_group{}, [&](corio::task_group& g) -> corio::task<> {
                    g.cancel();
                    co_await corio::shield(corio::sleep(30ms));  // the timeout fires meanwhile
                    co_await sleep_recording(log, "body");
                });
                log.push_back("after group");  // must not run: the timeout's cancellation goes on
            });
            log.push_back("timeout block ended quietly");
        } catch (const corio::timeout_error&) {
            log.push_back("timeout_error");
        }
        EXPECT_TRUE(t.expired());
        EXPECT_TRUE(t.cancelled_caught());
    }());
    EXPECT_EQ(log, (log_t{"body cancelled", "timeout_error"}));
}

TEST(task_group, spawn_before_enter_is_a_logic_error) {
    corio::run([]() -> corio::task<> {
        corio::task_group g;
        try {
            g.spawn([]() -> corio::task<> { co_return; }());
            ADD_FAILURE() << "no exception";
        } catch (const std::logic_error& e) {
            EXPECT_STREQ(e.what(), "task_group::spawn: the group has not been entered");
        }
        co_return;
    }());
}

TEST(task_group, spawn_after_close_is_a_logic_error) {
    corio::run([]() -> corio::task<> {
        corio::task_group g;  // an lvalue manager: it outlives the with
        co_await corio::with(g, [](corio::task_group& group) -> corio::task<> {
            group.spawn([]() -> corio::task<> { co_await corio::sleep(0s); }());
            co_return;
        });
        EXPECT_EQ(g.size(), 0u);
        try {
            g.spawn([]() -> corio::task<> { co_return; }());
            ADD_FAILURE() << "no exception";
        } catch (const std::logic_error& e) {
            EXPECT_STREQ(e.what(), "task_group::spawn: the group is closed");
        }
    }());
}

TEST(task_group, entering_twice_is_a_logic_error) {
    corio::run([]() -> corio::task<> {
        corio::task_group g;
        co_await corio::with(g, [](corio::task_group&) -> corio::task<> { co_return; });
        EXPECT_THROW(co_await corio::with(g, [](corio::task_group&) -> corio::task<> { co_return; }), std::logic_error);
    }());
}

TEST(task_group, spawn_callable_keeps_its_captures_alive) {
    auto shared = std::make_shared<std::string>("shared");
    std::weak_ptr<std::string> watch = shared;
    std::string result;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::task_group{}, [&](corio::task_group& g) -> corio::task<> {
            g.spawn([text = std::string(40, 'y'), p = std::move(shared), &result]() -> corio::task<> {
                co_await corio::sleep(0s);
                co_await corio::sleep(1ms);
                result = *p + ":" + text.substr(0, 2);
            });
            co_return;
        });
    }());
    EXPECT_EQ(result, "shared:yy");
    EXPECT_TRUE(watch.expired());
}

TEST(task_group, child_handles_give_values_and_exceptions) {
    corio::run([]() -> corio::task<> {
        co_await corio::with(corio::task_group{}, [](corio::task_group& g) -> corio::task<> {
            auto a = g.spawn([]() -> corio::task<std::string> {
                co_await corio::sleep(0s);
                co_return "a";
            });
            EXPECT_EQ(co_await a, "a");
            EXPECT_TRUE(a.done());
        });
    }());
}

// A child awaited through its handle from another task: the awaiter takes
// the child's done listener and must pass the news on, so the group still
// counts the child (a lost count would leave the group's exit waiting
// forever) and still gathers its failure.
TEST(task_group, a_child_joined_from_another_task_is_still_counted_by_the_group) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::task_group{}, [&](corio::task_group& g) -> corio::task<> {
            auto child = g.spawn([]() -> corio::task<int> {
                co_await corio::sleep(2ms);
                co_return 7;
            });
            auto watcher = corio::spawn([&]() -> corio::task<> {
                const int v = co_await child;
                log.push_back("joined " + std::to_string(v));
            });
            co_await watcher;
        });
        log.push_back("group exited");
    }());
    EXPECT_EQ(log, (log_t{"joined 7", "group exited"}));
}

TEST(task_group, a_joined_child_that_fails_reaches_both_the_joiner_and_the_group) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        try {
            co_await corio::with(corio::task_group{}, [&](corio::task_group& g) -> corio::task<> {
                auto child = g.spawn([]() -> corio::task<int> {
                    co_await corio::sleep(2ms);
                    throw std::runtime_error("boom");
                });
                auto watcher = corio::spawn([&]() -> corio::task<> {
                    try {
                        (void)co_await child;
                    } catch (const std::runtime_error& e) {
                        log.push_back(std::string("joiner saw ") + e.what());
                    }
                });
                co_await corio::shield(std::move(watcher));  // the failure cancels the body
            });
        } catch (const corio::exception_group& eg) {
            log.push_back("group raised " + std::to_string(eg.exceptions().size()));
        }
    }());
    EXPECT_EQ(log, (log_t{"joiner saw boom", "group raised 1"}));
}

}  // namespace
