// sync_primitives: asyncio's Semaphore, Event, Condition and Barrier.
//
// The Python original:
//
//     async def download(sem, name, stats):
//         async with sem:                          # at most 2 at once
//             stats["now"] += 1
//             stats["peak"] = max(stats["peak"], stats["now"])
//             await asyncio.sleep(0.005)
//             stats["now"] -= 1
//
//     async def runner(name, start):
//         await start.wait()                       # everybody starts together
//         print(f"{name} running")
//
//     async def main():
//         sem, stats = asyncio.Semaphore(2), {"now": 0, "peak": 0}
//         await asyncio.gather(*(download(sem, i, stats) for i in range(5)))
//         print(f"peak concurrency: {stats['peak']}")
//
//         start = asyncio.Event()
//         async with asyncio.TaskGroup() as tg:
//             for name in ("A", "B"):
//                 tg.create_task(runner(name, start))
//             await asyncio.sleep(0.001)
//             print("ready... go")
//             start.set()
//
//         cond, items = asyncio.Condition(), []
//         async def consume():
//             async with cond:
//                 await cond.wait_for(lambda: len(items) >= 2)
//                 print(f"consumer saw {len(items)} items")
//         async def produce():
//             for i in range(2):
//                 async with cond:
//                     items.append(i)
//                     cond.notify()
//         await asyncio.gather(consume(), produce())
//
//         barrier = asyncio.Barrier(3)
//         async def arrive(delay):
//             await asyncio.sleep(delay)
//             return await barrier.wait()
//         print("arrival order:", await asyncio.gather(arrive(0.003), arrive(0.001), arrive(0.002)))
//
//     asyncio.run(main())
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

struct stats {
    int now = 0;
    int peak = 0;
};

corio::task<> download(corio::semaphore& sem, stats& s) {
    co_await corio::with(sem, [&s](corio::semaphore&) -> corio::task<> {  // at most 2 at once
        s.peak = std::max(s.peak, ++s.now);
        co_await corio::sleep(5ms);
        --s.now;
    });
}

corio::task<> runner(std::string name, corio::event& start) {
    co_await start.wait();  // everybody starts together
    std::printf("%s running\n", name.c_str());
}

corio::task<> consume(corio::condition& cond, std::vector<int>& items) {
    co_await corio::with(cond, [&items](corio::condition& c) -> corio::task<> {
        co_await c.wait_for([&items] { return items.size() >= 2; });
        std::printf("consumer saw %zu items\n", items.size());
    });
}

corio::task<> produce(corio::condition& cond, std::vector<int>& items) {
    for (int i = 0; i < 2; ++i) {
        co_await corio::with(cond, [&items, i](corio::condition& c) {
            items.push_back(i);
            c.notify();
        });
    }
}

corio::task<std::size_t> arrive(corio::barrier& barrier, std::chrono::milliseconds delay) {
    co_await corio::sleep(delay);
    co_return co_await barrier.wait();  // the arrival index, 0 to parties - 1
}

corio::task<> amain() {
    corio::semaphore sem(2);
    stats s;
    std::vector<corio::task<>> downloads;
    for (int i = 0; i < 5; ++i) downloads.push_back(download(sem, s));
    co_await corio::gather(std::move(downloads));
    std::printf("peak concurrency: %d\n", s.peak);

    corio::event start;
    co_await corio::with(corio::task_group(), [&start](corio::task_group& tg) -> corio::task<> {
        tg.spawn(runner("A", start));
        tg.spawn(runner("B", start));
        co_await corio::sleep(1ms);
        std::puts("ready... go");
        start.set();
    });

    corio::condition cond;
    std::vector<int> items;
    co_await corio::gather(consume(cond, items), produce(cond, items));

    corio::barrier barrier(3);
    auto [first, second, third] = co_await corio::gather(arrive(barrier, 3ms), arrive(barrier, 1ms), arrive(barrier, 2ms));
    std::printf("arrival order: %zu %zu %zu\n", first, second, third);
}

int main() { corio::run(amain()); }
