// corio::fs: path operations as ring operations (io_uring) or pool jobs (epoll).
#include <corio/fs/operations.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include <corio/detail/io_await.hpp>
#include <corio/fs/file.hpp>
#include <corio/tasks/to_thread.hpp>
#include <corio/context/with.hpp>

namespace corio::fs {

namespace {

[[noreturn]] void fail(const char* operation, const std::filesystem::path& path, int error) {
    throw std::filesystem::filesystem_error(operation, path, std::error_code(error, std::generic_category()));
}

std::filesystem::file_type type_of(std::uint32_t mode) noexcept {
    using std::filesystem::file_type;
    switch (mode & S_IFMT) {
        case S_IFREG: return file_type::regular;
        case S_IFDIR: return file_type::directory;
        case S_IFLNK: return file_type::symlink;
        case S_IFBLK: return file_type::block;
        case S_IFCHR: return file_type::character;
        case S_IFIFO: return file_type::fifo;
        case S_IFSOCK: return file_type::socket;
        default: return file_type::unknown;
    }
}

std::chrono::system_clock::time_point time_of(const statx_timestamp& t) noexcept {
    return std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
        std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec)));
}

// statx of `path`; 0 or -errno.
task<std::int64_t> raw_stat(const std::filesystem::path& path, struct statx& into) {
    detail::io_await op("fs::stat");
    op.code = detail::io_opcode::statx;
    op.fd = AT_FDCWD;
    op.path = path.c_str();
    op.flags = AT_STATX_SYNC_AS_STAT;
    op.mode = STATX_BASIC_STATS;
    op.statx_buffer = &into;
    co_return co_await op;
}

task<std::int64_t> path_op(detail::io_opcode code, const char* operation, const std::filesystem::path& path,
                           int flags, std::uint32_t mode) {
    detail::io_await op(operation);
    op.code = code;
    op.fd = AT_FDCWD;
    op.path = path.c_str();
    op.flags = flags;
    op.mode = mode;
    co_return co_await op;
}

}  // namespace

task<file_status> stat(std::filesystem::path path) {
    struct statx stx {};
    if (const std::int64_t r = co_await raw_stat(path, stx); r < 0) fail("fs::stat", path, static_cast<int>(-r));
    file_status s;
    s.type = type_of(stx.stx_mode);
    s.permissions = static_cast<std::filesystem::perms>(stx.stx_mode & 07777);
    s.size = stx.stx_size;
    s.inode = stx.stx_ino;
    s.links = stx.stx_nlink;
    s.uid = stx.stx_uid;
    s.gid = stx.stx_gid;
    s.accessed = time_of(stx.stx_atime);
    s.modified = time_of(stx.stx_mtime);
    s.changed = time_of(stx.stx_ctime);
    co_return s;
}

task<bool> exists(std::filesystem::path path) {
    struct statx stx {};
    co_return co_await raw_stat(path, stx) == 0;
}

task<bool> is_file(std::filesystem::path path) {
    struct statx stx {};
    co_return co_await raw_stat(path, stx) == 0 && S_ISREG(stx.stx_mode);
}

task<bool> is_dir(std::filesystem::path path) {
    struct statx stx {};
    co_return co_await raw_stat(path, stx) == 0 && S_ISDIR(stx.stx_mode);
}

task<> remove(std::filesystem::path path) {
    const std::int64_t r = co_await path_op(detail::io_opcode::unlinkat, "fs::remove", path, 0, 0);
    if (r < 0) fail("fs::remove", path, static_cast<int>(-r));
}

task<> rmdir(std::filesystem::path path) {
    const std::int64_t r = co_await path_op(detail::io_opcode::unlinkat, "fs::rmdir", path, AT_REMOVEDIR, 0);
    if (r < 0) fail("fs::rmdir", path, static_cast<int>(-r));
}

task<> mkdir(std::filesystem::path path, std::filesystem::perms mode) {
    const std::int64_t r =
        co_await path_op(detail::io_opcode::mkdirat, "fs::mkdir", path, 0, static_cast<std::uint32_t>(mode));
    if (r < 0) fail("fs::mkdir", path, static_cast<int>(-r));
}

task<> makedirs(std::filesystem::path path, bool exist_ok, std::filesystem::perms mode) {
    // Python's os.makedirs: parents first; the leaf existing is an error
    // unless exist_ok (and then it must be a directory).
    const std::filesystem::path target = path.lexically_normal();
    std::filesystem::path partial;
    std::filesystem::path last;
    for (const auto& part : target) {
        if (part.empty()) continue;
        partial /= part;
        last = partial;
    }
    partial.clear();
    for (const auto& part : target) {
        if (part.empty()) continue;
        partial /= part;
        if (partial == target.root_path() || part == "." || part == "..") continue;
        const bool leaf = partial == last;
        const std::int64_t r =
            co_await path_op(detail::io_opcode::mkdirat, "fs::makedirs", partial, 0, static_cast<std::uint32_t>(mode));
        if (r == 0) continue;
        if (r == -EEXIST) {
            if (leaf && !exist_ok) fail("fs::makedirs", path, EEXIST);
            if (!co_await is_dir(partial)) fail("fs::makedirs", partial, leaf ? EEXIST : ENOTDIR);
            continue;
        }
        fail("fs::makedirs", partial, static_cast<int>(-r));
    }
}

task<> rename(std::filesystem::path from, std::filesystem::path to) {
    detail::io_await op("fs::rename");
    op.code = detail::io_opcode::renameat;
    op.fd = AT_FDCWD;
    op.path = from.c_str();
    op.fd2 = AT_FDCWD;
    op.path2 = to.c_str();
    const std::int64_t r = co_await op;
    if (r < 0)
        throw std::filesystem::filesystem_error("fs::rename", from, to,
                                                std::error_code(static_cast<int>(-r), std::generic_category()));
}

task<std::vector<std::string>> listdir(std::filesystem::path path) {
    // The ring has no getdents: a pool thread reads the directory.
    auto list = [](const std::filesystem::path& p) -> std::vector<std::string> {
        DIR* dir = ::opendir(p.c_str());
        if (dir == nullptr) fail("fs::listdir", p, errno);
        std::vector<std::string> names;
        errno = 0;
        while (const dirent* e = ::readdir(dir)) {
            const std::string_view name = e->d_name;
            if (name != "." && name != "..") names.emplace_back(name);
        }
        const int error = errno;
        ::closedir(dir);
        if (error != 0) fail("fs::listdir", p, error);
        return names;
    };
    co_return co_await to_thread(list, std::move(path));
}

task<std::string> read_file(std::filesystem::path path) {
    auto read_all = [](file& f) { return f.read(); };
    co_return co_await with(open(std::move(path), "rb"), read_all);
}

task<> write_file(std::filesystem::path path, std::string data) {
    auto write_all = [&data](file& f) { return f.write(data); };
    co_await with(open(std::move(path), "wb"), write_all);
}

}  // namespace corio::fs
