// gather: run several tasks concurrently and collect their results in order.
//
// The Python original:
//
//     async def fetch(name, delay):
//         print(f"Fetching {name}...")
//         await asyncio.sleep(delay)
//         print(f"Fetched {name}")
//         return f"{name} data"
//
//     async def square(n):
//         await asyncio.sleep(0.001 * n)
//         return n * n
//
//     async def fail(message):
//         await asyncio.sleep(0.001)
//         raise ValueError(message)
//
//     async def main():
//         a, b, c = await asyncio.gather(fetch("A", 0.03), fetch("B", 0.01), fetch("C", 0.02))
//         print(f"Results: {a}, {b}, {c}")
//
//         squares = await asyncio.gather(*(square(n) for n in range(1, 6)))
//         print("Squares:", *squares)
//
//         results = await asyncio.gather(square(3), fail("bad input"), return_exceptions=True)
//         for r in results:
//             print(f"error: {r}" if isinstance(r, Exception) else f"value: {r}")
//
//     asyncio.run(main())
#include <chrono>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

corio::task<std::string> fetch(std::string name, std::chrono::milliseconds delay) {
    std::printf("Fetching %s...\n", name.c_str());
    co_await corio::sleep(delay);
    std::printf("Fetched %s\n", name.c_str());
    co_return name + " data";
}

corio::task<int> square(int n) {
    co_await corio::sleep(std::chrono::milliseconds(n));
    co_return n * n;
}

corio::task<int> fail(std::string message) {
    co_await corio::sleep(1ms);
    throw std::invalid_argument(message);
}

// corio::settled_t<int> is std::variant<int, std::exception_ptr>.
void print_outcome(const corio::settled_t<int>& outcome) {
    if (const int* value = std::get_if<int>(&outcome)) std::printf("value: %d\n", *value);
    else std::printf("error: %s\n", corio::describe(std::get<std::exception_ptr>(outcome)).c_str());
}

corio::task<> amain() {
    // The tasks start in order and run concurrently; the results come back
    // in argument order, whatever order they finished in.
    auto [a, b, c] = co_await corio::gather(fetch("A", 30ms), fetch("B", 10ms), fetch("C", 20ms));
    std::printf("Results: %s, %s, %s\n", a.c_str(), b.c_str(), c.c_str());

    // gather(*tasks): a vector of tasks gives a vector of results. (Build the
    // vector first: keep braced lists out of co_await expressions.)
    std::vector<corio::task<int>> tasks;
    for (int n = 1; n <= 5; ++n) tasks.push_back(square(n));
    std::vector<int> squares = co_await corio::gather(std::move(tasks));
    std::printf("Squares:");
    for (int s : squares) std::printf(" %d", s);
    std::printf("\n");

    // return_exceptions=True: every outcome, as std::variant<T, std::exception_ptr>.
    // (Plain gather would cancel the others at the first failure and rethrow it.)
    auto [ok, bad] = co_await corio::gather_settled(square(3), fail("bad input"));
    print_outcome(ok);
    print_outcome(bad);
}

int main() { corio::run(amain()); }
