// lock_counter: a lock guarding a shared counter that several tasks update.
//
// The Python original:
//
//     counter = 0
//
//     async def increment(lock, name, times):
//         global counter
//         for _ in range(times):
//             async with lock:
//                 value = counter
//                 await asyncio.sleep(0.001)   # another task runs here...
//                 counter = value + 1          # ...but cannot touch counter
//         print(f"{name} done")
//
//     async def main():
//         lock = asyncio.Lock()
//         await asyncio.gather(*(increment(lock, f"worker {i}", 5) for i in range(1, 4)))
//         print(f"Final count: {counter}")
//
//     asyncio.run(main())
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

// The tasks all run on one thread, but each await is a point where another
// task may run: a read-modify-write spanning an await needs the lock.
corio::task<> increment(corio::lock& lock, int& counter, std::string name, int times) {
    for (int i = 0; i < times; ++i) {
        // async with lock: the lock is taken by reference, never copied.
        co_await corio::with(lock, [&counter](corio::lock&) -> corio::task<> {
            int value = counter;
            co_await corio::sleep(1ms);  // others run here, and wait for the lock
            counter = value + 1;
        });
    }
    std::printf("%s done\n", name.c_str());
}

// The same with a guard: `auto guard = co_await lock.scoped();` holds the
// lock until the guard goes out of scope.
corio::task<> increment_scoped(corio::lock& lock, int& counter, int times) {
    for (int i = 0; i < times; ++i) {
        auto guard = co_await lock.scoped();
        int value = counter;
        co_await corio::sleep(1ms);
        counter = value + 1;
    }
    std::puts("scoped worker done");
}

corio::task<> amain() {
    corio::lock lock;
    int counter = 0;

    std::vector<corio::task<>> workers;
    for (int i = 1; i <= 3; ++i) workers.push_back(increment(lock, counter, "worker " + std::to_string(i), 5));
    co_await corio::gather(std::move(workers));
    std::printf("Final count: %d\n", counter);

    co_await corio::gather(increment_scoped(lock, counter, 5), increment_scoped(lock, counter, 5));
    std::printf("Final count: %d\n", counter);
}

int main() { corio::run(amain()); }
