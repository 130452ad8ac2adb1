// Must NOT compile: the body takes a `double&`, but the lock's aenter gives
// `corio::lock&` and the other manager's gives `int`. The first error must
// be corio's own, naming what the managers give (checked by
// tests/context/diagnostics/check_diagnostic.cmake).
#include <corio/corio.hpp>

struct gives_int {
    corio::task<int> aenter() { co_return 1; }
    corio::task<> aexit(std::exception_ptr) { co_return; }
};

corio::task<> misuse(corio::lock& lock) {
    co_await corio::with(lock, gives_int{}, [](double&) {});
}
