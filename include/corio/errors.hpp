// corio/errors.hpp: the exceptions corio throws (docs/reference.md, "Errors").
//
// cancelled_error deliberately does not derive from std::exception, so that
// `catch (const std::exception&)` never swallows a cancellation (Python's
// CancelledError derives from BaseException for the same reason). Catch it
// only with `catch (const corio::cancelled_error&)` or `catch (...)`, and
// rethrow it.
#pragma once

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
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

/// stream::read_exactly / read_until met EOF first (asyncio.IncompleteReadError).
class incomplete_read_error : public std::runtime_error {
public:
    incomplete_read_error(std::string partial, std::size_t expected, const std::string& what)
        : std::runtime_error(what), partial_(std::move(partial)), expected_(expected) {}
    /// What came before EOF.
    const std::string& partial() const noexcept { return partial_; }
    /// The bytes asked for (read_exactly), or 0 (read_until: unknown).
    std::size_t expected() const noexcept { return expected_; }

private:
    std::string partial_;
    std::size_t expected_;
};

/// stream::read_until / readline found no separator within the stream's
/// limit (asyncio.LimitOverrunError). The bytes stay buffered.
class limit_overrun_error : public std::runtime_error {
public:
    limit_overrun_error(std::size_t consumed, const std::string& what)
        : std::runtime_error(what), consumed_(consumed) {}
    /// The bytes buffered when the limit was passed.
    std::size_t consumed() const noexcept { return consumed_; }

private:
    std::size_t consumed_;
};

/// A TLS handshake or certificate verification failed, or a TLS context
/// could not be built. The message names the host (or the file) and
/// OpenSSL's reason ("stream::start_tls with example.com:443: certificate
/// verify failed: certificate has expired").
class tls_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// True when `e` holds a cancelled_error.
bool is_cancellation(const std::exception_ptr& e) noexcept;

/// A one-line description of whatever `e` holds, for reports.
std::string describe(const std::exception_ptr& e);

}  // namespace corio
