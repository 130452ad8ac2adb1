// Test support: an async context manager that records what happens to it.
#pragma once

#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include <corio/errors.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>

namespace corio_test {

using log_t = std::vector<std::string>;

/// Names the exception inside `e` for assertions: "none", "cancelled", or what().
inline std::string what_of(const std::exception_ptr& e) {
    if (!e) return "none";
    try {
        std::rethrow_exception(e);
    } catch (const corio::cancelled_error&) {
        return "cancelled";
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "unknown";
    }
}

// Not an aggregate on purpose: g++ 12 destroys the members of a braced
// aggregate temporary twice when the full expression also holds a co_await
// (workaround(gcc-12), reduced in tests/core/gcc_workarounds_test.cpp).
struct recording_manager {
    recording_manager(log_t* log_, std::string name_, bool suppress_ = false)
        : log(log_), name(std::move(name_)), suppress(suppress_) {}

    log_t* log;
    std::string name;
    bool suppress = false;
    bool fail_enter = false;
    bool fail_exit = false;
    std::chrono::milliseconds exit_delay{0};
    int value = 42;

    corio::task<recording_manager&> aenter() {
        log->push_back("enter " + name);
        if (fail_enter) throw std::runtime_error("enter " + name + " failed");
        co_return *this;
    }
    corio::task<bool> aexit(std::exception_ptr e) {
        log->push_back("exit " + name + " saw " + what_of(e));
        if (exit_delay.count() > 0) {
            co_await corio::sleep(exit_delay);
            log->push_back("exit " + name + " finished");
        }
        if (fail_exit) throw std::runtime_error("exit " + name + " failed");
        co_return suppress;
    }
};

}  // namespace corio_test
