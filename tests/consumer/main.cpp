#include <corio/corio.hpp>
#include <cstdio>
// resolve() links c-ares (a private dependency that find_package(corio) must find for a static corio).
corio::task<int> amain() {
    std::vector<corio::address> a = co_await corio::resolve("127.0.0.1", 42);
    co_await corio::sleep(std::chrono::milliseconds(1));
    co_return a.size() == 1 ? a[0].port() : -1;
}
int main() { int v = corio::run(amain()); std::printf("consumer got %d\n", v); return v == 42 ? 0 : 1; }
