// docs/reference.md, "finally": corio::finally(f) and corio::finally(value, f),
// Python's `await` in a `finally:` block, in task, async_generator and
// context_manager coroutines, on return, exception and cancellation.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include <corio/corio.hpp>

#include "../support/recording_manager.hpp"

using namespace std::chrono_literals;
using corio_test::log_t;
using corio_test::recording_manager;

namespace {

// A resource whose close is asynchronous, like a connection.
// Not an aggregate: g++ 12 double-destroys braced temporaries in co_await expressions.
struct connection {
    connection(log_t* log_, std::string name_) : log(log_), name(std::move(name_)) {}
    log_t* log;
    std::string name;
    corio::task<> close() {
        co_await corio::sleep(1ms);
        log->push_back("closed " + name);
    }
};

corio::task<connection> connect(log_t* log, std::string name) {
    co_await corio::sleep(0s);
    log->push_back("connected " + name);
    co_return connection(log, std::move(name));
}

}  // namespace

TEST(finally, a_plain_callable_runs_when_the_task_returns_after_its_locals) {
    log_t log;
    struct local {
        log_t* log;
        ~local() { log->push_back("local destroyed"); }
    };
    auto inner = [&]() -> corio::task<int> {
        co_await corio::finally([&] { log.push_back("finally"); });
        local l{&log};
        log.push_back("body");
        co_return 3;
    };
    int v = corio::run([&]() -> corio::task<int> {
        int r = co_await inner();
        log.push_back("awaiter resumed");
        co_return r;
    }());
    EXPECT_EQ(v, 3);
    EXPECT_EQ(log, (log_t{"body", "local destroyed", "finally", "awaiter resumed"}));
}

TEST(finally, an_async_callable_is_awaited_when_the_task_throws_and_the_exception_goes_on) {
    log_t log;
    auto inner = [&]() -> corio::task<> {
        co_await corio::finally([&]() -> corio::task<> {
            co_await corio::sleep(1ms);
            log.push_back("async finally done");
        });
        throw std::runtime_error("body failed");
    };
    corio::run([&]() -> corio::task<> {
        try {
            co_await inner();
        } catch (const std::runtime_error& e) {
            log.push_back(std::string("caught ") + e.what());
        }
    }());
    EXPECT_EQ(log, (log_t{"async finally done", "caught body failed"}));
}

TEST(finally, value_form_moves_the_value_in_gives_a_reference_and_passes_it_to_f) {
    log_t log;
    auto inner = [&]() -> corio::task<std::string> {
        connection& c = co_await corio::finally(co_await connect(&log, "db"), [](connection& c) { return c.close(); });
        c.name += "-used";
        co_return c.name;
    };
    std::string name = corio::run(inner());
    EXPECT_EQ(name, "db-used");
    EXPECT_EQ(log, (log_t{"connected db", "closed db-used"}));
}

TEST(finally, runs_in_reverse_order_interleaved_with_enter) {
    log_t log;
    auto inner = [&]() -> corio::task<> {
        co_await corio::finally([&] { log.push_back("finally 1"); });
        co_await corio::enter(recording_manager{&log, "m"});
        co_await corio::finally([&] { log.push_back("finally 2"); });
        co_return;
    };
    corio::run(inner());
    EXPECT_EQ(log, (log_t{"enter m", "finally 2", "exit m saw none", "finally 1"}));
}

TEST(finally, runs_shielded_to_its_end_when_the_task_is_cancelled) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto h = corio::spawn([&]() -> corio::task<> {
            co_await corio::finally([&]() -> corio::task<> {
                co_await corio::sleep(5ms);  // would throw if the cancellation reached it
                log.push_back("cleanup finished");
            });
            co_await corio::sleep(10s);
        });
        co_await corio::sleep(1ms);
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
        log.push_back("joined");
    }());
    EXPECT_EQ(log, (log_t{"cleanup finished", "joined"}));
}

TEST(finally, a_cancellation_that_starts_during_it_still_applies) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::move_on_after(20ms), [&]() -> corio::task<> {
            co_await corio::finally([&]() -> corio::task<> {
                try {
                    co_await corio::sleep(10s);
                    log.push_back("not cancelled");
                } catch (const corio::cancelled_error&) {
                    log.push_back("cancelled by the later deadline");
                    throw;
                }
            });
            co_return;  // the body ends cleanly: nothing was cancelled when the finally started
        });
        log.push_back("moved on");
    }());
    EXPECT_EQ(log, (log_t{"cancelled by the later deadline", "moved on"}));
}

