// timeout: bounding a slow operation with a deadline, three ways.
//
// The Python original:
//
//     async def slow_operation():
//         print("slow operation: started")
//         try:
//             await asyncio.sleep(10)         # far longer than we are willing to wait
//         except asyncio.CancelledError:
//             print("slow operation: cancelled")
//             raise
//         print("slow operation: finished")   # never printed
//         return 42
//
//     async def main():
//         try:
//             async with asyncio.timeout(0.05):
//                 await slow_operation()
//         except TimeoutError:
//             print("The operation timed out")
//
//         try:
//             await asyncio.wait_for(slow_operation(), timeout=0.05)
//         except TimeoutError:
//             print("wait_for timed out too")
//
//         with trio.move_on_after(0.05) as scope:   # Trio: give up quietly
//             await slow_operation()
//         print(f"moved on, cancelled_caught: {scope.cancelled_caught}")
//
//         async with asyncio.timeout(1):        # a deadline not reached changes nothing
//             await asyncio.sleep(0.001)
//             fast = 7
//         print(f"fast operation gave {fast} in time")
//
//     asyncio.run(main())
#include <chrono>
#include <cstdio>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

corio::task<int> slow_operation() {
    std::puts("slow operation: started");
    try {
        co_await corio::sleep(10s);
    } catch (const corio::cancelled_error&) {
        // The deadline cancels the sleep; cancelled_error is not a
        // std::exception, so only a handler naming it (or ...) sees it.
        std::puts("slow operation: cancelled");
        throw;  // always let a cancellation through
    }
    std::puts("slow operation: finished");
    co_return 42;
}

corio::task<> amain() {
    // async with asyncio.timeout(0.05): the body is cancelled at the deadline,
    // and the cancellation comes out of the with as corio::timeout_error.
    try {
        co_await corio::with(corio::timeout(50ms), [](corio::timeout_scope&) -> corio::task<> {
            int answer = co_await slow_operation();
            std::printf("answer: %d\n", answer);
        });
    } catch (const corio::timeout_error&) {
        std::puts("The operation timed out");
    }

    // asyncio.wait_for(aw, timeout): the same for a single awaitable.
    try {
        int answer = co_await corio::wait_for(slow_operation(), 50ms);
        std::printf("answer: %d\n", answer);
    } catch (const corio::timeout_error&) {
        std::puts("wait_for timed out too");
    }

    // trio.move_on_after: at the deadline the block just ends. This scope is
    // an lvalue, which `with` uses by reference, so we can ask it afterwards
    // whether it fired.
    auto scope = corio::move_on_after(50ms);
    co_await corio::with(scope, [](corio::timeout_scope&) -> corio::task<> { co_await slow_operation(); });
    std::printf("moved on, cancelled_caught: %s\n", scope.cancelled_caught() ? "true" : "false");

    // A deadline that is not reached changes nothing.
    int fast = co_await corio::with(corio::timeout(1s), [](corio::timeout_scope&) -> corio::task<int> {
        co_await corio::sleep(1ms);
        co_return 7;
    });
    std::printf("fast operation gave %d in time\n", fast);
}

int main() { corio::run(amain()); }
