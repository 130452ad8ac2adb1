// bench/core_memory.cpp -> corio_memory: resident memory of 1 000 000 tasks
// sleeping at once.
//
//   corio_memory [--tasks N]
//
// main spawns N tasks that each co_await sleep(1h) and drops their handles
// (detached), then co_awaits sleep(0s) so that every one of them has run up
// to its sleep and waits on the loop's timer heap. It then reads VmRSS and
// VmHWM from /proc/self/status, and returns: run cancels the sleepers and
// waits for them, as it does for any task left running. Output, one
// `key value` per line (parsed by bench/compare.py):
//   memory_1m_sleeping_tasks_mib  VmRSS while the N tasks sleep, MiB (the whole process)
//   # comment lines with VmRSS before, VmHWM, bytes per task and timings
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <corio/run.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>

namespace {

using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

long status_kib(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string line, prefix = std::string(field) + ":";
    while (std::getline(in, line))
        if (line.rfind(prefix, 0) == 0) return std::strtol(line.c_str() + prefix.size(), nullptr, 10);
    return -1;
}

double ms_since(clk::time_point t0) { return std::chrono::duration<double, std::milli>(clk::now() - t0).count(); }

corio::task<> sleeper() { co_await corio::sleep(1h); }

struct figures {
    long before = 0, during = 0, peak = 0;
    double spawn_ms = 0, start_ms = 0;
};

corio::task<> amain(long tasks, figures& f) {
    f.before = status_kib("VmRSS");
    auto t0 = clk::now();
    for (long i = 0; i < tasks; ++i) corio::spawn(sleeper()).detach();
    f.spawn_ms = ms_since(t0);
    t0 = clk::now();
    co_await corio::sleep(0s);  // every sleeper runs once, up to its sleep
    f.start_ms = ms_since(t0);
    f.during = status_kib("VmRSS");
    f.peak = status_kib("VmHWM");
}

}  // namespace

int main(int argc, char** argv) {
    long tasks = 1'000'000;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--tasks" && i + 1 < argc) tasks = std::atol(argv[++i]);
        else {
            std::fprintf(stderr, "usage: %s [--tasks N]\n", argv[0]);
            return 2;
        }
    }
    figures f;
    auto t0 = clk::now();
    corio::run(amain(tasks, f));
    double total_ms = ms_since(t0);
    std::printf("# corio: %ld tasks sleeping: VmRSS before %.1f MiB, while sleeping %.1f MiB, VmHWM %.1f MiB, "
                "%.0f bytes/task over the baseline\n",
                tasks, f.before / 1024.0, f.during / 1024.0, f.peak / 1024.0,
                (f.during - f.before) * 1024.0 / double(tasks));
    std::printf("# spawn %.0f ms, first steps %.0f ms, whole run (with cancelling and awaiting them) %.0f ms\n",
                f.spawn_ms, f.start_ms, total_ms);
    std::printf("memory_1m_sleeping_tasks_mib %.1f  # tasks %ld\n", f.during / 1024.0, tasks);
    return 0;
}
