// Test support for the file tests: a temporary directory per test, running a
// task on a chosen backend, and the parametrization over epoll and io_uring
// (io_uring skipped where the kernel or container refuses io_uring_setup).
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <corio/errors.hpp>
#include <corio/run.hpp>
#include <corio/runtime/run_options.hpp>
#include <corio/task.hpp>

#include "../support/backends.hpp"

namespace corio_fs_test {

using corio_test::backend_name;
using corio_test::io_uring_allowed;
using corio_test::open_fd_count;
using corio_test::run_on;

/// A unique directory under /tmp (mkdtemp), removed with what it holds.
class temp_dir {
public:
    temp_dir() {
        char name[] = "/tmp/corio-fs-test-XXXXXX";
        if (::mkdtemp(name) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
        path_ = name;
    }
    ~temp_dir() {
        std::error_code ignored;
        // A test may have left a directory without permissions behind.
        std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add,
                                     ignored);
        std::filesystem::remove_all(path_, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

/// The whole file, read with plain POSIX calls (the oracle the tests compare
/// corio's reads and writes with). nullopt when it cannot be opened.
inline std::optional<std::string> slurp(const std::filesystem::path& p) {
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string out;
    char chunk[65536];
    for (;;) {
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(chunk, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

/// Creates or truncates `p` with `data`, with plain POSIX calls.
inline void spit(const std::filesystem::path& p, std::string_view data) {
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + p.string());
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int e = errno;
            ::close(fd);
            throw std::system_error(e, std::generic_category(), "write " + p.string());
        }
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
}

/// The pattern files used for big round trips: each 8-byte word depends on
/// its offset, so a chunk written or read at the wrong place, twice or not
/// at all changes the checksum. `offset` and `n` are multiples of 8.
inline std::uint64_t pattern_word(std::uint64_t offset) noexcept {
    return (offset * 0x9E3779B97F4A7C15ull) ^ (offset >> 17) ^ 0x0123456789abcdefull;
}

inline void fill_pattern(char* into, std::size_t n, std::uint64_t offset) noexcept {
    for (std::size_t i = 0; i + 8 <= n; i += 8) {
        const std::uint64_t w = pattern_word(offset + i);
        std::memcpy(into + i, &w, 8);
    }
}

/// A cheap order-sensitive checksum (a polynomial hash of 8-byte words),
/// combined over chunks in order; chunk sizes are multiples of 8.
struct checksum {
    std::uint64_t h = 0;
    std::uint64_t bytes = 0;
    void add(const char* p, std::size_t n) noexcept {
        for (std::size_t i = 0; i + 8 <= n; i += 8) {
            std::uint64_t w;
            std::memcpy(&w, p + i, 8);
            h = h * 0x100000001b3ull + w;
        }
        bytes += n;
    }
    bool operator==(const checksum&) const = default;
};

/// `n` bytes of every value 0..255 in turn, '\0' included.
inline std::string all_bytes(std::size_t n = 256) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i & 0xff);
    return s;
}

/// The backend under test, with a temporary directory for its files. Every
/// file test is a TEST_P of a fixture derived from this one.
class backend_test : public testing::TestWithParam<corio::backend_kind> {
protected:
    void SetUp() override {
        if (GetParam() == corio::backend_kind::io_uring && !io_uring_allowed())
            GTEST_SKIP() << "io_uring is refused here (io_uring_setup); epoll is tested";
        dir_.emplace();
    }
    void TearDown() override { dir_.reset(); }

    corio::backend_kind backend() const { return GetParam(); }
    std::filesystem::path path(std::string_view name) const { return *dir_ / name; }
    const std::filesystem::path& dir() const { return dir_->path(); }

    template <class T>
    T run(corio::task<T> t, bool debug = false) {
        return run_on(GetParam(), std::move(t), debug);
    }

private:
    std::optional<temp_dir> dir_;
};

// What a filesystem_error said, for assertions outside the coroutine.
struct fs_failure {
    bool thrown = false;  // a filesystem_error
    std::string other;    // what() of anything else thrown ("" if nothing)
    int code = 0;         // errno
    std::filesystem::path path1, path2;
    std::string what;
};

inline fs_failure describe(const std::exception_ptr& e) {
    fs_failure f;
    if (!e) return f;
    try {
        std::rethrow_exception(e);
    } catch (const std::filesystem::filesystem_error& x) {
        f.thrown = true;
        f.code = x.code().value();
        f.path1 = x.path1();
        f.path2 = x.path2();
        f.what = x.what();
    } catch (const std::exception& x) {
        f.other = x.what();
    } catch (const corio::cancelled_error&) {
        f.other = "cancelled";
    }
    return f;
}

template <class T>
corio::task<fs_failure> failure_of(corio::task<T> t) {
    std::exception_ptr e;
    try {
        co_await std::move(t);
    } catch (...) {
        e = std::current_exception();
    }
    co_return describe(e);
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace corio_fs_test

/// Instantiates `suite` (a TEST_P fixture) on epoll and io_uring, named after them.
#define CORIO_FS_ON_BOTH_BACKENDS(suite) CORIO_TEST_ON_BOTH_BACKENDS(suite)
