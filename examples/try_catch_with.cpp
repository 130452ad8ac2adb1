// try_catch_with: try/catch around an `async with` whose body throws. aexit
// sees the exception first; then, unless it suppresses it, the catch gets it.
//
// The Python original:
//
//     class Transaction:
//         def __init__(self, suppress=False):
//             self.suppress = suppress
//
//         async def __aenter__(self):
//             print("begin")
//             return self
//
//         async def __aexit__(self, exc_type, exc, tb):
//             await asyncio.sleep(0.001)
//             if exc is None:
//                 print("commit")
//                 return False
//             print(f"rollback, aexit saw: {exc}")
//             return self.suppress                 # True swallows the exception
//
//     async def main():
//         try:
//             async with Transaction():
//                 print("inside the block")
//                 raise ValueError("something went wrong")
//         except ValueError as e:
//             print(f"caught: {e}")
//
//         async with Transaction(suppress=True):
//             raise ValueError("ignored by aexit")
//         print("the second block's exception was suppressed")
//
//         async with contextlib.suppress(KeyError):   # contextlib.suppress
//             raise KeyError("missing")
//         print("suppress swallowed the KeyError")
//
//     asyncio.run(main())
#include <chrono>
#include <cstdio>
#include <exception>
#include <stdexcept>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

class Transaction {
public:
    explicit Transaction(bool suppress = false) : suppress_(suppress) {}

    corio::task<Transaction&> aenter() {
        std::puts("begin");
        co_return *this;
    }

    // aexit receives the body's exception as a std::exception_ptr (Python's
    // exc_type, exc, tb in one value); returning true suppresses it.
    corio::task<bool> aexit(std::exception_ptr error) {
        co_await corio::sleep(1ms);
        if (!error) {
            std::puts("commit");
            co_return false;
        }
        std::printf("rollback, aexit saw: %s\n", corio::describe(error).c_str());
        co_return suppress_;
    }

private:
    bool suppress_;
};

corio::task<> amain() {
    try {
        co_await corio::with(Transaction(), [](Transaction&) -> corio::task<> {
            std::puts("inside the block");
            co_await corio::sleep(1ms);
            throw std::invalid_argument("something went wrong");
        });
    } catch (const std::invalid_argument& e) {
        std::printf("caught: %s\n", e.what());
    }

    co_await corio::with(Transaction(true), [](Transaction&) -> corio::task<> {
        co_await corio::sleep(1ms);
        throw std::invalid_argument("ignored by aexit");
    });
    std::puts("the second block's exception was suppressed");

    // contextlib.suppress: suppress<E...>() swallows those types (and derived ones).
    co_await corio::with(corio::suppress<std::out_of_range>(), []() -> corio::task<> {
        co_await corio::sleep(1ms);
        throw std::out_of_range("missing");
    });
    std::puts("suppress swallowed the out_of_range");
}

int main() { corio::run(amain()); }
