// The I/O backends under the file layer: operations that wait (a FIFO with no
// data, a full FIFO) are cancellable on both, the file stays usable and no
// descriptor leaks; many operations in flight at once; the loop reports its
// backend.
#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include <corio/errors.hpp>
#include <corio/fs/file.hpp>
#include <corio/tasks/gather.hpp>
#include <corio/run.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>
#include <corio/time/timeout.hpp>
#include <corio/context/with.hpp>

using namespace std::chrono_literals;

namespace {

int open_fds() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d) != nullptr) ++n;
        ::closedir(d);
    }
    return n;
}

class backend_io : public testing::TestWithParam<corio::backend_kind> {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/corio-io-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        fifo_ = dir_ + "/fifo";
        ASSERT_EQ(::mkfifo(fifo_.c_str(), 0600), 0);
    }
    void TearDown() override {
        ::unlink(fifo_.c_str());
        ::rmdir(dir_.c_str());
    }
    void run(corio::task<> t) {
        corio::run_options o;
        o.backend = GetParam();
        try {
            corio::run(std::move(t), o);
        } catch (const std::system_error& e) {
            if (std::strstr(e.what(), "io_uring_setup") == nullptr) throw;
            GTEST_SKIP() << "io_uring refused here";
        }
    }
    std::string dir_, fifo_;
};

std::string backend_name(const testing::TestParamInfo<corio::backend_kind>& info) {
    return corio::to_string(info.param);
}

INSTANTIATE_TEST_SUITE_P(backends, backend_io,
                         testing::Values(corio::backend_kind::epoll, corio::backend_kind::io_uring), backend_name);

TEST_P(backend_io, the_loop_uses_the_backend_asked_for) {
    const corio::backend_kind want = GetParam();
    run([&]() -> corio::task<> {
        EXPECT_EQ(corio::current_backend(), want);
        co_return;
    }());
}

TEST_P(backend_io, a_read_that_waits_is_cancelled_by_a_timeout_and_the_file_stays_usable) {
    const int before = open_fds();
    run([&]() -> corio::task<> {
        // r+ on a FIFO: opening does not wait for a writer, reading waits for data.
        corio::file f = co_await corio::open(fifo_, "r+");
        auto start = std::chrono::steady_clock::now();
        bool timed_out = false;
        try {
            auto read_some = [&]() -> corio::task<> { (void)co_await f.read(1); };
            co_await corio::wait_for(read_some(), 50ms);
        } catch (const corio::timeout_error&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
        // Still usable: data written now is read.
        co_await f.write("hello");
        co_await f.flush();
        EXPECT_EQ(co_await f.read(5), "hello");
        co_await f.close();
    }());
    EXPECT_EQ(open_fds(), before);
}

TEST_P(backend_io, a_write_that_waits_on_a_full_fifo_is_cancelled) {
    const int before = open_fds();
    run([&]() -> corio::task<> {
        corio::file f = co_await corio::open(fifo_, "r+");
        const std::string block(1 << 20, 'x');  // more than a pipe holds
        bool timed_out = false;
        try {
            auto write_all = [&]() -> corio::task<> { co_await f.write(block); };
            co_await corio::wait_for(write_all(), 50ms);
        } catch (const corio::timeout_error&) {
            timed_out = true;
        }
        EXPECT_TRUE(timed_out);
        // What went into the pipe can be read back; the file still works.
        const std::string got = co_await f.read(10);
        EXPECT_EQ(got, std::string(10, 'x'));
        co_await f.close();
    }());
    EXPECT_EQ(open_fds(), before);
}

TEST_P(backend_io, a_task_cancelled_while_reading_ends_and_releases_its_file) {
    const int before = open_fds();
    run([&]() -> corio::task<> {
        auto reader = [&]() -> corio::task<> {
            corio::file f = co_await corio::open(fifo_, "r+");
            co_await f.read(1);  // never comes
        };
        auto h = corio::spawn(reader());
        co_await corio::sleep(10ms);
        h.cancel();
        bool cancelled = false;
        try {
            co_await h;
        } catch (const corio::cancelled_error&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
    }());
    EXPECT_EQ(open_fds(), before);
}

TEST_P(backend_io, many_waiting_reads_are_cancelled_together) {
    const int before = open_fds();
    run([&]() -> corio::task<> {
        std::vector<corio::task<>> readers;
        for (int i = 0; i < 50; ++i) {
            readers.push_back([](std::string path) -> corio::task<> {
                corio::file f = co_await corio::open(path, "r+");
                co_await f.read(1);
            }(fifo_));
        }
        auto all = [&](corio::timeout_scope&) -> corio::task<> { co_await corio::gather(std::move(readers)); };
        co_await corio::with(corio::move_on_after(50ms), all);
    }());
    EXPECT_EQ(open_fds(), before);
}

}  // namespace
