// docs/reference.md, "Context managers": a manager's aenter may give nothing (void), a value or a
// reference, and a manager may be passed as an lvalue (used by reference) or
// an rvalue (moved in). Every shape through `with`, `enter` and
// `exit_stack::enter`. The void shape is CPython's test_contextlib_async
// TestCM (`async def __aenter__(self): pass`), which exit_stack::enter once
// failed to compile ("forming reference to void").
#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include <corio/corio.hpp>

#include "../support/recording_manager.hpp"

using corio_test::log_t;

namespace {

// aenter gives nothing.
struct void_cm {
    explicit void_cm(log_t* l) : log(l) {}
    log_t* log;
    corio::task<> aenter() {
        log->push_back("enter void");
        co_return;
    }
    corio::task<> aexit(std::exception_ptr) {
        log->push_back("exit void");
        co_return;
    }
};

// aenter gives a value (a copy the caller owns).
struct value_cm {
    explicit value_cm(log_t* l) : log(l) {}
    log_t* log;
    corio::task<int> aenter() {
        log->push_back("enter value");
        co_return 7;
    }
    corio::task<bool> aexit(std::exception_ptr) {
        log->push_back("exit value");
        co_return false;
    }
};

// aenter gives a reference to the manager itself.
struct ref_cm {
    explicit ref_cm(log_t* l) : log(l) {}
    log_t* log;
    int state = 0;
    corio::task<ref_cm&> aenter() {
        log->push_back("enter ref");
        co_return *this;
    }
    corio::task<> aexit(std::exception_ptr) {
        log->push_back("exit ref " + std::to_string(state));
        co_return;
    }
};

static_assert(std::is_same_v<corio::detail::enter_result_t<void_cm>, void>);
static_assert(std::is_same_v<corio::detail::enter_result_t<value_cm>, int>);
static_assert(std::is_same_v<corio::detail::enter_result_t<ref_cm>, ref_cm&>);

}  // namespace

// ---- exit_stack::enter ---------------------------------------------------

TEST(manager_shapes, exit_stack_enter_of_every_shape_by_lvalue_and_rvalue) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        void_cm v{&log};
        value_cm x{&log};
        ref_cm r{&log};
        corio::exit_stack stack;
        co_await stack.enter(v);                   // lvalue, void
        co_await stack.enter(void_cm{&log});       // rvalue, void
        int a = co_await stack.enter(x);           // lvalue, value
        int b = co_await stack.enter(value_cm{&log});  // rvalue, value
        ref_cm& c = co_await stack.enter(r);       // lvalue, reference: the very object
        ref_cm& d = co_await stack.enter(ref_cm{&log});  // rvalue, reference: the stored one
        static_assert(std::is_same_v<decltype(stack.enter(v)), corio::task<void>>);
        static_assert(std::is_same_v<decltype(stack.enter(x)), corio::task<int&>>);
        EXPECT_EQ(a + b, 14);
        EXPECT_EQ(&c, &r);
        c.state = 1;
        d.state = 2;
        log.push_back("body");
        co_await stack.aclose();
    }());
    EXPECT_EQ(log, (log_t{"enter void", "enter void", "enter value", "enter value", "enter ref", "enter ref", "body",
                          "exit ref 2", "exit ref 1", "exit value", "exit value", "exit void", "exit void"}));
}

TEST(manager_shapes, exit_stack_enter_of_a_void_manager_as_a_with) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::exit_stack{}, [&](corio::exit_stack& stack) -> corio::task<> {
            co_await stack.enter(void_cm{&log});
            log.push_back("body");
        });
    }());
    EXPECT_EQ(log, (log_t{"enter void", "body", "exit void"}));
}

// ---- enter -------------------------------------------------------------------

TEST(manager_shapes, enter_of_every_shape_by_lvalue_and_rvalue) {
    log_t log;
    ref_cm r{&log};
    corio::run([&]() -> corio::task<> {
        void_cm v{&log};
        value_cm x{&log};
        co_await corio::enter(v);
        co_await corio::enter(void_cm{&log});
        int& a = co_await corio::enter(x);
        int& b = co_await corio::enter(value_cm{&log});
        ref_cm& c = co_await corio::enter(r);
        ref_cm& d = co_await corio::enter(ref_cm{&log});
        EXPECT_EQ(a + b, 14);
        EXPECT_EQ(&c, &r);
        c.state = 1;
        d.state = 2;
        log.push_back("body");
    }());
    EXPECT_EQ(log, (log_t{"enter void", "enter void", "enter value", "enter value", "enter ref", "enter ref", "body",
                          "exit ref 2", "exit ref 1", "exit value", "exit value", "exit void", "exit void"}));
}

// ---- with ---------------------------------------------------------------------

TEST(manager_shapes, with_of_every_shape_by_lvalue_and_rvalue) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        void_cm v{&log};
        value_cm x{&log};
        ref_cm r{&log};
        co_await corio::with(v, [&] { log.push_back("body void lvalue"); });
        co_await corio::with(void_cm{&log}, [&]() -> corio::task<> {
            log.push_back("body void rvalue");
            co_return;
        });
        int a = co_await corio::with(x, [](int& value) { return value; });
        int b = co_await corio::with(value_cm{&log}, [](int& value) -> corio::task<int> { co_return value + 1; });
        EXPECT_EQ(a + b, 15);
        co_await corio::with(r, [&](ref_cm& c) {
            EXPECT_EQ(&c, &r);
            c.state = 1;
        });
        co_await corio::with(ref_cm{&log}, [&](ref_cm& c) {
            EXPECT_NE(&c, &r);
            c.state = 2;
        });
    }());
    EXPECT_EQ(log, (log_t{"enter void", "body void lvalue", "exit void", "enter void", "body void rvalue", "exit void",
                          "enter value", "exit value", "enter value", "exit value", "enter ref", "exit ref 1",
                          "enter ref", "exit ref 2"}));
}

TEST(manager_shapes, with_of_several_shapes_gives_one_argument_per_value) {
    log_t log;
    corio::run([&]() -> corio::task<> {
        ref_cm r{&log};
        int got = co_await corio::with(void_cm{&log}, value_cm{&log}, r, [&](int& value, ref_cm& c) {
            c.state = value;
            return value * 2;
        });
        EXPECT_EQ(got, 14);
    }());
    EXPECT_EQ(log, (log_t{"enter void", "enter value", "enter ref", "exit ref 7", "exit value", "exit void"}));
}
