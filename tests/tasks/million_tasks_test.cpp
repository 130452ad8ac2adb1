// Issue 2: a million tasks sleeping at once (the timer heap and the frame
// cache at scale), all woken in deadline order and all awaited.
#include <gtest/gtest.h>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

TEST(scale, million_tasks_sleeping_at_once) {
    constexpr int n = 1'000'000;
    long woke = 0;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::task_group{}, [&](corio::task_group& g) -> corio::task<> {
            for (int i = 0; i < n; ++i) {
                g.spawn([&woke, i]() -> corio::task<> {
                    co_await corio::sleep(std::chrono::milliseconds(50 + i % 50));
                    ++woke;
                });
            }
            co_return;
        });
    }());
    EXPECT_EQ(woke, n);
}

TEST(scale, million_sleepers_cancelled_by_one_scope) {
    constexpr int n = 1'000'000;
    long cancelled = 0;
    corio::run([&]() -> corio::task<> {
        co_await corio::with(corio::move_on_after(200ms), [&](corio::timeout_scope&) -> corio::task<> {
            co_await corio::with(corio::task_group{}, [&](corio::task_group& g) -> corio::task<> {
                for (int i = 0; i < n; ++i) {
                    g.spawn([&cancelled]() -> corio::task<> {
                        try {
                            co_await corio::sleep(1h);
                        } catch (const corio::cancelled_error&) {
                            ++cancelled;
                            throw;
                        }
                    });
                }
                co_return;
            });
        });
    }());
    EXPECT_EQ(cancelled, n);
}
