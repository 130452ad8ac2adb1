// corio/fs/file.hpp: open() and file, aiofiles for C++ (docs/reference.md, Files).
//
//   co_await corio::with(corio::open("example.txt", "w"), [](corio::file& f) {
//       return f.write("Hello, world!");
//   });
//   corio::file f = co_await corio::open("example.txt");   // close it yourself
//   std::string text = co_await f.read();
//   co_await f.close();
//
// Modes are Python's (r w a x, +, b or t); bytes are std::string either way
// and nothing is translated. A file is buffered as Python's is: reads smaller
// than the 64 KiB buffer go through it (so readline and lines cost little
// more than block reads), larger ones go straight into the caller's memory;
// small writes gather in the buffer until flush(), seek(), a read, close(),
// or 64 KiB. On io_uring every read, write, open, close, statx and fsync is
// one ring operation; on epoll they try the kernel's non-blocking fast path
// and otherwise run on the loop's thread pool.
//
// Every member that touches the kernel is a task. Failures are
// std::filesystem::filesystem_error naming the call, with the path and errno
// (what(): "filesystem error: file::read: Bad file descriptor [/tmp/x]",
// path1() the path); using a closed file ("file::read '/tmp/x': the file is
// closed"), or one file from two tasks at once, is std::logic_error. A read or write cancelled in flight leaves the file usable
// and its data intact (the position is unspecified: seek before going on).
// `close()` twice is harmless. A file destroyed without close() is flushed and
// closed synchronously, and debug mode reports it.
//
// The data given to write()/pwrite() is read when the task runs, so it must
// live until the write is awaited (as with any buffer handed to the kernel).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <corio/async_generator.hpp>
#include <corio/detail/read_buffer.hpp>
#include <corio/detail/source_location.hpp>
#include <corio/task.hpp>

namespace corio {

/// A parsed open() mode ("r", "rb", "w+", "a", "x", ...).
struct open_mode {
    int flags = 0;  // O_* for openat
    bool readable = false;
    bool writable = false;
    bool append = false;

    /// Python's rules; anything Python rejects is std::invalid_argument
    /// naming the mode.
    static open_mode parse(std::string_view mode);
};

class file {
public:
    static constexpr std::size_t buffer_size = 64 * 1024;

    file() noexcept = default;  // closed
    file(file&& other) noexcept;
    file& operator=(file&& other) noexcept;
    file(const file&) = delete;
    file& operator=(const file&) = delete;
    ~file();

    /// All that is left, to EOF.
    task<std::string> read();
    /// `n` bytes, fewer only when EOF comes first.
    task<std::string> read(std::size_t n);
    /// Fills `into`; short only at EOF.
    task<std::size_t> read_into(std::span<std::byte> into);
    task<std::size_t> read_into(std::span<char> into);
    /// One line with its '\n'; the last line without one as it is; "" at EOF.
    task<std::string> readline();
    /// The lines readline() would give, until EOF, as views into the file's
    /// buffer: no allocation per line. A view is valid until the next line
    /// is asked for; make a std::string of it to keep it. The file must
    /// outlive the generator.
    async_generator<std::string_view> lines();

    /// Writes all of `data` (through the buffer when it is small).
    task<> write(std::string_view data);
    /// `n` bytes at `offset` (fewer at EOF); the position does not move.
    task<std::string> pread(std::size_t n, std::int64_t offset);
    /// All of `data` at `offset`; the position does not move.
    task<> pwrite(std::string_view data, std::int64_t offset);

    /// whence: SEEK_SET, SEEK_CUR or SEEK_END; gives the new position.
    task<std::int64_t> seek(std::int64_t offset, int whence = SEEK_SET);
    task<std::int64_t> tell();
    /// Hands buffered writes to the kernel.
    task<> flush();
    /// flush(), then fsync: the data is on the device.
    task<> sync();
    /// Cuts (or extends) the file to `size` bytes; the position does not move.
    task<> truncate(std::int64_t size);
    /// The size in bytes, buffered writes included.
    task<std::int64_t> size();
    /// Flushes and closes; harmless when already closed.
    task<> close();

    bool closed() const noexcept { return fd_ < 0; }
    int fileno() const noexcept { return fd_; }
    const std::filesystem::path& path() const noexcept { return path_; }
    const open_mode& mode() const noexcept { return mode_; }

    // For open(): takes ownership of a descriptor just opened, whose fstat
    // gave `st_mode` and `size`.
    file(int fd, std::filesystem::path path, open_mode mode, std::uint32_t st_mode, std::int64_t size,
         corio::source_location where);

private:
    struct use;
    use begin(const char* operation, bool reading, bool writing);
    task<std::size_t> read_into(std::span<char> into, const char* operation);
    task<std::size_t> kernel_read(char* into, std::size_t n, const char* operation);
    task<> kernel_write(const char* data, std::size_t n, std::int64_t offset, const char* operation);
    task<> flush_buffer(const char* operation);
    task<bool> fill_buffer(const char* operation);
    task<bool> read_line_into(std::string& line);
    char* block();
    void drop_read_ahead();
    void flush_and_close_now() noexcept;
    std::int64_t kernel_position(const char* operation);
    [[noreturn]] void fail(const char* operation, int error) const;

    int fd_ = -1;
    bool positional_ = false;  // a regular file not in append mode: I/O at pos_
    bool pollable_ = false;    // a pipe, FIFO, terminal: readiness can be waited for
    bool busy_ = false;
    open_mode mode_;
    std::filesystem::path path_;
    std::int64_t pos_ = 0;  // positional: where the next kernel read or write goes
    std::int64_t size_at_open_ = -1;  // sizes read()'s string once, without another fstat
    // The read-ahead; while it is empty its block holds the pending writes
    // (write_size_ bytes at the front): a file reads or writes through one
    // 64 KiB block, never both at once.
    detail::read_buffer in_;
    std::size_t write_size_ = 0;
    corio::source_location where_;
};

namespace detail {
task<file> open_file(std::filesystem::path path, open_mode mode, corio::source_location where);
}

/// What open() gives: an async context manager (aenter: file&, aexit:
/// close) that can also be awaited for a file you close yourself.
class file_opener {
public:
    file_opener(std::filesystem::path path, open_mode mode, corio::source_location where)
        : path_(std::move(path)), mode_(mode), where_(where) {}

    task<file&> aenter();
    task<> aexit(std::exception_ptr error);

    auto operator co_await() && {
        pending_.emplace(detail::open_file(std::move(path_), mode_, where_));
        return pending_->operator co_await();
    }

private:
    std::filesystem::path path_;
    open_mode mode_;
    corio::source_location where_;
    std::optional<file> file_;
    std::optional<task<file>> pending_;
};

/// aiofiles.open. An unknown mode is std::invalid_argument, thrown here.
file_opener open(std::filesystem::path path, std::string_view mode = "r",
                 corio::source_location where = corio::source_location::current());

}  // namespace corio
