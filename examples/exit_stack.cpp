// exit_stack: contextlib.AsyncExitStack, for a number of managers known only
// at run time, cleanup callbacks, and handing the exits on with pop_all().
//
// The Python original:
//
//     class Connection:
//         def __init__(self, host): self.host = host
//         async def __aenter__(self):
//             await asyncio.sleep(0.001)
//             print(f"connected to {self.host}")
//             return self
//         async def __aexit__(self, *exc):
//             await asyncio.sleep(0.001)
//             print(f"disconnected from {self.host}")
//
//     async def main():
//         hosts = ["alpha", "beta", "gamma"]
//         async with AsyncExitStack() as stack:
//             conns = [await stack.enter_async_context(Connection(h)) for h in hosts]
//             stack.callback(print, f"done with {len(conns)} hosts")   # runs first
//             print("querying", ", ".join(c.host for c in conns))
//
//         # open two, and keep them only if both opened (pop_all)
//         async with AsyncExitStack() as stack:
//             await stack.enter_async_context(Connection("primary"))
//             await stack.enter_async_context(Connection("replica"))
//             keep = stack.pop_all()         # nothing is closed at the end of this block
//         print("both open; closing them later")
//         await keep.aclose()
//
//     asyncio.run(main())
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

class Connection {
public:
    explicit Connection(std::string host) : host_(std::move(host)) {}

    corio::task<Connection&> aenter() {
        co_await corio::sleep(1ms);
        std::printf("connected to %s\n", host_.c_str());
        co_return *this;
    }
    corio::task<> aexit(std::exception_ptr) {
        co_await corio::sleep(1ms);
        std::printf("disconnected from %s\n", host_.c_str());
    }
    const std::string& host() const { return host_; }

private:
    std::string host_;
};

corio::task<> amain() {
    std::vector<std::string> hosts;
    hosts.push_back("alpha");
    hosts.push_back("beta");
    hosts.push_back("gamma");

    co_await corio::with(corio::exit_stack(), [&hosts](corio::exit_stack& stack) -> corio::task<> {
        std::vector<Connection*> conns;
        for (const std::string& host : hosts) conns.push_back(&co_await stack.enter(Connection(host)));

        // The callable is stored by value in the stack, so capturing a local
        // string is safe even though this body's frame is gone when it runs.
        std::string summary = "done with " + std::to_string(conns.size()) + " hosts";
        stack.callback([summary] { std::printf("%s\n", summary.c_str()); });

        std::printf("querying");
        for (Connection* c : conns) std::printf(" %s", c->host().c_str());
        std::printf("\n");
    });  // exits run last in, first out: the callback, then gamma, beta, alpha

    corio::exit_stack keep;
    co_await corio::with(corio::exit_stack(), [&keep](corio::exit_stack& stack) -> corio::task<> {
        co_await stack.enter(Connection("primary"));
        co_await stack.enter(Connection("replica"));  // had this thrown, primary would be closed
        keep = stack.pop_all();                      // both opened: keep them past the block
    });
    std::puts("both open; closing them later");
    co_await keep.aclose();
}

int main() { corio::run(amain()); }
