// corio/errors.hpp: the exceptions corio throws (API.md section 7).
//
// cancelled_error deliberately does not derive from std::exception, so that
// `catch (const std::exception&)` never swallows a cancellation (Python's
// CancelledError derives from BaseException for the same reason). Catch it
// only with `catch (const corio::cancelled_error&)` or `catch (...)`, and
// rethrow it.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace corio {

/// Thrown at an await inside a cancelled scope. Not a std::exception.
class cancelled_error {
public:
    const char* what() const noexcept { return "corio::cancelled_error: the task was cancelled"; }
};

/// A `timeout` scope or `wait_for` expired (asyncio.TimeoutError).
class timeout_error : public std::runtime_error {
public:
    timeout_error() : std::runtime_error("corio::timeout_error: the deadline passed") {}
    using std::runtime_error::runtime_error;
};

/// Every failure of a task_group's children and body (Python's ExceptionGroup).
/// A nested group's exception_group stays nested, as in Python.
class exception_group : public std::exception {
public:
    explicit exception_group(std::vector<std::exception_ptr> errors);
    const std::vector<std::exception_ptr>& exceptions() const noexcept { return errors_; }
    const char* what() const noexcept override { return message_.c_str(); }

private:
    std::vector<std::exception_ptr> errors_;
    std::string message_;
};

/// True when `e` holds a cancelled_error.
bool is_cancellation(const std::exception_ptr& e) noexcept;

/// A one-line description of whatever `e` holds, for reports.
std::string describe(const std::exception_ptr& e);

}  // namespace corio
