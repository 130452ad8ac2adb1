// async_generator: an async generator consumed with `async for`, and closed
// early with aclosing so that its cleanup runs at a known point.
//
// The Python original:
//
//     async def counter(limit):
//         for i in range(1, limit + 1):
//             await asyncio.sleep(0.01)
//             yield i
//
//     async def ticker():
//         n = 0
//         try:
//             while True:
//                 await asyncio.sleep(0.01)
//                 yield n
//                 n += 1
//         finally:
//             print("ticker: cleaning up")
//
//     async def main():
//         async for number in counter(3):
//             print(f"Got number: {number}")
//
//         async with aclosing(ticker()) as ticks:
//             async for tick in ticks:
//                 print(f"tick {tick}")
//                 if tick == 2:
//                     break                  # aclosing closes the generator here
//         print("after the ticker")
//
//     asyncio.run(main())
#include <chrono>
#include <cstdio>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

corio::async_generator<int> counter(int limit) {
    for (int i = 1; i <= limit; ++i) {
        co_await corio::sleep(10ms);
        co_yield i;
    }
}

corio::async_generator<int> ticker() {
    try {
        for (int n = 0;; ++n) {
            co_await corio::sleep(10ms);
            co_yield n;
        }
    } catch (...) {  // aclose() unwinds the generator from its co_yield (GeneratorExit)
        std::puts("ticker: cleaning up");
        throw;  // let it finish closing; never swallow it
    }
}

corio::task<> amain() {
    // async for number in counter(3):
    auto numbers = counter(3);
    while (auto number = co_await numbers.next()) std::printf("Got number: %d\n", *number);

    // for_each does the same, and closes the generator when it is done.
    co_await corio::for_each(counter(2), [](int number) { std::printf("for_each got: %d\n", number); });

    // async with aclosing(ticker()) as ticks: leaving the block early closes it.
    auto ticks = ticker();
    co_await corio::with(corio::aclosing(ticks), [](corio::async_generator<int>& gen) -> corio::task<> {
        while (auto tick = co_await gen.next()) {
            std::printf("tick %d\n", *tick);
            if (*tick == 2) break;
        }
    });
    std::puts("after the ticker");
}

int main() { corio::run(amain()); }
