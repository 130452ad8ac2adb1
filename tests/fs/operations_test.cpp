// corio::fs on both backends: stat, exists/is_file/is_dir, remove, rename,
// mkdir, makedirs, rmdir, listdir, read_file and write_file, with the errors
// they give (filesystem_error naming the path(s) and errno).
#include <corio/fs/operations.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <corio/errors.hpp>
#include <corio/run.hpp>
#include <corio/task.hpp>

#include "fs_test_support.hpp"

using namespace std::chrono_literals;

namespace {

using corio_fs_test::all_bytes;
using corio_fs_test::open_fd_count;
using corio_fs_test::slurp;
using corio_fs_test::spit;
namespace stdfs = std::filesystem;

class fs_operations : public corio_fs_test::backend_test {};

using corio_fs_test::contains;
using corio_fs_test::failure_of;
using corio_fs_test::fs_failure;

// A failure with `code` naming `p`.
void expect_failure(const fs_failure& f, int code, const stdfs::path& p, const char* what) {
    EXPECT_TRUE(f.thrown) << what << ": no filesystem_error (" << f.other << ")";
    EXPECT_EQ(f.code, code) << what << ": " << f.what;
    EXPECT_EQ(f.path1, p) << what;
    EXPECT_TRUE(contains(f.what, p.string())) << what << ": " << f.what;
}

// ------------------------------------------------------------ stat and friends

TEST_P(fs_operations, stat_gives_size_type_permissions_and_times) {
    const auto file = path("file.txt");
    const auto sub = path("sub");
    spit(file, std::string(1234, 'x'));
    ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
    ASSERT_EQ(::mkdir(sub.c_str(), 0750), 0);
    ASSERT_EQ(::chmod(sub.c_str(), 0750), 0);
    ASSERT_EQ(::symlink(file.c_str(), path("link").c_str()), 0);
    struct stat expected {};
    ASSERT_EQ(::stat(file.c_str(), &expected), 0);
    std::optional<corio::fs::file_status> f, d, l;
    corio::backend_kind seen = corio::backend_kind::automatic;
    fs_failure missing;
    const auto now = std::chrono::system_clock::now();
    run([&]() -> corio::task<> {
        seen = corio::current_backend();
        f = co_await corio::fs::stat(file);
        d = co_await corio::fs::stat(sub);
        l = co_await corio::fs::stat(path("link"));
        missing = co_await failure_of(corio::fs::stat(path("missing")));
    }());
    EXPECT_EQ(seen, backend());
    ASSERT_TRUE(f && d && l);
    EXPECT_EQ(f->type, stdfs::file_type::regular);
    EXPECT_EQ(f->size, 1234u);
    EXPECT_EQ(f->permissions, static_cast<stdfs::perms>(0640));
    EXPECT_EQ(f->inode, static_cast<std::uint64_t>(expected.st_ino));
    EXPECT_EQ(f->links, 1u);
    EXPECT_EQ(f->uid, expected.st_uid);
    EXPECT_EQ(f->gid, expected.st_gid);
    EXPECT_LT(std::chrono::abs(f->modified - now), 10s);
    EXPECT_LT(std::chrono::abs(f->changed - now), 10s);
    EXPECT_LT(std::chrono::abs(f->accessed - now), 10s);
    EXPECT_EQ(f->modified.time_since_epoch(),
              std::chrono::duration_cast<std::chrono::system_clock::duration>(
                  std::chrono::seconds(expected.st_mtim.tv_sec) + std::chrono::nanoseconds(expected.st_mtim.tv_nsec)));
    EXPECT_EQ(d->type, stdfs::file_type::directory);
    EXPECT_EQ(d->permissions, static_cast<stdfs::perms>(0750));
    EXPECT_EQ(l->type, stdfs::file_type::regular);  // follows the link
    EXPECT_EQ(l->inode, f->inode);
    expect_failure(missing, ENOENT, path("missing"), "stat of a missing path");
}

TEST_P(fs_operations, exists_is_file_is_dir) {
    const auto file = path("file");
    const auto sub = path("dir");
    spit(file, "x");
    ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0);
    std::vector<bool> got;
    run([&]() -> corio::task<> {
        const std::vector<stdfs::path> paths{file, sub, path("missing"), file / "below_a_file", dir()};
        for (const auto& p : paths) {
            got.push_back(co_await corio::fs::exists(p));
            got.push_back(co_await corio::fs::is_file(p));
            got.push_back(co_await corio::fs::is_dir(p));
        }
    }());
    const std::vector<bool> expected{
        true,  true,  false,  // file
        true,  false, true,   // directory
        false, false, false,  // missing
        false, false, false,  // under a file: ENOTDIR
        true,  false, true,   // the temporary directory
    };
    EXPECT_EQ(got, expected);
}

// ------------------------------------------------------------ remove and rename

