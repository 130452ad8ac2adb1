// corio::file and corio::open: buffered files over the loop's backend.
//
// Regular files not in append mode are read and written at explicit offsets
// (pos_), so the kernel's file position is never consulted and a cancelled
// operation cannot leave it ahead of what we believe. Append mode, pipes and
// devices use the kernel's position (offset -1).
#include <corio/fs/file.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <system_error>

#include <corio/detail/io_await.hpp>
#include <corio/errors.hpp>

namespace corio {

namespace {

// One kernel operation moves at most this much (Linux caps it near 2 GiB).
constexpr std::size_t max_chunk = std::size_t{1} << 30;

// Fills `op` for one read or write of at most max_chunk bytes. `pollable`:
// a pipe or terminal, which the epoll backend may wait on (regular files go
// straight to its pool when they would block).
void prepare_rw(detail::io_await& op, detail::io_opcode code, int fd, bool pollable, const char* buffer,
                std::size_t n, std::int64_t offset) noexcept {
    op.code = code;
    op.fd = fd;
    op.buffer = const_cast<char*>(buffer);
    op.length = static_cast<std::uint32_t>(std::min(n, max_chunk));
    op.offset = offset;
    op.may_poll = pollable;
}

[[noreturn]] void throw_mode(std::string_view mode, const char* why) {
    throw std::invalid_argument("open: invalid mode '" + std::string(mode) + "' (" + why + ")");
}

}  // namespace

open_mode open_mode::parse(std::string_view mode) {
    int kind = 0;  // 'r', 'w', 'a' or 'x'
    bool plus = false, binary = false, text = false;
    for (char c : mode) {
        switch (c) {
            case 'r':
            case 'w':
            case 'a':
            case 'x':
                if (kind != 0) throw_mode(mode, "exactly one of r, w, a, x");
                kind = c;
                break;
            case '+':
                if (plus) throw_mode(mode, "'+' twice");
                plus = true;
                break;
            case 'b':
                if (binary || text) throw_mode(mode, "'b' twice, or with 't'");
                binary = true;
                break;
            case 't':
                if (binary || text) throw_mode(mode, "'t' twice, or with 'b'");
                text = true;
                break;
            default: throw_mode(mode, "unknown character");
        }
    }
    if (kind == 0) throw_mode(mode, "exactly one of r, w, a, x");
    open_mode m;
    m.readable = kind == 'r' || plus;
    m.writable = kind != 'r' || plus;
    m.append = kind == 'a';
    m.flags = O_CLOEXEC | (plus ? O_RDWR : kind == 'r' ? O_RDONLY : O_WRONLY);
    if (kind == 'w') m.flags |= O_CREAT | O_TRUNC;
    if (kind == 'a') m.flags |= O_CREAT | O_APPEND;
    if (kind == 'x') m.flags |= O_CREAT | O_EXCL;
    return m;
}

// ------------------------------------------------------------ lifetime

file::file(int fd, std::filesystem::path path, open_mode mode, std::uint32_t st_mode, std::int64_t size,
           corio::source_location where)
    : fd_(fd),
      positional_(S_ISREG(st_mode) && !mode.append),
      pollable_(!S_ISREG(st_mode) && !S_ISBLK(st_mode) && !S_ISDIR(st_mode)),
      mode_(mode),
      path_(std::move(path)),
      size_at_open_(S_ISREG(st_mode) ? size : -1),
      where_(where) {}

file::file(file&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      positional_(other.positional_),
      pollable_(other.pollable_),
      busy_(std::exchange(other.busy_, false)),
      mode_(other.mode_),
      path_(std::move(other.path_)),
      pos_(other.pos_),
      size_at_open_(other.size_at_open_),
      in_(std::move(other.in_)),
      write_size_(std::exchange(other.write_size_, 0)),
      where_(other.where_) {}

file& file::operator=(file&& other) noexcept {
    if (this != &other) {
        flush_and_close_now();
        fd_ = std::exchange(other.fd_, -1);
        positional_ = other.positional_;
        pollable_ = other.pollable_;
        busy_ = std::exchange(other.busy_, false);
        mode_ = other.mode_;
        path_ = std::move(other.path_);
        pos_ = other.pos_;
        size_at_open_ = other.size_at_open_;
        in_ = std::move(other.in_);
        write_size_ = std::exchange(other.write_size_, 0);
        where_ = other.where_;
    }
    return *this;
}

file::~file() {
    if (fd_ < 0) return;
    if (detail::debug_enabled()) {
        std::fprintf(stderr, "corio debug: file '%s' destroyed without close(); closed synchronously", path_.c_str());
        if (where_.line() != 0)
            std::fprintf(stderr, " (opened at %s:%u)", where_.file_name(), static_cast<unsigned>(where_.line()));
        std::fprintf(stderr, "\n");
    }
    flush_and_close_now();
}

// Blocking: only for a file dropped without close(), or a close() that was
// cancelled, where losing buffered data would be worse than a short block.
void file::flush_and_close_now() noexcept {
    if (fd_ < 0) return;
    std::size_t done = 0;
    while (done < write_size_) {
        const ssize_t n = positional_ ? ::pwrite(fd_, in_.block() + done, write_size_ - done, pos_)
                                      : ::write(fd_, in_.block() + done, write_size_ - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            std::fprintf(stderr, "corio: file '%s': %zu buffered bytes lost on close: %s\n", path_.c_str(),
                         write_size_ - done, std::strerror(errno));
            break;
        }
        done += static_cast<std::size_t>(n);
        pos_ += n;
    }
    write_size_ = 0;
    ::close(std::exchange(fd_, -1));
}

// ------------------------------------------------------------ helpers

void file::fail(const char* operation, int error) const {
    throw std::filesystem::filesystem_error(operation, path_, std::error_code(error, std::generic_category()));
}

// Marks the file busy for one operation: a second task using the same file
// at once, or a closed file, is a logic error.
struct file::use {
    file* f;
    explicit use(file* owner) noexcept : f(owner) {}
    use(use&& other) noexcept : f(std::exchange(other.f, nullptr)) {}
    ~use() {
        if (f != nullptr) f->busy_ = false;
    }
};

file::use file::begin(const char* operation, bool reading, bool writing) {
    if (fd_ < 0)
        throw std::logic_error(std::string(operation) + " '" + path_.string() + "': the file is closed");
    if (busy_)
        throw std::logic_error(std::string(operation) + " '" + path_.string() +
                               "': in use by another operation (a file serves one task at a time)");
    if (reading && !mode_.readable) fail(operation, EBADF);
    if (writing && !mode_.writable) fail(operation, EBADF);
    busy_ = true;
    return use(this);
}

std::int64_t file::kernel_position(const char* operation) {
    if (positional_) return pos_;
    const off_t at = ::lseek(fd_, 0, SEEK_CUR);
    if (at < 0) fail(operation, errno);
    return at;
}

// One read at the position; advances it. 0: EOF.
task<std::size_t> file::kernel_read(char* into, std::size_t n, const char* operation) {
    detail::io_await op(operation);
    prepare_rw(op, detail::io_opcode::read, fd_, pollable_, into, n, positional_ ? pos_ : -1);
    const std::int64_t r = co_await op;
    if (r < 0) fail(operation, static_cast<int>(-r));
    pos_ += r;
    co_return static_cast<std::size_t>(r);
}

// Writes all of it: at `offset` when it is >= 0 (pwrite: the position does
// not move), else at the position, advancing it as the kernel takes it.
task<> file::kernel_write(const char* data, std::size_t n, std::int64_t offset, const char* operation) {
    const bool at_position = offset < 0;
    while (n > 0) {
        detail::io_await op(operation);
        prepare_rw(op, detail::io_opcode::write, fd_, pollable_, data, n,
                   at_position ? (positional_ ? pos_ : -1) : offset);
        const std::int64_t r = co_await op;
        if (r < 0) fail(operation, static_cast<int>(-r));
        if (r == 0) fail(operation, EIO);
        if (at_position) pos_ += r;
        else offset += r;
        data += r;
        n -= static_cast<std::size_t>(r);
    }
}

// Hands the write buffer to the kernel. What a cancelled write left stays
// buffered, at the front, so nothing is lost or written twice.
task<> file::flush_buffer(const char* operation) {
    while (write_size_ > 0) {
        detail::io_await op(operation);
        prepare_rw(op, detail::io_opcode::write, fd_, pollable_, in_.block(), write_size_, positional_ ? pos_ : -1);
        const std::int64_t r = co_await op;
        if (r < 0) fail(operation, static_cast<int>(-r));
        if (r == 0) fail(operation, EIO);
        pos_ += r;
        const auto wrote = static_cast<std::size_t>(r);
        std::memmove(in_.block(), in_.block() + wrote, write_size_ - wrote);
        write_size_ -= wrote;
    }
}

// Before writing or seeking: the read-ahead is given back, so the next kernel
// operation happens where the reader is.
void file::drop_read_ahead() {
    const std::size_t unread = in_.size();
    in_.clear();
    if (unread == 0) return;
    if (positional_) pos_ -= static_cast<std::int64_t>(unread);
    else if (::lseek(fd_, -static_cast<off_t>(unread), SEEK_CUR) < 0 && errno != ESPIPE)
        fail("file::seek", errno);
}

// The 64 KiB block, made on first use.
char* file::block() {
    if (!in_.allocated()) in_.reserve(buffer_size, buffer_size);
    return in_.block();
}

// Refills the read-ahead; false at EOF.
task<bool> file::fill_buffer(const char* operation) {
    char* into = block();
    if (write_size_ > 0) co_await flush_buffer(operation);
    in_.clear();
    const std::size_t n = co_await kernel_read(into, buffer_size, operation);
    in_.commit(n);
    co_return n > 0;
}

// ------------------------------------------------------------ reading

task<std::size_t> file::read_into(std::span<char> into) { return read_into(into, "file::read_into"); }

// read_into and read(n), each naming itself in its errors.
task<std::size_t> file::read_into(std::span<char> into, const char* operation) {
    auto guard = begin(operation, true, false);
    // What the read-ahead holds comes first.
    std::size_t done = in_.take_into(into.data(), into.size());
    if (done < into.size() && write_size_ > 0) co_await flush_buffer(operation);
    while (done < into.size()) {
        const std::size_t want = into.size() - done;
        if (want < buffer_size) {  // small: through the buffer, one kernel read per 64 KiB
            if (!co_await fill_buffer(operation)) break;
            done += in_.take_into(into.data() + done, want);
        } else {  // large: straight into the caller's memory
            const std::size_t n = co_await kernel_read(into.data() + done, want, operation);
            if (n == 0) break;
            done += n;
        }
    }
    co_return done;
}

task<std::size_t> file::read_into(std::span<std::byte> into) {
    return read_into(std::span<char>(reinterpret_cast<char*>(into.data()), into.size()));
}

task<std::string> file::read(std::size_t n) {
    std::string out;
    out.resize(n);
    const std::size_t got = co_await read_into(std::span<char>(out.data(), n), "file::read");
    out.resize(got);
    co_return out;
}

task<std::string> file::read() {
    auto guard = begin("file::read", true, false);
    if (write_size_ > 0) co_await flush_buffer("file::read");
    std::string out(in_.view());
    in_.clear();
    // Size the string from the file's size when it has one (the size seen at
    // open serves the first read: a hint, since the file may still grow),
    // one byte more so that EOF is usually seen by the second read.
    std::size_t capacity = buffer_size;
    std::int64_t size = -1;
    if (positional_) {
        size = std::exchange(size_at_open_, -1);
        if (size < 0) {
            struct stat st {};
            if (::fstat(fd_, &st) == 0) size = st.st_size;
        }
        if (size >= 0) capacity = static_cast<std::size_t>(std::max<std::int64_t>(size - pos_, 0)) + 1;
    }
    std::size_t used = out.size();
    out.resize(used + capacity);
    for (;;) {
        if (used == out.size()) out.resize(out.size() * 2);
        const std::size_t want = out.size() - used;
        const std::size_t n = co_await kernel_read(out.data() + used, want, "file::read");
        if (n == 0) break;
        used += n;
        // A short read that reaches the size the file had before it is EOF
        // at that moment: had the file grown since, this read, which asked
        // for a byte more, would have been full. That saves the read that
        // would only say 0.
        if (size >= 0 && n < want && pos_ >= size) break;
    }
    out.resize(used);
    co_return out;
}

// Appends the next line to `line`; false at EOF with nothing read.
task<bool> file::read_line_into(std::string& line) {
    auto guard = begin("file::readline", true, false);
    bool any = false;
    for (;;) {
        if (!in_.empty()) {
            const std::size_t n = in_.line_length();
            const std::size_t take = n > 0 ? n : in_.size();
            line.append(in_.data(), take);
            in_.consume(take);
            any = true;
            if (n > 0) co_return true;
        }
        if (!co_await fill_buffer("file::readline")) co_return any;
    }
}

task<std::string> file::readline() {
    std::string line;
    co_await read_line_into(line);
    co_return line;
}

// A line the read-ahead holds whole is yielded as a view of it, consumed at
// once (taking does not move the bytes; the next fill reuses them). Only a
// line that crosses the end of the read-ahead is copied, into `spill`.
async_generator<std::string_view> file::lines() {
    std::string spill;
    for (;;) {
        if (busy_ || fd_ < 0) {
            begin("file::lines", true, false);  // throws the right error
        }
        std::string_view line;
        if (const std::size_t n = in_.line_length(); n > 0) {
            line = std::string_view(in_.data(), n);
            in_.consume(n);
        } else {
            spill.clear();
            if (!co_await read_line_into(spill)) co_return;
            line = spill;
        }
        co_yield line;
    }
}

// ------------------------------------------------------------ writing

task<> file::write(std::string_view data) {
    auto guard = begin("file::write", false, true);
    size_at_open_ = -1;
    if (!in_.empty()) drop_read_ahead();
    if (write_size_ + data.size() <= buffer_size && data.size() < buffer_size) {
        std::memcpy(block() + write_size_, data.data(), data.size());
        write_size_ += data.size();
        if (write_size_ == buffer_size) co_await flush_buffer("file::write");
        co_return;
    }
    if (write_size_ > 0) co_await flush_buffer("file::write");
    if (data.size() < buffer_size) {
        std::memcpy(block(), data.data(), data.size());
        write_size_ = data.size();
        co_return;
    }
    co_await kernel_write(data.data(), data.size(), -1, "file::write");
}

task<> file::flush() {
    auto guard = begin("file::flush", false, false);
    if (write_size_ > 0) co_await flush_buffer("file::flush");
}

task<> file::sync() {
    auto guard = begin("file::sync", false, false);
    if (write_size_ > 0) co_await flush_buffer("file::sync");
    detail::io_await op("file::sync");
    op.code = detail::io_opcode::fsync;
    op.fd = fd_;
    const std::int64_t r = co_await op;
    if (r < 0) fail("file::sync", static_cast<int>(-r));
}

// ------------------------------------------------------------ positional

task<std::string> file::pread(std::size_t n, std::int64_t offset) {
    auto guard = begin("file::pread", true, false);
    if (offset < 0) fail("file::pread", EINVAL);
    if (write_size_ > 0) co_await flush_buffer("file::pread");
    std::string out;
    out.resize(n);
    std::size_t done = 0;
    while (done < n) {
        detail::io_await op("file::pread");
        prepare_rw(op, detail::io_opcode::read, fd_, pollable_, out.data() + done, n - done,
                   offset + static_cast<std::int64_t>(done));
        const std::int64_t r = co_await op;
        if (r < 0) fail("file::pread", static_cast<int>(-r));
        if (r == 0) break;
        done += static_cast<std::size_t>(r);
    }
    out.resize(done);
    co_return out;
}

task<> file::pwrite(std::string_view data, std::int64_t offset) {
    auto guard = begin("file::pwrite", false, true);
    if (offset < 0) fail("file::pwrite", EINVAL);
    if (write_size_ > 0) co_await flush_buffer("file::pwrite");
    // The read-ahead may hold what we overwrite.
    if (!in_.empty()) drop_read_ahead();
    co_await kernel_write(data.data(), data.size(), offset, "file::pwrite");
}

task<std::int64_t> file::seek(std::int64_t offset, int whence) {
    auto guard = begin("file::seek", false, false);
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
        throw std::invalid_argument("file::seek: whence " + std::to_string(whence) +
                                    " is not SEEK_SET, SEEK_CUR or SEEK_END");
    if (write_size_ > 0) co_await flush_buffer("file::seek");
    if (positional_) {
        std::int64_t base = 0;
        if (whence == SEEK_CUR) base = pos_ - static_cast<std::int64_t>(in_.size());
        if (whence == SEEK_END) {
            struct stat st {};
            if (::fstat(fd_, &st) != 0) fail("file::seek", errno);
            base = st.st_size;
        }
        if (base + offset < 0) fail("file::seek", EINVAL);
        in_.clear();
        pos_ = base + offset;
        co_return pos_;
    }
    if (whence == SEEK_CUR) offset -= static_cast<std::int64_t>(in_.size());
    in_.clear();
    const off_t at = ::lseek(fd_, offset, whence);
    if (at < 0) fail("file::seek", errno);
    co_return at;
}

task<std::int64_t> file::tell() {
    auto guard = begin("file::tell", false, false);
    co_return kernel_position("file::tell") - static_cast<std::int64_t>(in_.size()) +
        static_cast<std::int64_t>(write_size_);
}

task<> file::truncate(std::int64_t size) {
    auto guard = begin("file::truncate", false, true);
    if (size < 0) fail("file::truncate", EINVAL);
    if (write_size_ > 0) co_await flush_buffer("file::truncate");
    if (!in_.empty()) drop_read_ahead();
    // No ring operation for ftruncate on the kernels we target: it is quick
    // on local filesystems, so it runs here.
    if (::ftruncate(fd_, size) != 0) fail("file::truncate", errno);
}

task<std::int64_t> file::size() {
    auto guard = begin("file::size", false, false);
    struct statx stx {};
    detail::io_await op("file::size");
    op.code = detail::io_opcode::statx;
    op.fd = fd_;
    op.path = "";
    op.flags = AT_EMPTY_PATH;
    op.mode = STATX_SIZE;
    op.statx_buffer = &stx;
    const std::int64_t r = co_await op;
    if (r < 0) fail("file::size", static_cast<int>(-r));
    std::int64_t size = static_cast<std::int64_t>(stx.stx_size);
    if (write_size_ > 0) {
        // Appended data lands at the end, wherever the position is.
        size = mode_.append ? size + static_cast<std::int64_t>(write_size_)
                            : std::max(size, kernel_position("file::size") + static_cast<std::int64_t>(write_size_));
    }
    co_return size;
}

task<> file::close() {
    if (fd_ < 0) co_return;  // closing twice is harmless
    if (busy_) begin("file::close", false, false);  // throws: in use
    busy_ = true;
    std::exception_ptr flush_error;
    try {
        if (write_size_ > 0) co_await flush_buffer("file::close");
    } catch (...) {
        flush_error = std::current_exception();
    }
    busy_ = false;
    if (flush_error) {
        try {
            std::rethrow_exception(flush_error);
        } catch (const cancelled_error&) {
            // Cancelled while flushing: the data still goes out, synchronously.
            flush_and_close_now();
            throw;
        } catch (...) {
            write_size_ = 0;  // the kernel refused it (ENOSPC...): reported below
            ::close(std::exchange(fd_, -1));
            throw;
        }
    }
    in_.clear();
    detail::io_await op("file::close");
    op.code = detail::io_opcode::close;
    op.fd = std::exchange(fd_, -1);
    op.cancellable = false;  // the descriptor is released whatever happens
    op.quick_close = !mode_.writable;
    const std::int64_t r = co_await op;
    if (r < 0 && r != -EINTR) fail("file::close", static_cast<int>(-r));
}

// ------------------------------------------------------------ open

namespace detail {

task<file> open_file(std::filesystem::path path, open_mode mode, corio::source_location where) {
    io_await op("open");
    op.code = io_opcode::openat;
    op.fd = AT_FDCWD;
    op.path = path.c_str();
    op.flags = mode.flags;
    op.mode = 0666;
    const std::int64_t r = co_await op;
    if (r < 0)
        throw std::filesystem::filesystem_error("open", path, std::error_code(static_cast<int>(-r), std::generic_category()));
    const int fd = static_cast<int>(r);
    struct stat st {};
    if (::fstat(fd, &st) != 0) st.st_mode = 0;
    if (S_ISDIR(st.st_mode)) {  // O_RDONLY opens a directory; Python refuses it
        ::close(fd);
        throw std::filesystem::filesystem_error("open", path, std::error_code(EISDIR, std::generic_category()));
    }
    // As Python: an appending file starts at the end, so tell() and size()
    // count from there before the first write reaches the kernel.
    if (mode.append) ::lseek(fd, 0, SEEK_END);
    co_return file(fd, std::move(path), mode, st.st_mode, st.st_size, where);
}

}  // namespace detail

task<file&> file_opener::aenter() {
    if (file_) throw std::logic_error("file_opener::aenter: this opener was already entered");
    file_.emplace(co_await detail::open_file(path_, mode_, where_));
    co_return *file_;
}

task<> file_opener::aexit(std::exception_ptr) {
    if (file_) co_await file_->close();
}

file_opener open(std::filesystem::path path, std::string_view mode, corio::source_location where) {
    return file_opener(std::move(path), open_mode::parse(mode), where);
}

}  // namespace corio
