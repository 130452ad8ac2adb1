// docs/reference.md, "context_manager": context_manager<T> (@asynccontextmanager).
#include <gtest/gtest.h>

#include <corio/corio.hpp>

#include "../support/recording_manager.hpp"

using namespace std::chrono_literals;
using corio_test::log_t;

namespace {

corio::context_manager<std::string> managed(log_t& log, std::string dsn) {
    co_await corio::sleep(1ms);
    std::string conn = "Connected: " + dsn;
    log.push_back("setup");
    try {
        co_yield conn;
    } catch (const std::runtime_error& e) {
        log.push_back(std::string("rolled back ") + e.what());
        throw;
    }
    co_await corio::sleep(1ms);
    log.push_back("teardown");
}

corio::context_manager<> swallowing(log_t& log) {
    try {
        co_yield {};
    } catch (const std::runtime_error&) {
        log.push_back("swallowed");
    }
}

corio::context_manager<> replacing() {
    try {
        co_yield {};
    } catch (...) {
        throw std::logic_error("replaced");
    }
}

corio::context_manager<int> never_yields() { co_return; }

corio::context_manager<int> yields_twice() {
    int v = 1;
    co_yield v;
    co_yield v;
}

}  // namespace

TEST(context_manager, body_sees_yielded_value_by_reference_and_teardown_runs) {
    log_t log;
    std::string* seen = nullptr;
    std::string got = corio::run([&]() -> corio::task<std::string> {
        co_return co_await corio::with(managed(log, "db"), [&](std::string& c) {
            seen = &c;
            log.push_back("body");
            return c;
        });
    }());
    EXPECT_EQ(got, "Connected: db");
    EXPECT_NE(seen, nullptr);
    EXPECT_EQ(log, (log_t{"setup", "body", "teardown"}));
}

TEST(context_manager, calling_runs_nothing_until_entered) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        auto cm = managed(log, "db");
        co_await corio::sleep(2ms);
        EXPECT_TRUE(log.empty());
        co_await corio::with(std::move(cm), [](std::string&) {});
    }());
    EXPECT_EQ(log.front(), "setup");
}

TEST(context_manager, body_exception_is_rethrown_at_co_yield_and_propagates) {
    log_t log;
    EXPECT_THROW(corio::run([&]() -> corio::task<> {
                     co_await corio::with(managed(log, "db"), [](std::string&) -> corio::task<> {
                         throw std::runtime_error("query failed");
                         co_return;
                     });
                 }()),
                 std::runtime_error);
    EXPECT_EQ(log, (log_t{"setup", "rolled back query failed"}));
}

TEST(context_manager, not_rethrowing_suppresses) {
    log_t log;
    bool after = false;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(swallowing(log), []() -> corio::task<> {
            throw std::runtime_error("x");
            co_return;
        });
        after = true;
    }());
    EXPECT_TRUE(after);
    EXPECT_EQ(log, (log_t{"swallowed"}));
}

TEST(context_manager, throwing_another_exception_replaces) {
    try {
        corio::run([&]() -> corio::task<> {
            co_await corio::with(replacing(), []() -> corio::task<> {
                throw std::runtime_error("original");
                co_return;
            });
        }());
        FAIL() << "no exception";
    } catch (const std::logic_error& e) {
        EXPECT_STREQ(e.what(), "replaced");
    }
}

TEST(context_manager, no_yield_is_logic_error) {
    try {
        corio::run([]() -> corio::task<> { co_await corio::with(never_yields(), [](int&) {}); }());
        FAIL() << "no exception";
    } catch (const std::logic_error& e) {
        EXPECT_STREQ(e.what(), "context_manager did not yield");
    }
}

TEST(context_manager, second_yield_is_logic_error) {
    try {
        corio::run([]() -> corio::task<> { co_await corio::with(yields_twice(), [](int&) {}); }());
        FAIL() << "no exception";
    } catch (const std::logic_error& e) {
        EXPECT_STREQ(e.what(), "context_manager did not stop");
    }
}

TEST(context_manager, teardown_awaits_complete_when_body_cancelled_by_timeout) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::move_on_after(5ms), [&](corio::timeout_scope&) -> corio::task<> {
            co_await corio::with(managed(log, "db"), [](std::string&) -> corio::task<> { co_await corio::sleep(10s); });
        });
    }());
    // cancelled_error is not a runtime_error: the catch clause does not see it,
    // and the teardown after co_yield does not run (the exception propagates).
    EXPECT_EQ(log, (log_t{"setup"}));
}

TEST(context_manager, cleanup_with_await_runs_on_cancellation) {
    log_t log;
    auto pooled = [&]() -> corio::context_manager<int> {
        int conn = 1;
        std::exception_ptr failure;
        try {
            co_yield conn;
        } catch (...) {
            failure = std::current_exception();
        }
        co_await corio::sleep(2ms);  // returning the connection to the pool awaits
        log.push_back("returned to pool");
        if (failure) std::rethrow_exception(failure);
    };
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::move_on_after(5ms), [&](corio::timeout_scope& s) -> corio::task<> {
            co_await corio::with(pooled(), [](int&) -> corio::task<> { co_await corio::sleep(10s); });
            (void)s;
        });
    }());
    EXPECT_EQ(log, (log_t{"returned to pool"}));
}