TEST_P(fs_operations, remove_deletes_a_file_and_names_the_path_when_it_fails) {
    const auto file = path("doomed");
    const auto sub = path("a_dir");
    spit(file, "x");
    ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0);
    bool gone = false;
    fs_failure missing, directory;
    run([&]() -> corio::task<> {
        co_await corio::fs::remove(file);
        gone = !co_await corio::fs::exists(file);
        missing = co_await failure_of(corio::fs::remove(file));
        directory = co_await failure_of(corio::fs::remove(sub));
    }());
    EXPECT_TRUE(gone);
    EXPECT_FALSE(stdfs::exists(file));
    expect_failure(missing, ENOENT, file, "remove of a missing file");
    expect_failure(directory, EISDIR, sub, "remove of a directory");
    EXPECT_TRUE(stdfs::is_directory(sub));
}

TEST_P(fs_operations, rename_replaces_the_target_and_names_both_paths_when_it_fails) {
    const auto from = path("from"), to = path("to");
    spit(from, "new content");
    spit(to, "old content to be replaced");
    fs_failure missing;
    run([&]() -> corio::task<> {
        co_await corio::fs::rename(from, to);
        missing = co_await failure_of(corio::fs::rename(path("nowhere"), path("elsewhere")));
    }());
    EXPECT_FALSE(stdfs::exists(from));
    EXPECT_EQ(slurp(to), "new content");
    expect_failure(missing, ENOENT, path("nowhere"), "rename of a missing file");
    EXPECT_EQ(missing.path2, path("elsewhere"));
    EXPECT_TRUE(contains(missing.what, path("elsewhere").string())) << missing.what;
    EXPECT_FALSE(stdfs::exists(path("elsewhere")));
}

TEST_P(fs_operations, rename_moves_a_directory) {
    const auto from = path("d1"), to = path("d2");
    ASSERT_EQ(::mkdir(from.c_str(), 0755), 0);
    spit(from / "inside", "x");
    run([&]() -> corio::task<> { co_await corio::fs::rename(from, to); }());
    EXPECT_FALSE(stdfs::exists(from));
    EXPECT_EQ(slurp(to / "inside"), "x");
}

// ------------------------------------------------------------ directories

