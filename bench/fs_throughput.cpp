// bench/fs_throughput.cpp -> corio_fs_bench: file I/O throughput of corio
// and of the plain C++ loops it is measured against (bench/compare.py runs
// it, next to cat, dd, wc -l and bench/anchors/aiofiles_anchor.py).
//
//   corio_fs_bench MODE [options]
//
// Modes (corio ones take --backend io_uring|epoll):
//   read            open F, read_into() spans of --chunk bytes until EOF, close
//   pread4k         open F, pread(--chunk, offset) at increasing offsets until EOF
//                   (one kernel operation per chunk, no buffer), close
//   write           unlink F, open(F, "wb"), write() --size bytes in --chunk pieces, close
//   plain-write     the same with open(2)/write(2)/close(2): the C++ limit
//   manyfiles       every file DIR/f00000 .. f<count-1>: open, read(), close;
//                   --concurrency tasks (gather) pull the next index from a shared counter
//   plain-manyfiles the same, sequential open(2)/read(2) until EOF/close(2): the C++ limit
//   lines           open F, count the lines of lines() (async_generator), close
//   make-lines      writes F: --size bytes (cut at a line end) of lines of
//                   60..100 bytes (80 on average), the same text for the
//                   same --seed, so a smaller file is a prefix of a larger one;
//                   prints {"lines": N, "bytes": B}
//
// Options: --file F, --dir D, --chunk N (bytes), --size N (bytes; K/M/G suffixes
// are binary), --count N, --concurrency N, --backend B, --repeat R (timed
// repetitions, after --warmup W untimed ones), --expect-lines N (lines: fail if
// the count differs), --max-seconds S (stop repeating once the timed
// repetitions have taken S seconds; an alarm kills the process at 3 S + 30).
//
// Output: one JSON line per mode,
//   {"impl": "corio", "op": "read", "backend": "io_uring", "chunk": 1048576,
//    "bytes": 536870912, "unit": "MB/s", "median": 6123.4, "samples": [...],
//    "seconds": [...]}
// MB/s is 10^6 bytes per second (as dd reports), files/s for manyfiles. Each
// sample is timed with steady_clock from before the open to after the close,
// inside the task; the loop is created (and the ring set up) outside it. Every
// repetition checks what it did (bytes read equal the file's size, lines equal
// --expect-lines, the written file's size) and exits 1 if not, so a broken run
// cannot report a fast figure.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <corio/fs/file.hpp>
#include <corio/tasks/gather.hpp>
#include <corio/run.hpp>
#include <corio/runtime/run_options.hpp>
#include <corio/task.hpp>

namespace {

using clk = std::chrono::steady_clock;

double seconds_since(clk::time_point t0) { return std::chrono::duration<double>(clk::now() - t0).count(); }

struct options {
    std::string mode;
    std::string file;
    std::string dir;
    std::string backend = "io_uring";
    std::size_t chunk = 1 << 20;
    std::uint64_t size = 0;
    long count = 10000;
    int concurrency = 64;
    int repeat = 5;
    int warmup = 1;
    long long expect_lines = -1;
    double max_seconds = 30;
    std::uint64_t seed = 1;
};

[[noreturn]] void die(const std::string& why) {
    std::fprintf(stderr, "corio_fs_bench: %s\n", why.c_str());
    std::exit(1);
}

std::uint64_t parse_size(const std::string& s) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    std::uint64_t mul = 1;
    if (*end == 'K' || *end == 'k') mul = 1ULL << 10, ++end;
    else if (*end == 'M' || *end == 'm') mul = 1ULL << 20, ++end;
    else if (*end == 'G' || *end == 'g') mul = 1ULL << 30, ++end;
    if (end == s.c_str() || *end != '\0') die("not a size: " + s);
    return v * mul;
}

corio::backend_kind backend_of(const std::string& name) {
    if (name == "io_uring") return corio::backend_kind::io_uring;
    if (name == "epoll") return corio::backend_kind::epoll;
    die("--backend must be io_uring or epoll, not " + name);
}

std::uint64_t file_size(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) die("stat " + path + ": " + std::strerror(errno));
    return static_cast<std::uint64_t>(st.st_size);
}

// Runs `task_of()` on a fresh loop; the task returns the seconds it measured.
double run_on(const options& o, const std::function<corio::task<double>()>& task_of) {
    corio::run_options ro;
    ro.backend = backend_of(o.backend);
    return corio::run(task_of(), ro);
}

// ------------------------------------------------------------------ corio

