// multiple_managers: several managers in one `async with`: entered left to
// right, exited right to left, and a failed entry unwinds the ones before it.
//
// The Python original:
//
//     class Resource:
//         def __init__(self, name, fail_on_enter=False):
//             self.name = name
//             self.fail_on_enter = fail_on_enter
//
//         async def __aenter__(self):
//             await asyncio.sleep(0.001)
//             if self.fail_on_enter:
//                 raise OSError(f"cannot acquire {self.name}")
//             print(f"Acquired {self.name}")
//             return self
//
//         async def __aexit__(self, exc_type, exc, tb):
//             await asyncio.sleep(0.001)
//             print(f"Released {self.name}" + (f" (saw: {exc})" if exc else ""))
//
//     async def main():
//         async with Resource("A") as a, Resource("B") as b, Resource("C") as c:
//             print(f"Using {a.name}, {b.name} and {c.name}")
//
//         try:
//             async with Resource("A"), Resource("B"), Resource("C", fail_on_enter=True):
//                 print("never printed")
//         except OSError as e:
//             print(f"Caught: {e}")
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
    explicit Resource(std::string name, bool fail_on_enter = false)
        : name_(std::move(name)), fail_on_enter_(fail_on_enter) {}

    corio::task<Resource&> aenter() {
        co_await corio::sleep(1ms);
        if (fail_on_enter_) throw std::runtime_error("cannot acquire " + name_);
        std::printf("Acquired %s\n", name_.c_str());
        co_return *this;
    }

    corio::task<> aexit(std::exception_ptr error) {
        co_await corio::sleep(1ms);
        if (error) std::printf("Released %s (saw: %s)\n", name_.c_str(), corio::describe(error).c_str());
        else std::printf("Released %s\n", name_.c_str());
    }

    const std::string& name() const { return name_; }

private:
    std::string name_;
    bool fail_on_enter_;
};

corio::task<> amain() {
    // async with Resource("A") as a, Resource("B") as b, Resource("C") as c:
    // the body gets one argument per manager whose aenter gives a value.
    co_await corio::with(Resource("A"), Resource("B"), Resource("C"),
                         [](Resource& a, Resource& b, Resource& c) -> corio::task<> {
                             std::printf("Using %s, %s and %s\n", a.name().c_str(), b.name().c_str(),
                                         c.name().c_str());
                             co_return;
                         });

    // If entering C throws, C's aexit is not called, and B's and A's see
    // that exception, in that order.
    try {
        co_await corio::with(Resource("A"), Resource("B"), Resource("C", true),
                             [](Resource&, Resource&, Resource&) -> corio::task<> {
                                 std::puts("never printed");
                                 co_return;
                             });
    } catch (const std::runtime_error& e) {
        std::printf("Caught: %s\n", e.what());
    }
}

int main() { corio::run(amain()); }
