// async_context_manager: a class-based async context manager.
//
// The Python original:
//
//     class AsyncContextManager:
//         async def __aenter__(self):
//             print("Entering the async context")
//             return self
//
//         async def __aexit__(self, exc_type, exc, tb):
//             print("Exiting the async context")
//
//     async def main():
//         async with AsyncContextManager() as manager:
//             print("Inside the async context")
//
//     asyncio.run(main())
#include <chrono>
#include <cstdio>
#include <exception>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

// Any type with aenter() and aexit(std::exception_ptr) returning awaitables
// is an async context manager (the corio::async_context_manager concept).
class AsyncContextManager {
public:
    // __aenter__: what it gives is what the body receives (here, the manager).
    corio::task<AsyncContextManager&> aenter() {
        std::puts("Entering the async context");
        co_await corio::sleep(10ms);  // aenter may await, like any coroutine
        co_return *this;
    }

    // __aexit__: `error` is the body's exception (null when it succeeded).
    // Returning task<void> means "never suppress" (Python: return None).
    corio::task<> aexit(std::exception_ptr /*error*/) {
        co_await corio::sleep(10ms);
        std::puts("Exiting the async context");
    }
};

static_assert(corio::async_context_manager<AsyncContextManager>);

corio::task<> amain() {
    // async with AsyncContextManager() as manager:
    co_await corio::with(AsyncContextManager(), [](AsyncContextManager& /*manager*/) -> corio::task<> {
        std::puts("Inside the async context");
        co_return;
    });
}

int main() { corio::run(amain()); }
