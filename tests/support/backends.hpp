// Running a test on each I/O backend: every I/O test is a TEST_P over epoll
// and io_uring, instantiated with CORIO_TEST_ON_BOTH_BACKENDS; io_uring is
// skipped (not failed) where the kernel or a sandbox refuses io_uring_setup.
// Also the descriptor count the leak checks compare.
#pragma once

#include <dirent.h>

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <system_error>

#include <corio/run.hpp>
#include <corio/runtime/run_options.hpp>
#include <corio/task.hpp>

namespace corio {
// Test names and failure messages say "epoll" or "io_uring", not bytes.
inline void PrintTo(backend_kind kind, std::ostream* os) { *os << to_string(kind); }
}  // namespace corio

namespace corio_test {

/// Runs `t` on a fresh loop of backend `b`.
template <class T>
T run_on(corio::backend_kind b, corio::task<T> t, bool debug = false) {
    corio::run_options options;
    options.backend = b;
    options.debug = debug;
    return corio::run(std::move(t), std::move(options));
}

/// Whether io_uring_setup is allowed here (asked once). Any other failure
/// than io_uring_setup's refusal propagates, so it is not mistaken for one.
inline bool io_uring_allowed() {
    static const bool allowed = [] {
        try {
            run_on(corio::backend_kind::io_uring, []() -> corio::task<> { co_return; }());
            return true;
        } catch (const std::system_error& e) {
            if (std::string_view(e.what()).find("io_uring_setup") == std::string_view::npos) throw;
            return false;
        }
    }();
    return allowed;
}

/// Descriptors open in this process (entries of /proc/self/fd, less the one
/// used to list them).
inline int open_fd_count() {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) return -1;
    int n = 0;
    while (const dirent* e = ::readdir(dir)) {
        if (e->d_name[0] != '.') ++n;
    }
    ::closedir(dir);
    return n - 1;
}

inline std::string backend_name(const testing::TestParamInfo<corio::backend_kind>& info) {
    return corio::to_string(info.param);
}

}  // namespace corio_test

/// Instantiates `suite` (a TEST_P fixture over corio::backend_kind) on epoll
/// and io_uring, named after them.
#define CORIO_TEST_ON_BOTH_BACKENDS(suite)                                                                  \
    INSTANTIATE_TEST_SUITE_P(backends, suite,                                                               \
                             testing::Values(corio::backend_kind::epoll, corio::backend_kind::io_uring), \
                             corio_test::backend_name)
