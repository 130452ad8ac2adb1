// database_connection: a simulated database connection as a class-based
// async context manager: connect in aenter, query in the body, close in aexit.
//
// The Python original:
//
//     class AsyncDatabaseConnection:
//         async def __aenter__(self):
//             print("Connecting to database...")
//             await asyncio.sleep(0.05)          # simulate the connection delay
//             print("Connected to database")
//             return self
//
//         async def query(self, sql):
//             await asyncio.sleep(0.02)          # simulate the round trip
//             return f"Result of {sql!r}"
//
//         async def __aexit__(self, exc_type, exc, tb):
//             print("Closing connection")
//             await asyncio.sleep(0.01)
//             print("Connection closed")
//
//     async def main():
//         async with AsyncDatabaseConnection() as db:
//             result = await db.query("SELECT * FROM users")
//             print(result)
//
//     asyncio.run(main())
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

class AsyncDatabaseConnection {
public:
    // __aenter__: connect (a sleep stands for the network) and give the body
    // the connection.
    corio::task<AsyncDatabaseConnection&> aenter() {
        std::puts("Connecting to database...");
        co_await corio::sleep(50ms);
        std::puts("Connected to database");
        co_return *this;
    }

    corio::task<std::string> query(std::string sql) {
        co_await corio::sleep(20ms);
        co_return "Result of '" + sql + "'";
    }

    // __aexit__: runs however the body ended; `error` is its exception, if any.
    corio::task<> aexit(std::exception_ptr /*error*/) {
        std::puts("Closing connection");
        co_await corio::sleep(10ms);
        std::puts("Connection closed");
    }
};

corio::task<> amain() {
    // async with AsyncDatabaseConnection() as db:
    co_await corio::with(AsyncDatabaseConnection(), [](AsyncDatabaseConnection& db) -> corio::task<> {
        std::string result = co_await db.query("SELECT * FROM users");
        std::printf("%s\n", result.c_str());
    });
}

int main() { corio::run(amain()); }
