// corio/fs/operations.hpp: corio::fs, aiofiles.os and pathlib's one-liners
// (docs/reference.md, Files), each a task.
//
//   if (!co_await corio::fs::exists("out")) co_await corio::fs::makedirs("out/logs");
//   co_await corio::fs::write_file("out/logs/a.txt", "hello\n");
//   for (const std::string& name : co_await corio::fs::listdir("out/logs")) ...
//
// On io_uring, stat/remove/rename/mkdir/rmdir are ring operations; on epoll
// they run on the loop's thread pool. listdir runs on the pool on both (the
// ring has no getdents). Failures are std::filesystem::filesystem_error
// naming the call (fs::rename), the path(s) and errno. exists/is_file/is_dir,
// as Python's, give false for a path they cannot stat.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <corio/task.hpp>

namespace corio::fs {

/// Python's os.stat_result, the fields people use.
struct file_status {
    std::filesystem::file_type type = std::filesystem::file_type::none;
    std::filesystem::perms permissions = std::filesystem::perms::none;
    std::uint64_t size = 0;
    std::uint64_t inode = 0;
    std::uint64_t links = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::chrono::system_clock::time_point accessed, modified, changed;
};

/// Follows symbolic links, as os.stat.
task<file_status> stat(std::filesystem::path path);
task<bool> exists(std::filesystem::path path);
task<bool> is_file(std::filesystem::path path);
task<bool> is_dir(std::filesystem::path path);

/// Removes a file (not a directory: EISDIR), as os.remove.
task<> remove(std::filesystem::path path);
/// Replaces `to` if it exists, as os.rename on POSIX.
task<> rename(std::filesystem::path from, std::filesystem::path to);
/// One directory; EEXIST when it exists, ENOENT when its parent does not.
task<> mkdir(std::filesystem::path path, std::filesystem::perms mode = std::filesystem::perms::all);
/// The directory and its missing parents, as os.makedirs.
task<> makedirs(std::filesystem::path path, bool exist_ok = false,
                std::filesystem::perms mode = std::filesystem::perms::all);
/// An empty directory.
task<> rmdir(std::filesystem::path path);
/// The names in a directory, without "." and "..", in the order the
/// filesystem gives them (as os.listdir).
task<std::vector<std::string>> listdir(std::filesystem::path path);

/// The whole file.
task<std::string> read_file(std::filesystem::path path);
/// Creates or truncates `path` and writes `data` (pathlib's write_bytes).
task<> write_file(std::filesystem::path path, std::string data);

}  // namespace corio::fs
