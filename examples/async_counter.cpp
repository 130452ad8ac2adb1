// async_counter: a class-based async iterator, Python's __aiter__/__anext__.
//
// The Python original:
//
//     class AsyncCounter:
//         def __init__(self, stop):
//             self.current = 0
//             self.stop = stop
//
//         def __aiter__(self):
//             return self
//
//         async def __anext__(self):
//             if self.current >= self.stop:
//                 raise StopAsyncIteration
//             await asyncio.sleep(0.01)
//             self.current += 1
//             return self.current
//
//     async def main():
//         async for number in AsyncCounter(3):
//             print(f"Counter: {number}")
//
//     asyncio.run(main())
#include <chrono>
#include <cstdio>
#include <optional>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

// Any type whose next() gives an awaitable of std::optional<T> is an async
// iterator: next() is __anext__, and std::nullopt is StopAsyncIteration.
class AsyncCounter {
public:
    explicit AsyncCounter(int stop) : stop_(stop) {}

    corio::task<std::optional<int>> next() {
        if (current_ >= stop_) co_return std::nullopt;  // raise StopAsyncIteration
        co_await corio::sleep(10ms);
        co_return ++current_;
    }

private:
    int current_ = 0;
    int stop_;
};

static_assert(corio::async_iterator<AsyncCounter>);

corio::task<> amain() {
    // async for number in AsyncCounter(3):  written as a loop over next()
    AsyncCounter counter(3);
    while (auto number = co_await counter.next()) std::printf("Counter: %d\n", *number);

    // The same with corio::for_each, which takes the iterator (here moved in)
    // and a body that may be a plain callable or a coroutine.
    co_await corio::for_each(AsyncCounter(2), [](int number) -> corio::task<> {
        co_await corio::sleep(1ms);
        std::printf("for_each got: %d\n", number);
    });
}

int main() { corio::run(amain()); }
