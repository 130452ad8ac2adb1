// The exceptions of corio/errors.hpp: exception_group's message (every
// sub-exception described), describe() for reports, is_cancellation(), and
// detail::throw_cancelled for the detail headers that cannot include errors.hpp.
#include <corio/errors.hpp>
#include <corio/detail/fiber.hpp>

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

namespace corio {

namespace {
std::string type_name(const std::type_info& t) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(t.name(), nullptr, nullptr, &status), std::free);
    return status == 0 && name ? std::string(name.get()) : std::string(t.name());
}

std::string group_message(const std::vector<std::exception_ptr>& errors) {
    std::string m = "exception_group: " + std::to_string(errors.size()) + " sub-exception";
    if (errors.size() != 1) m += 's';
    for (std::size_t i = 0; i < errors.size(); ++i) {
        m += i == 0 ? " [" : "; ";
        m += describe(errors[i]);
    }
    if (!errors.empty()) m += ']';
    return m;
}
}  // namespace

exception_group::exception_group(std::vector<std::exception_ptr> errors)
    : errors_(std::move(errors)), message_(group_message(errors_)) {}

namespace detail {

void throw_cancelled() { throw cancelled_error{}; }

void throw_outside_task(operation_name op) {
    std::string what = op.type;
    if (op.member != nullptr) (what += "::") += op.member;
    throw std::logic_error(what + ": not inside a task run by corio::run");
}

}  // namespace detail

bool is_cancellation(const std::exception_ptr& e) noexcept {
    if (!e) return false;
    try {
        std::rethrow_exception(e);
    } catch (const cancelled_error&) {
        return true;
    } catch (...) {
        return false;
    }
}

std::string describe(const std::exception_ptr& e) {
    if (!e) return "no exception";
    try {
        std::rethrow_exception(e);
    } catch (const cancelled_error& c) {
        return c.what();
    } catch (const std::exception& x) {
        return type_name(typeid(x)) + ": " + x.what();
    } catch (...) {
        return "an exception of unknown type";
    }
}

}  // namespace corio
