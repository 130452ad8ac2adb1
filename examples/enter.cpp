// enter: `async with` for the rest of the function. Each manager entered with
// corio::enter is exited when the coroutine ends, last entered first, before
// its caller resumes, whether it returned or threw.
//
// Python has no single statement for this; the original nests the blocks:
//
//     async def handle_request(fail):
//         async with Resource("database") as db:
//             async with Resource("cache") as cache:
//                 print(f"handling the request with {db.name} and {cache.name}")
//                 await asyncio.sleep(0.001)
//                 if fail:
//                     raise RuntimeError("request failed")
//                 return "response"
//
//     async def main():
//         print(f"got {await handle_request(False)}")
//         try:
//             await handle_request(True)
//         except RuntimeError as e:
//             print(f"caught: {e}")
//
//     asyncio.run(main())
#include <chrono>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

class Resource {
public:
    explicit Resource(std::string name) : name_(std::move(name)) {}

    corio::task<Resource&> aenter() {
        co_await corio::sleep(1ms);
        std::printf("enter %s\n", name_.c_str());
        co_return *this;
    }

    corio::task<> aexit(std::exception_ptr error) {
        co_await corio::sleep(1ms);  // an exit may await
        if (error) std::printf("exit %s (saw: %s)\n", name_.c_str(), corio::describe(error).c_str());
        else std::printf("exit %s\n", name_.c_str());
    }

    const std::string& name() const { return name_; }

private:
    std::string name_;
};

corio::task<std::string> handle_request(bool fail) {
    // enter gives a reference to what aenter gave, stored with the manager
    // (here moved into storage that lives until the exit has run).
    Resource& db = co_await corio::enter(Resource("database"));
    Resource& cache = co_await corio::enter(Resource("cache"));
    std::printf("handling the request with %s and %s\n", db.name().c_str(), cache.name().c_str());
    co_await corio::sleep(1ms);
    if (fail) throw std::runtime_error("request failed");
    co_return "response";
}  // cache's aexit runs here, then database's, with the coroutine's exception

corio::task<> amain() {
    std::string response = co_await handle_request(false);
    std::printf("got %s\n", response.c_str());

    try {
        co_await handle_request(true);
    } catch (const std::runtime_error& e) {
        std::printf("caught: %s\n", e.what());
    }
}

int main() { corio::run(amain()); }
