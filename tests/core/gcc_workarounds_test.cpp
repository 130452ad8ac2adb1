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

#if defined(__clang__)
TEST(gcc_workarounds, aggregate_temporary_in_the_co_await_expression_on_clang) {
    std::size_t n = corio::run(
        []() -> corio::task<std::size_t> { co_return co_await length_of_named(named{std::string(40, 'z')}); }());
    EXPECT_EQ(n, 40u);
}
#endif