corio::task<double> corio_read(std::string path, std::size_t chunk, std::uint64_t& total) {
    std::vector<char> buffer(chunk);
    const std::span<char> into(buffer);
    const auto t0 = clk::now();
    corio::file f = co_await corio::open(path, "rb");
    std::uint64_t n = 0;
    for (;;) {
        const std::size_t got = co_await f.read_into(into);
        if (got == 0) break;
        n += got;
    }
    co_await f.close();
    const double dt = seconds_since(t0);
    total = n;
    co_return dt;
}

corio::task<double> corio_pread(std::string path, std::size_t chunk, std::uint64_t& total) {
    const auto t0 = clk::now();
    corio::file f = co_await corio::open(path, "rb");
    std::int64_t offset = 0;
    for (;;) {
        const std::string piece = co_await f.pread(chunk, offset);
        if (piece.empty()) break;
        offset += static_cast<std::int64_t>(piece.size());
    }
    co_await f.close();
    const double dt = seconds_since(t0);
    total = static_cast<std::uint64_t>(offset);
    co_return dt;
}

corio::task<double> corio_write(std::string path, std::size_t chunk, std::uint64_t size, const std::string& data) {
    const std::string_view piece(data.data(), chunk);
    const auto t0 = clk::now();
    corio::file f = co_await corio::open(path, "wb");
    for (std::uint64_t done = 0; done < size; done += chunk) {
        const std::string_view part = piece.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(chunk, size - done)));
        co_await f.write(part);
    }
    co_await f.close();
    co_return seconds_since(t0);
}

struct many_state {
    const std::vector<std::filesystem::path>* paths;
    std::size_t next = 0;
    std::size_t files = 0;
    std::uint64_t bytes = 0;
};

corio::task<> many_worker(many_state& s) {
    while (s.next < s.paths->size()) {
        const std::filesystem::path& p = (*s.paths)[s.next++];
        corio::file_opener opener = corio::open(p, "rb");
        corio::file f = co_await std::move(opener);
        const std::string data = co_await f.read();
        co_await f.close();
        s.bytes += data.size();
        ++s.files;
    }
}

corio::task<double> corio_manyfiles(const std::vector<std::filesystem::path>& paths, int concurrency, std::size_t& files,
                                    std::uint64_t& bytes) {
    many_state s;
    s.paths = &paths;
    std::vector<corio::task<>> workers;
    workers.reserve(static_cast<std::size_t>(concurrency));
    const auto t0 = clk::now();
    for (int i = 0; i < concurrency; ++i) workers.push_back(many_worker(s));
    co_await corio::gather(std::move(workers));
    const double dt = seconds_since(t0);
    files = s.files;
    bytes = s.bytes;
    co_return dt;
}

corio::task<double> corio_lines(std::string path, std::uint64_t& lines, std::uint64_t& bytes) {
    const auto t0 = clk::now();
    corio::file f = co_await corio::open(path, "rb");
    std::uint64_t n = 0, b = 0;
    {
        auto g = f.lines();
        while (auto line = co_await g.next()) {
            ++n;
            b += line->size();
        }
    }
    co_await f.close();
    const double dt = seconds_since(t0);
    lines = n;
    bytes = b;
    co_return dt;
}

// ------------------------------------------------------------------ plain C++ limits

double plain_write(const std::string& path, std::size_t chunk, std::uint64_t size, const std::string& data) {
    const auto t0 = clk::now();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) die("open " + path + ": " + std::strerror(errno));
    for (std::uint64_t done = 0; done < size;) {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, size - done));
        const ssize_t r = ::write(fd, data.data(), want);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) die("write " + path + ": " + std::strerror(errno));
        done += static_cast<std::uint64_t>(r);
    }
    if (::close(fd) != 0) die("close " + path + ": " + std::strerror(errno));
    return seconds_since(t0);
}

double plain_manyfiles(const std::vector<std::filesystem::path>& paths, std::size_t& files, std::uint64_t& bytes) {
    std::vector<char> buffer(64 * 1024);
    const auto t0 = clk::now();
    for (const auto& p : paths) {
        const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) die("open " + p.string() + ": " + std::strerror(errno));
        for (;;) {
            const ssize_t r = ::read(fd, buffer.data(), buffer.size());
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) die("read " + p.string() + ": " + std::strerror(errno));
            if (r == 0) break;
            bytes += static_cast<std::uint64_t>(r);
        }
        ::close(fd);
        ++files;
    }
    return seconds_since(t0);
}

// ------------------------------------------------------------------ make-lines

// xorshift64*: the same text on every machine.
struct rng {
    std::uint64_t s;
    std::uint64_t next() {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 2685821657736338717ULL;
    }
};

