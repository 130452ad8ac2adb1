// Test support: what awaiting something outside a task run by corio::run
// reports, as a string to assert on.
#pragma once

#include <stdexcept>
#include <string>

namespace corio_test {

/// The std::logic_error's what() when `a` is awaited outside a task, or
/// "no exception". Only await_ready runs: that is where the check is.
template <class Awaiter>
std::string outside_task_error(Awaiter&& a) {
    try {
        (void)a.await_ready();
    } catch (const std::logic_error& e) {
        return e.what();
    }
    return "no exception";
}

}  // namespace corio_test
