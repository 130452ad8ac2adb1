#include <corio/corio.hpp>
#include <cstdio>
corio::task<int> amain() { co_await corio::sleep(std::chrono::milliseconds(1)); co_return 42; }
int main() { int v = corio::run(amain()); std::printf("consumer got %d\n", v); return v == 42 ? 0 : 1; }
