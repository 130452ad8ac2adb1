// corio/runtime/run_options.hpp: how `run` sets up its event loop.
#pragma once

#include <vector>

namespace corio {

/// Which I/O backend the loop uses. `automatic` honours CORIO_BACKEND
/// (epoll|io_uring) from the environment, else uses io_uring when the kernel
/// allows it and epoll when it refuses (many containers do). Asking for
/// io_uring explicitly where it is refused throws std::system_error.
enum class backend_kind : int { automatic, io_uring, epoll };

struct run_options {
    backend_kind backend = backend_kind::automatic;
    /// Reports to stderr, as asyncio's debug mode does: steps longer than
    /// 100 ms (naming the task), tasks never awaited, streams, servers and
    /// datagram sockets destroyed without close(), tasks destroyed while
    /// suspended, what is still alive at loop end (docs/guide.md, "Debug
    /// mode"). CORIO_DEBUG=1 in the environment turns it on too.
    bool debug = false;
    /// Signals (e.g. SIGINT, SIGTERM) that cancel the main task; when the
    /// loop has ended the signal is raised again with its default action,
    /// so the process leaves with the conventional status. See signal.hpp.
    std::vector<int> shutdown_signals{};
};

/// The backend of the loop running on this thread; throws std::logic_error
/// when no loop runs here.
backend_kind current_backend();

const char* to_string(backend_kind kind) noexcept;

}  // namespace corio