TEST_P(fs_operations, mkdir_creates_one_directory_or_says_why_not) {
    const auto made = path("made");
    const auto private_dir = path("private");
    fs_failure exists, no_parent, under_file;
    spit(path("file"), "x");
    run([&]() -> corio::task<> {
        co_await corio::fs::mkdir(made);
        co_await corio::fs::mkdir(private_dir, stdfs::perms::owner_all);
        exists = co_await failure_of(corio::fs::mkdir(made));
        no_parent = co_await failure_of(corio::fs::mkdir(path("no/such/parent")));
        under_file = co_await failure_of(corio::fs::mkdir(path("file") / "sub"));
    }());
    EXPECT_TRUE(stdfs::is_directory(made));
    struct stat st {};
    ASSERT_EQ(::stat(private_dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    expect_failure(exists, EEXIST, made, "mkdir of an existing directory");
    expect_failure(no_parent, ENOENT, path("no/such/parent"), "mkdir under a missing parent");
    expect_failure(under_file, ENOTDIR, path("file") / "sub", "mkdir under a file");
    EXPECT_FALSE(stdfs::exists(path("no")));
}

TEST_P(fs_operations, makedirs_creates_the_missing_parents) {
    const auto nested = path("a/b/c/d");
    fs_failure again, leaf_is_file, file_in_the_way, leaf_file_exist_ok;
    bool exist_ok_fine = false, trailing_fine = false, dotted_fine = false;
    spit(path("plain_file"), "x");
    run([&]() -> corio::task<> {
        co_await corio::fs::makedirs(nested);
        again = co_await failure_of(corio::fs::makedirs(nested));
        co_await corio::fs::makedirs(nested, /*exist_ok=*/true);
        exist_ok_fine = true;
        co_await corio::fs::makedirs(path("a/b/e"), false);  // parents exist, leaf does not
        co_await corio::fs::makedirs(path("t1/t2/"));
        trailing_fine = true;
        co_await corio::fs::makedirs(path("x/./y/../z"));
        dotted_fine = true;
        leaf_is_file = co_await failure_of(corio::fs::makedirs(path("plain_file")));
        leaf_file_exist_ok = co_await failure_of(corio::fs::makedirs(path("plain_file"), true));
        file_in_the_way = co_await failure_of(corio::fs::makedirs(path("plain_file/sub/leaf")));
    }());
    EXPECT_TRUE(stdfs::is_directory(nested));
    EXPECT_TRUE(stdfs::is_directory(path("a/b/e")));
    EXPECT_TRUE(exist_ok_fine);
    EXPECT_TRUE(trailing_fine);
    EXPECT_TRUE(stdfs::is_directory(path("t1/t2")));
    EXPECT_TRUE(dotted_fine);
    EXPECT_TRUE(stdfs::is_directory(path("x/z")));
    expect_failure(again, EEXIST, nested, "makedirs of an existing directory");
    EXPECT_TRUE(leaf_is_file.thrown);
    EXPECT_EQ(leaf_is_file.code, EEXIST) << leaf_is_file.what;
    EXPECT_TRUE(leaf_file_exist_ok.thrown) << "exist_ok accepts only a directory";
    EXPECT_EQ(leaf_file_exist_ok.code, EEXIST) << leaf_file_exist_ok.what;
    EXPECT_TRUE(file_in_the_way.thrown);
    EXPECT_EQ(file_in_the_way.code, ENOTDIR) << file_in_the_way.what;
    EXPECT_TRUE(contains(file_in_the_way.what, path("plain_file").string())) << file_in_the_way.what;
    EXPECT_EQ(slurp(path("plain_file")), "x");
}

TEST_P(fs_operations, rmdir_removes_only_an_empty_directory) {
    const auto empty = path("empty"), full = path("full");
    ASSERT_EQ(::mkdir(empty.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(full.c_str(), 0755), 0);
    spit(full / "x", "x");
    spit(path("file"), "x");
    fs_failure not_empty, missing, a_file;
    run([&]() -> corio::task<> {
        co_await corio::fs::rmdir(empty);
        not_empty = co_await failure_of(corio::fs::rmdir(full));
        missing = co_await failure_of(corio::fs::rmdir(empty));
        a_file = co_await failure_of(corio::fs::rmdir(path("file")));
    }());
    EXPECT_FALSE(stdfs::exists(empty));
    expect_failure(not_empty, ENOTEMPTY, full, "rmdir of a non-empty directory");
    expect_failure(missing, ENOENT, empty, "rmdir of a missing directory");
    expect_failure(a_file, ENOTDIR, path("file"), "rmdir of a file");
    EXPECT_TRUE(stdfs::exists(full / "x"));
}

TEST_P(fs_operations, listdir_gives_the_names_without_dot_and_dot_dot) {
    const auto listed = path("listed"), empty = path("empty");
    ASSERT_EQ(::mkdir(listed.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(empty.c_str(), 0755), 0);
    std::vector<std::string> expected;
    for (int i = 0; i < 300; ++i) {
        expected.push_back("file " + std::to_string(i));
        spit(listed / expected.back(), "x");
    }
    ASSERT_EQ(::mkdir((listed / "subdir").c_str(), 0755), 0);
    expected.push_back("subdir");
    expected.push_back(".hidden");
    spit(listed / ".hidden", "x");
    std::sort(expected.begin(), expected.end());
    std::vector<std::string> names, none;
    fs_failure missing, a_file;
    const int fds_before = open_fd_count();
    run([&]() -> corio::task<> {
        names = co_await corio::fs::listdir(listed);
        none = co_await corio::fs::listdir(empty);
        missing = co_await failure_of(corio::fs::listdir(path("missing")));
        a_file = co_await failure_of(corio::fs::listdir(listed / "file 1"));
    }());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, expected);
    EXPECT_TRUE(none.empty());
    expect_failure(missing, ENOENT, path("missing"), "listdir of a missing directory");
    expect_failure(a_file, ENOTDIR, listed / "file 1", "listdir of a file");
    EXPECT_EQ(open_fd_count(), fds_before);
}

// ------------------------------------------------------------ whole files

TEST_P(fs_operations, read_file_and_write_file_round_trip) {
    const std::string text = "line one\nline two\n";
    const std::string binary = all_bytes(256) + std::string("\0\0end\0", 6) + all_bytes(3 * 1024 * 1024 + 5);
    std::string text_back = "x", empty_back = "x", binary_back;
    fs_failure missing;
    spit(path("replaced"), std::string(100'000, 'o'));
    const int fds_before = open_fd_count();
    run([&]() -> corio::task<> {
        co_await corio::fs::write_file(path("text"), text);
        text_back = co_await corio::fs::read_file(path("text"));
        co_await corio::fs::write_file(path("empty"), "");
        empty_back = co_await corio::fs::read_file(path("empty"));
        co_await corio::fs::write_file(path("binary"), binary);
        binary_back = co_await corio::fs::read_file(path("binary"));
        co_await corio::fs::write_file(path("replaced"), "short");
        missing = co_await failure_of(corio::fs::read_file(path("missing")));
    }());
    EXPECT_EQ(text_back, text);
    EXPECT_EQ(slurp(path("text")), text);
    EXPECT_EQ(empty_back, "");
    EXPECT_EQ(slurp(path("empty")), "");
    EXPECT_TRUE(binary_back == binary) << "binary round trip differs (" << binary_back.size() << " bytes)";
    EXPECT_TRUE(slurp(path("binary")) == binary);
    EXPECT_EQ(slurp(path("replaced")), "short");  // truncated
    expect_failure(missing, ENOENT, path("missing"), "read_file of a missing file");
    EXPECT_FALSE(stdfs::exists(path("missing")));
    EXPECT_EQ(open_fd_count(), fds_before);
}

}  // namespace

CORIO_FS_ON_BOTH_BACKENDS(fs_operations);
