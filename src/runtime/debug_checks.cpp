// Debug mode's checks (run_options::debug, CORIO_DEBUG=1) that corio's
// headers call: whether debug mode is on, whether a stream or server
// dropped now is reported as unclosed, a frame destroyed while suspended,
// and a task destroyed without ever being awaited ("coroutine 'work' was
// never awaited", as Python says).
#include <cstdio>
#include <exception>

#include <corio/detail/event_loop.hpp>
#include <corio/detail/promise_base.hpp>

#include "report_names.hpp"

namespace corio::detail {

bool debug_enabled() noexcept { return tls_loop != nullptr && tls_loop->debug(); }

bool report_unclosed() noexcept {
    return tls_quiet_drops == 0 && debug_enabled() && std::uncaught_exceptions() == 0;
}

void report_destroyed_while_suspended(const char* what, void* frame) noexcept {
    if (debug_enabled()) std::fprintf(stderr, "corio debug: %s destroyed while suspended (frame %p)\n", what, frame);
}

void destroy_unfinished_task(std::coroutine_handle<> frame, const promise_base& promise) noexcept {
    if (!promise.continuation && !frame.done()) {
        // Never started: neither awaited nor handed to spawn, gather or run.
        if (tls_quiet_drops == 0 && debug_enabled()) {
            std::fprintf(stderr, "corio debug: coroutine ");
            print_origin(stderr, promise.origin());
            std::fprintf(stderr, " was never awaited\n");
        }
        quiet_drops quiet;  // its parameters (tasks, streams) go with it unused
        frame.destroy();
        return;
    }
    if (!frame.done() && debug_enabled()) {
        std::fprintf(stderr, "corio debug: task ");
        print_origin(stderr, promise.origin());
        std::fprintf(stderr, " destroyed while suspended (frame %p)\n", frame.address());
    }
    frame.destroy();
}

}  // namespace corio::detail
