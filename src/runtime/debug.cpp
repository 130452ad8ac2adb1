#include <cstdio>
#include <stdexcept>
#include <string>

#include <corio/detail/event_loop.hpp>
#include <corio/run_options.hpp>

namespace corio {

backend_kind current_backend() { return detail::event_loop::current("current_backend").kind(); }

namespace detail {

void throw_outside_task(const char* operation) {
    throw std::logic_error(std::string(operation) + ": not inside a task run by corio::run");
}

bool debug_enabled() noexcept { return tls_loop != nullptr && tls_loop->debug(); }

void report_destroyed_while_suspended(const char* what, void* frame) noexcept {
    if (debug_enabled()) std::fprintf(stderr, "corio debug: %s destroyed while suspended (frame %p)\n", what, frame);
}

}  // namespace detail
}  // namespace corio
