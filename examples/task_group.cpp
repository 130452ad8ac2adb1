// task_group: structured concurrency with asyncio.TaskGroup: the block waits
// for every child, and one child's failure cancels the others.
//
// The Python original:
//
//     async def worker(name, delay):
//         try:
//             await asyncio.sleep(delay)
//         except asyncio.CancelledError:
//             print(f"{name} cancelled")
//             raise
//         print(f"{name} finished")
//         return f"{name} result"
//
//     async def failing_worker():
//         await asyncio.sleep(0.01)
//         raise RuntimeError("worker failed")
//
//     async def main():
//         async with asyncio.TaskGroup() as tg:
//             a = tg.create_task(worker("A", 0.03))
//             b = tg.create_task(worker("B", 0.01))
//             c = tg.create_task(worker("C", 0.02))
//         print("all workers finished:", a.result(), b.result(), c.result())
//
//         try:
//             async with asyncio.TaskGroup() as tg:
//                 tg.create_task(worker("slow", 10))     # cancelled by the failure
//                 tg.create_task(failing_worker())
//         except* RuntimeError as group:
//             for e in group.exceptions:
//                 print(f"task group failed: {e}")
//
//     asyncio.run(main())
#include <chrono>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

corio::task<std::string> worker(std::string name, std::chrono::milliseconds delay) {
    try {
        co_await corio::sleep(delay);
    } catch (const corio::cancelled_error&) {
        std::printf("%s cancelled\n", name.c_str());
        throw;  // a cancellation is always let through
    }
    std::printf("%s finished\n", name.c_str());
    co_return name + " result";
}

corio::task<> failing_worker() {
    co_await corio::sleep(10ms);
    throw std::runtime_error("worker failed");
}

corio::task<> amain() {
    // The handles outlive the block so that we can read the results after it.
    corio::join_handle<std::string> a, b, c;
    co_await corio::with(corio::task_group(), [&](corio::task_group& tg) -> corio::task<> {
        a = tg.spawn(worker("A", 30ms));
        b = tg.spawn(worker("B", 10ms));
        c = tg.spawn(worker("C", 20ms));
        co_return;  // the with waits here for all three
    });
    std::printf("all workers finished: %s, %s, %s\n", (co_await a).c_str(), (co_await b).c_str(),
                (co_await c).c_str());

    try {
        co_await corio::with(corio::task_group(), [](corio::task_group& tg) -> corio::task<> {
            tg.spawn(worker("slow", 10s));  // cancelled when its sibling fails
            tg.spawn(failing_worker());
            co_return;
        });
    } catch (const corio::exception_group& group) {
        // Every failure other than cancellation, as ExceptionGroup.exceptions.
        for (const std::exception_ptr& e : group.exceptions()) {
            try {
                std::rethrow_exception(e);
            } catch (const std::runtime_error& error) {
                std::printf("task group failed: %s\n", error.what());
            }
        }
    }
}

int main() { corio::run(amain()); }