void make_lines(const options& o) {
    if (o.file.empty() || o.size == 0) die("make-lines needs --file and --size");
    FILE* out = std::fopen(o.file.c_str(), "wb");
    if (out == nullptr) die("fopen " + o.file + ": " + std::strerror(errno));
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ,.;:0123456789 ";
    rng r{o.seed * 0x9E3779B97F4A7C15ULL + 1};
    std::string line;
    std::uint64_t bytes = 0, lines = 0;
    for (;;) {
        const std::size_t len = 60 + static_cast<std::size_t>(r.next() % 41);  // 60..100 with the '\n', mean 80
        if (bytes + len > o.size) break;
        line.resize(len);
        for (std::size_t i = 0; i + 1 < len; ++i) line[i] = alphabet[r.next() % (sizeof alphabet - 1)];
        line[len - 1] = '\n';
        if (std::fwrite(line.data(), 1, len, out) != len) die("write " + o.file);
        bytes += len;
        ++lines;
    }
    if (std::fclose(out) != 0) die("close " + o.file);
    std::printf("{\"lines\": %" PRIu64 ", \"bytes\": %" PRIu64 "}\n", lines, bytes);
}

// ------------------------------------------------------------------ driver

struct result {
    std::vector<double> seconds;
    std::vector<double> rates;
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Warm-up repetitions, then timed ones until --repeat or --max-seconds.
// `one` does a repetition, checks it (dying on a mismatch) and gives its
// seconds; `work` is the bytes (or files) one repetition moves.
result repeat(const options& o, double work, const std::function<double()>& one) {
    result res;
    for (int i = 0; i < o.warmup; ++i) one();
    double spent = 0;
    for (int i = 0; i < o.repeat; ++i) {
        const double s = one();
        res.seconds.push_back(s);
        res.rates.push_back(work / s);
        spent += s;
        if (spent > o.max_seconds) break;
    }
    return res;
}

std::string json_list(const std::vector<double>& v, const char* format) {
    std::string out = "[";
    char buf[64];
    for (std::size_t i = 0; i < v.size(); ++i) {
        std::snprintf(buf, sizeof buf, format, v[i]);
        out += (i ? ", " : "");
        out += buf;
    }
    return out + "]";
}

void print(const options& o, const char* impl, const char* op, bool with_backend, const char* unit, double scale,
           std::uint64_t bytes, const result& r, const std::string& extra = "") {
    std::vector<double> rates;
    for (double x : r.rates) rates.push_back(x / scale);
    std::printf("{\"impl\": \"%s\", \"op\": \"%s\", \"backend\": \"%s\", \"chunk\": %zu, \"bytes\": %" PRIu64
                ", \"unit\": \"%s\", \"median\": %.1f, \"samples\": %s, \"seconds\": %s%s}\n",
                impl, op, with_backend ? o.backend.c_str() : "", o.chunk, bytes, unit, median(rates),
                json_list(rates, "%.1f").c_str(), json_list(r.seconds, "%.5f").c_str(), extra.c_str());
    std::fflush(stdout);
}

void check_bytes(const char* what, std::uint64_t got, std::uint64_t want) {
    if (got != want)
        die(std::string(what) + ": moved " + std::to_string(got) + " bytes, expected " + std::to_string(want));
}

std::vector<std::filesystem::path> many_paths(const options& o) {
    if (o.dir.empty()) die("--dir is required");
    std::vector<std::filesystem::path> paths;
    for (long i = 0; i < o.count; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "f%05ld", i);
        paths.push_back(std::filesystem::path(o.dir) / name);
    }
    return paths;
}

std::uint64_t total_size(const std::vector<std::filesystem::path>& paths) {
    std::uint64_t sum = 0;
    for (const auto& p : paths) sum += file_size(p.string());
    return sum;
}

