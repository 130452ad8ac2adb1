// database_context_manager: the simulated database connection written as a
// generator, Python's @asynccontextmanager, with a rollback when the body fails.
//
// The Python original:
//
//     @asynccontextmanager
//     async def database_connection(dsn):
//         print(f"Connecting to {dsn}...")
//         await asyncio.sleep(0.05)
//         conn = f"connection to {dsn}"
//         try:
//             yield conn                       # the body of `async with` runs here
//         except BaseException as e:
//             print(f"Rolling back ({e!r})")
//             await asyncio.sleep(0.01)
//             raise
//         else:
//             print("Committing")
//             await asyncio.sleep(0.01)
//         finally:
//             print("Closing connection")
//
//     async def main():
//         async with database_connection("postgresql://localhost/shop") as conn:
//             print(f"Querying over the {conn}")
//
//         try:
//             async with database_connection("postgresql://localhost/shop") as conn:
//                 print("Inserting a row...")
//                 raise ValueError("duplicate key")
//         except ValueError as e:
//             print(f"main caught: {e}")
//
//     asyncio.run(main())
#include <chrono>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

// Calling database_connection() runs nothing: `with` runs it up to co_yield
// (aenter), runs the body, then resumes it after co_yield (aexit).
corio::context_manager<std::string> database_connection(std::string dsn) {
    std::printf("Connecting to %s...\n", dsn.c_str());
    co_await corio::sleep(50ms);
    std::string conn = "connection to " + dsn;

    // C++ cannot co_await inside a catch block, so keep the body's exception
    // and do the asynchronous rollback after the handler.
    std::exception_ptr error;
    try {
        co_yield conn;  // the body runs here, seeing conn by reference
    } catch (...) {     // the body's exception is rethrown at co_yield
        error = std::current_exception();
    }
    if (error) {
        // corio::describe names the exception: "std::invalid_argument: duplicate key".
        std::printf("Rolling back (%s)\n", corio::describe(error).c_str());
        co_await corio::sleep(10ms);
    } else {
        std::puts("Committing");
        co_await corio::sleep(10ms);
    }
    std::puts("Closing connection");       // Python's finally:
    if (error) std::rethrow_exception(error);  // re-raise; not rethrowing would suppress it
}

corio::task<> amain() {
    co_await corio::with(database_connection("postgresql://localhost/shop"), [](std::string& conn) {
        std::printf("Querying over the %s\n", conn.c_str());  // a plain (non-coroutine) body works too
    });

    try {
        co_await corio::with(database_connection("postgresql://localhost/shop"), [](std::string&) {
            std::puts("Inserting a row...");
            throw std::invalid_argument("duplicate key");
        });
    } catch (const std::invalid_argument& e) {
        std::printf("main caught: %s\n", e.what());
    }
}

int main() { corio::run(amain()); }
