// lambda_lifetimes: capturing lambdas as coroutines, safely.
//
// A lambda coroutine's captures live in the closure object, not in the
// coroutine frame. Every corio API that takes a callable (spawn, a with body,
// task_group::spawn, exit_stack callbacks, for_each) therefore stores the
// callable by value in its own frame for as long as the coroutine it starts
// runs. Pass the lambda itself; never call it yourself and pass the task:
//
//     corio::spawn([name]() -> corio::task<> { ... });      // safe: corio keeps the lambda
//     corio::spawn([name]() -> corio::task<> { ... }());    // dangles: the closure dies at `;`
//
// See docs/guide.md, rule 7.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

corio::async_generator<int> numbers(int limit) {
    for (int i = 1; i <= limit; ++i) {
        co_await corio::sleep(1ms);
        co_yield i;
    }
}

corio::task<> amain() {
    // spawn(callable): each lambda, with its copy of `name`, is moved into
    // the new task and called there. The loop's `name` is long gone when the
    // tasks first run.
    std::vector<corio::join_handle<>> jobs;
    for (int i = 1; i <= 3; ++i) {
        std::string name = "job " + std::to_string(i);
        jobs.push_back(corio::spawn([name]() -> corio::task<> {
            co_await corio::sleep(std::chrono::milliseconds(10));
            std::printf("%s finished\n", name.c_str());
        }));
    }
    for (auto& job : jobs) co_await job;

    // task_group::spawn(callable): the same inside a group.
    co_await corio::with(corio::task_group(), [](corio::task_group& group) -> corio::task<> {
        for (int i = 1; i <= 2; ++i) {
            std::string name = "child " + std::to_string(i);
            group.spawn([name]() -> corio::task<> {
                co_await corio::sleep(1ms);
                std::printf("%s finished\n", name.c_str());
            });
        }
        co_return;
    });

    // A with body is stored by value too, and `with(...)` is lazy: the block
    // may be built here and awaited later, after `greeting` has gone.
    auto block = [] {
        std::string greeting = "hello from a stored block";
        return corio::with(corio::nullcontext(), [greeting]() -> corio::task<> {
            co_await corio::sleep(1ms);
            std::printf("%s\n", greeting.c_str());
        });
    }();
    co_await block;

    // for_each stores its callable (and an rvalue iterator) in its frame.
    // workaround(gcc-12): g++ 12 destroys a lambda that captures something
    // with a destructor (a std::string here) twice when the lambda is
    // written inside a co_await expression, so name it first and move it in.
    std::string prefix = "item";
    auto print_item = [prefix](int n) -> corio::task<> {
        co_await corio::sleep(1ms);
        std::printf("%s %d\n", prefix.c_str(), n);
    };
    co_await corio::for_each(numbers(2), std::move(print_item));
}

int main() { corio::run(amain()); }