int run_mode(const options& o) {
    constexpr double mb = 1e6;
    if (o.mode == "make-lines") {
        make_lines(o);
        return 0;
    }
    if (o.mode == "read" || o.mode == "pread4k") {
        if (o.file.empty()) die("--file is required");
        const std::uint64_t size = file_size(o.file);
        const bool pread = o.mode == "pread4k";
        const result r = repeat(o, double(size), [&] {
            std::uint64_t got = 0;
            const double s = run_on(o, [&] {
                return pread ? corio_pread(o.file, o.chunk, got) : corio_read(o.file, o.chunk, got);
            });
            check_bytes(o.mode.c_str(), got, size);
            return s;
        });
        print(o, "corio", pread ? "pread" : "read_into", true, "MB/s", mb, size, r);
        return 0;
    }
    if (o.mode == "write" || o.mode == "plain-write") {
        if (o.file.empty() || o.size == 0) die("--file and --size are required");
        const std::string data(o.chunk, 'x');
        const bool plain = o.mode == "plain-write";
        const result r = repeat(o, double(o.size), [&] {
            if (::unlink(o.file.c_str()) != 0 && errno != ENOENT) die("unlink " + o.file + ": " + std::strerror(errno));
            const double s = plain ? plain_write(o.file, o.chunk, o.size, data)
                                   : run_on(o, [&] { return corio_write(o.file, o.chunk, o.size, data); });
            check_bytes(o.mode.c_str(), file_size(o.file), o.size);
            return s;
        });
        ::unlink(o.file.c_str());
        print(o, plain ? "plain" : "corio", "write", !plain, "MB/s", mb, o.size, r);
        return 0;
    }
    if (o.mode == "manyfiles" || o.mode == "plain-manyfiles") {
        const auto paths = many_paths(o);
        const std::uint64_t size = total_size(paths);
        const bool plain = o.mode == "plain-manyfiles";
        const result r = repeat(o, double(paths.size()), [&] {
            std::size_t files = 0;
            std::uint64_t bytes = 0;
            const double s = plain ? plain_manyfiles(paths, files, bytes)
                                   : run_on(o, [&] { return corio_manyfiles(paths, o.concurrency, files, bytes); });
            check_bytes(o.mode.c_str(), bytes, size);
            if (files != paths.size()) die(o.mode + ": " + std::to_string(files) + " files read, expected " +
                                           std::to_string(paths.size()));
            return s;
        });
        const std::string extra = ", \"files\": " + std::to_string(paths.size()) +
                                  ", \"concurrency\": " + std::to_string(plain ? 1 : o.concurrency);
        print(o, plain ? "plain" : "corio", "manyfiles", !plain, "files/s", 1, size, r, extra);
        return 0;
    }
    if (o.mode == "lines") {
        if (o.file.empty()) die("--file is required");
        const std::uint64_t size = file_size(o.file);
        const result r = repeat(o, double(size), [&] {
            std::uint64_t lines = 0, bytes = 0;
            const double s = run_on(o, [&] { return corio_lines(o.file, lines, bytes); });
            check_bytes("lines", bytes, size);
            if (o.expect_lines >= 0 && lines != static_cast<std::uint64_t>(o.expect_lines))
                die("lines: counted " + std::to_string(lines) + ", expected " + std::to_string(o.expect_lines));
            return s;
        });
        print(o, "corio", "lines", true, "MB/s", mb, size, r,
              ", \"lines\": " + std::to_string(o.expect_lines));
        return 0;
    }
    die("unknown mode '" + o.mode + "' (read, pread4k, write, plain-write, manyfiles, plain-manyfiles, lines, make-lines)");
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    if (argc < 2) die("usage: corio_fs_bench MODE [--file F] [--dir D] [--chunk N] [--size N] [--count N] "
                      "[--concurrency N] [--backend io_uring|epoll] [--repeat R] [--warmup W] "
                      "[--expect-lines N] [--max-seconds S] [--seed N]");
    o.mode = argv[1];
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) die("missing value after " + a);
        const std::string v = argv[++i];
        if (a == "--file") o.file = v;
        else if (a == "--dir") o.dir = v;
        else if (a == "--chunk") o.chunk = static_cast<std::size_t>(parse_size(v));
        else if (a == "--size") o.size = parse_size(v);
        else if (a == "--count") o.count = std::atol(v.c_str());
        else if (a == "--concurrency") o.concurrency = std::atoi(v.c_str());
        else if (a == "--backend") o.backend = v;
        else if (a == "--repeat") o.repeat = std::max(1, std::atoi(v.c_str()));
        else if (a == "--warmup") o.warmup = std::max(0, std::atoi(v.c_str()));
        else if (a == "--expect-lines") o.expect_lines = std::atoll(v.c_str());
        else if (a == "--max-seconds") o.max_seconds = std::atof(v.c_str());
        else if (a == "--seed") o.seed = parse_size(v);
        else die("unknown option " + a);
    }
    if (o.chunk == 0) die("--chunk must be > 0");
    backend_of(o.backend);
    // Whatever happens, the process does not outlive its budget.
    ::alarm(static_cast<unsigned>(3 * o.max_seconds + 30));
    try {
        return run_mode(o);
    } catch (const std::exception& e) {
        die(o.mode + ": " + e.what());
    }
}
