// docs/reference.md, "enter": exits at the end of the enclosing coroutine.
#include <gtest/gtest.h>

#include <corio/corio.hpp>

#include "../support/recording_manager.hpp"

using namespace std::chrono_literals;
using corio_test::log_t;
using corio_test::recording_manager;

TEST(enter, exits_in_lifo_order_when_the_coroutine_returns) {
    log_t log;
    auto inner = [&]() -> corio::task<int> {
        auto& a = co_await corio::enter(recording_manager{&log, "a"});
        auto& b = co_await corio::enter(recording_manager{&log, "b"});
        log.push_back("body " + a.name + b.name);
        co_return 7;
    };
    int v = corio::run([&]() -> corio::task<int> {
        int r = co_await inner();
        log.push_back("awaiter resumed");
        co_return r;
    }());
    EXPECT_EQ(v, 7);
    EXPECT_EQ(log, (log_t{"enter a", "enter b", "body ab", "exit b saw none", "exit a saw none", "awaiter resumed"}));
}

TEST(enter, exits_see_the_coroutine_exception_and_cannot_suppress) {
    log_t log;
    auto inner = [&]() -> corio::task<> {
        co_await corio::enter(recording_manager{&log, "a", /*suppress=*/true});
        throw std::runtime_error("inner failed");
    };
    corio::run([&]() -> corio::task<> {
        try {
            co_await inner();
            log.push_back("no exception");
        } catch (const std::runtime_error& e) {
            log.push_back(std::string("caught ") + e.what());
        }
    }());
    EXPECT_EQ(log, (log_t{"enter a", "exit a saw inner failed", "caught inner failed"}));
}

TEST(enter, exit_exception_reaches_the_awaiter) {
    log_t log;
    recording_manager m{&log, "a"};
    m.fail_exit = true;
    auto inner = [&]() -> corio::task<int> {
        co_await corio::enter(m);
        co_return 1;
    };
    try {
        corio::run([&]() -> corio::task<int> { co_return co_await inner(); }());
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "exit a failed");
    }
}

TEST(enter, gives_a_reference_to_the_value_stored_with_the_manager) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto& m = co_await corio::enter(recording_manager{&log, "a"});
        m.value = 99;
        auto& again = m;
        EXPECT_EQ(again.value, 99);
        co_await corio::sleep(1ms);
        EXPECT_EQ(m.name, "a");
    }());
    EXPECT_EQ(log.size(), 2u);
}

TEST(enter, failed_aenter_registers_no_exit) {
    log_t log;
    recording_manager m{&log, "a"};
    m.fail_enter = true;
    corio::run([&]() -> corio::task<> {
        try {
            co_await corio::enter(m);
        } catch (const std::runtime_error&) {
            log.push_back("caught");
        }
    }());
    EXPECT_EQ(log, (log_t{"enter a", "caught"}));
}

TEST(enter, exits_run_shielded_when_the_task_was_cancelled) {
    log_t log;
    recording_manager m{&log, "slow"};
    m.exit_delay = 5ms;
    corio::run([&]() -> corio::task<> {
        auto h = corio::spawn([&]() -> corio::task<> {
            co_await corio::enter(m);
            co_await corio::sleep(10s);
        });
        co_await corio::sleep(1ms);
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
    }());
    EXPECT_EQ(log, (log_t{"enter slow", "exit slow saw cancelled", "exit slow finished"}));
}

TEST(enter, works_in_async_generators_and_runs_at_aclose) {
    log_t log;
    auto gen = [&]() -> corio::async_generator<int> {
        co_await corio::enter(recording_manager{&log, "g"});
        for (int i = 0;; ++i) co_yield i;
    };
    corio::run([&]() -> corio::task<> {
        auto g = gen();
        EXPECT_EQ(*co_await g.next(), 0);
        EXPECT_EQ(*co_await g.next(), 1);
        co_await g.aclose();
        log.push_back("closed");
        EXPECT_FALSE(co_await g.next());
    }());
    EXPECT_EQ(log, (log_t{"enter g", "exit g saw unknown", "closed"}));
}

TEST(enter, works_in_context_managers) {
    log_t log;
    auto cm = [&]() -> corio::context_manager<int> {
        co_await corio::enter(recording_manager{&log, "inner"});
        int v = 5;
        co_yield v;
        log.push_back("teardown");
    };
    corio::run([&]() -> corio::task<> {
        co_await corio::with(cm(), [&](int& v) { log.push_back("body " + std::to_string(v)); });
    }());
    EXPECT_EQ(log, (log_t{"enter inner", "body 5", "teardown", "exit inner saw none"}));
}
