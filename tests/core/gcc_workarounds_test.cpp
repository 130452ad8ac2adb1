// Reduced cases of g++ 12 coroutine bugs that corio's users can meet, kept as
// regression tests of the workaround (PITFALLS.md: "GCC coroutine code
// generation bugs"). Each names what fails and what to write instead.
#include <gtest/gtest.h>

#include <string>

#include <corio/corio.hpp>

namespace {

struct named {  // an aggregate with a non-trivial member
    std::string name;
};

struct constructed {
    explicit constructed(std::string n) : name(std::move(n)) {}
    std::string name;
};

corio::task<std::size_t> length_of_named(named n) { co_return n.name.size(); }
corio::task<std::size_t> length_of_constructed(constructed c) { co_return c.name.size(); }

}  // namespace

// workaround(gcc-12): `co_await f(named{std::string(...)})` destroys the
// string twice under g++ 12 (the aggregate temporary in a full expression
// holding co_await). Give such types a constructor, or build the value in a
// local first, as below. clang 14 is not affected.
TEST(gcc_workarounds, aggregate_temporary_bound_to_a_local_first) {
    std::size_t n = corio::run([]() -> corio::task<std::size_t> {
        named value{std::string(40, 'x')};
        co_return co_await length_of_named(std::move(value));
    }());
    EXPECT_EQ(n, 40u);
}

TEST(gcc_workarounds, constructed_temporary_in_the_co_await_expression) {
    std::size_t n = corio::run(
        []() -> corio::task<std::size_t> { co_return co_await length_of_constructed(constructed(std::string(40, 'y'))); }());
    EXPECT_EQ(n, 40u);
}

// workaround(gcc-12): the same bug hits a lambda that captures a std::string
// by value when the lambda is written inside the co_await expression
// (`co_await corio::with(m, [name] { ... })`): the capture is destroyed twice.
// Name the lambda first and move it in; corio stores it by value from there.
TEST(gcc_workarounds, capturing_lambda_named_before_the_co_await) {
    std::size_t n = corio::run([]() -> corio::task<std::size_t> {
        std::string name(40, 'n');
        auto body = [name](corio::exit_stack&) { return name.size(); };
        co_return co_await corio::with(corio::exit_stack{}, std::move(body));
    }());
    EXPECT_EQ(n, 40u);
}

#if defined(__clang__)
TEST(gcc_workarounds, capturing_lambda_inside_the_co_await_on_clang) {
    std::size_t n = corio::run([]() -> corio::task<std::size_t> {
        std::string name(40, 'n');
        co_return co_await corio::with(corio::exit_stack{}, [name](corio::exit_stack&) { return name.size(); });
    }());
    EXPECT_EQ(n, 40u);
}

TEST(gcc_workarounds, aggregate_temporary_in_the_co_await_expression_on_clang) {
    std::size_t n = corio::run(
        []() -> corio::task<std::size_t> { co_return co_await length_of_named(named{std::string(40, 'z')}); }());
    EXPECT_EQ(n, 40u);
}
#endif