TEST(finally, an_exception_from_f_replaces_the_tasks_and_reaches_the_awaiter) {
    auto inner = []() -> corio::task<int> {
        co_await corio::finally([]() -> corio::task<> {
            co_await corio::sleep(0s);
            throw std::logic_error("close failed");
        });
        throw std::runtime_error("body failed");
    };
    try {
        corio::run(inner());
        FAIL() << "no exception";
    } catch (const std::logic_error& e) {
        EXPECT_STREQ(e.what(), "close failed");
    }
}

TEST(finally, the_callable_is_stored_by_value) {
    log_t log;
    auto inner = [&]() -> corio::task<> {
        auto owned = std::make_shared<std::string>("owned");
        // Named first: g++ 12 destroys a capturing lambda written inside a
        // co_await expression twice (README, "Compilers").
        auto cleanup = [owned, &log]() -> corio::task<> {
            co_await corio::sleep(1ms);
            log.push_back(*owned);  // the capture outlives the task's locals
        };
        co_await corio::finally(std::move(cleanup));
        co_return;
    };
    corio::run(inner());
    EXPECT_EQ(log, (log_t{"owned"}));
}

TEST(finally, a_finally_never_awaited_never_runs_and_leaks_nothing) {
    int runs = 0;
    auto owned = std::make_shared<int>(1);
    corio::run([&]() -> corio::task<> {
        auto op = corio::finally([&runs, owned] { ++runs; });
        (void)op;
        co_return;
    }());
    EXPECT_EQ(runs, 0);
    EXPECT_EQ(owned.use_count(), 1);
}

TEST(finally, in_an_async_generator_runs_at_exhaustion_and_at_aclose) {
    log_t log;
    auto gen = [&](int n) -> corio::async_generator<int> {
        co_await corio::finally([&]() -> corio::task<> {
            co_await corio::sleep(0s);
            log.push_back("generator finally");
        });
        for (int i = 0; i < n; ++i) co_yield i;
    };
    corio::run([&]() -> corio::task<> {
        co_await corio::for_each(gen(2), [&](int i) { log.push_back("item " + std::to_string(i)); });
        auto g = gen(100);
        EXPECT_EQ(*co_await g.next(), 0);
        co_await g.aclose();
        log.push_back("closed");
    }());
    EXPECT_EQ(log, (log_t{"item 0", "item 1", "generator finally", "generator finally", "closed"}));
}

TEST(finally, in_a_context_manager_is_the_teardown_whether_or_not_the_body_threw) {
    log_t log;
    auto connected = [&](std::string name) -> corio::context_manager<connection&> {
        connection& conn = co_await corio::finally(co_await connect(&log, std::move(name)),
                                                   [](connection& c) { return c.close(); });
        co_yield conn;
    };
    corio::run([&]() -> corio::task<> {
        co_await corio::with(connected("a"), [&](connection& c) { log.push_back("body " + c.name); });
        try {
            co_await corio::with(connected("b"), [&](connection&) -> corio::task<> {
                throw std::runtime_error("body b failed");
                co_return;
            });
        } catch (const std::runtime_error& e) {
            log.push_back(std::string("caught ") + e.what());
        }
    }());
    EXPECT_EQ(log, (log_t{"connected a", "body a", "closed a", "connected b", "closed b", "caught body b failed"}));
}

TEST(finally, in_a_context_manager_runs_when_the_body_is_cancelled) {
    log_t log;
    auto connected = [&]() -> corio::context_manager<connection&> {
        connection& conn = co_await corio::finally(connection(&log, "c"), [](connection& c) { return c.close(); });
        co_yield conn;
    };
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::move_on_after(5ms), [&]() -> corio::task<> {
            co_await corio::with(connected(), [](connection&) -> corio::task<> { co_await corio::sleep(10s); });
        });
        log.push_back("moved on");
    }());
    EXPECT_EQ(log, (log_t{"closed c", "moved on"}));
}
