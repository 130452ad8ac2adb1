// Test support: how a spawned task ended, as a string to assert on.
#pragma once

#include <exception>
#include <string>

#include <corio/errors.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/task.hpp>

namespace corio_test {

/// "ok", "cancelled", "exception_group", or the exception's what().
template <class T>
corio::task<std::string> outcome(corio::join_handle<T>& h) {
    try {
        co_await h;
        co_return "ok";
    } catch (const corio::cancelled_error&) {
        co_return "cancelled";
    } catch (const corio::exception_group&) {
        co_return "exception_group";
    } catch (const std::exception& e) {
        co_return e.what();
    }
}

}  // namespace corio_test
