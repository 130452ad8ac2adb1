// asio_anchor: the benchmark operations written with Boost.Asio C++20
// coroutines (asio::awaitable), the C++ anchor corio is compared to.
//
//   asio_anchor [--quick] [--reps N] [--target-ms MS] [--tasks N] [--no-memory]
//
// Prints one line per operation, `name value`: ns per operation (median of
// the repetitions), or MiB for the memory line; lines starting with '#' are
// comments. Each repetition runs the operation n times inside one coroutine
// on a single-threaded io_context (concurrency hint 1), timed in CPU time
// (CLOCK_PROCESS_CPUTIME_ID; the wall time is printed as a comment); n is
// calibrated so that a repetition takes about --target-ms.
//
// Operations (same names as bench/anchors/asyncio_anchor.py and corio_bench):
//   co_await_trivial_task  co_await of a trivial awaitable<void>
//   with_class_manager     "async with" written by hand: co_await m.aenter(), empty body,
//                          co_await m.aexit(nullptr) (two co_awaits)
//   spawn_join             co_await co_spawn(ex, trivial(), use_awaitable)
//   sleep0_round_trip      co_await asio::post(ex, use_awaitable)
//   queue_ping_pong        per round trip over two experimental::channel<void(error_code, int)>
//                          (capacity 1): send to the other coroutine, receive its answer
//   memory_1m_sleeping_tasks_mib  VmRSS with 1 000 000 coroutines each waiting on its own
//                          steady_timer (one hour), started with co_spawn(detached)
// Asio has no lock, @asynccontextmanager or async generator: skipped.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/version.hpp>
#include <boost/version.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

// CPU time of this process (the machines are shared: wall time also counts
// the time other processes had the core); run_once also measures wall time.
struct clk {
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<clk, duration>;
    static time_point now() noexcept {
        timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return time_point(duration(ts.tv_sec * 1'000'000'000LL + ts.tv_nsec));
    }
};

namespace {

// Keeps the compiler from removing a loop whose result is unused.
template <class T>
inline void keep(T const& v) {
    asm volatile("" : : "r,m"(v) : "memory");
}

awaitable<void> trivial() { co_return; }

struct trivial_manager {
    awaitable<trivial_manager*> aenter() { co_return this; }
    awaitable<bool> aexit(std::exception_ptr) { co_return false; }
};

// Each op: a coroutine that performs `n` operations and returns the elapsed ns.
using op_fn = std::function<awaitable<long long>(long long)>;

awaitable<long long> op_co_await_trivial_task(long long n) {
    auto t0 = clk::now();
    for (long long i = 0; i < n; ++i) co_await trivial();
    co_return std::chrono::nanoseconds(clk::now() - t0).count();
}

awaitable<long long> op_with_class_manager(long long n) {
    auto t0 = clk::now();
    for (long long i = 0; i < n; ++i) {
        trivial_manager m;
        trivial_manager* v = co_await m.aenter();
        keep(v);  // the empty body
        bool suppress = co_await m.aexit(nullptr);
        keep(suppress);
    }
    co_return std::chrono::nanoseconds(clk::now() - t0).count();
}

awaitable<long long> op_spawn_join(long long n) {
    auto ex = co_await asio::this_coro::executor;
    auto t0 = clk::now();
    for (long long i = 0; i < n; ++i) co_await asio::co_spawn(ex, trivial(), use_awaitable);
    co_return std::chrono::nanoseconds(clk::now() - t0).count();
}

awaitable<long long> op_sleep0_round_trip(long long n) {
    auto ex = co_await asio::this_coro::executor;
    auto t0 = clk::now();
    for (long long i = 0; i < n; ++i) co_await asio::post(ex, use_awaitable);
    co_return std::chrono::nanoseconds(clk::now() - t0).count();
}

using int_channel = asio::experimental::channel<void(boost::system::error_code, int)>;

awaitable<void> ponger(int_channel& ping, int_channel& pong, long long n) {
    for (long long i = 0; i < n; ++i) {
        int v = co_await ping.async_receive(use_awaitable);
        co_await pong.async_send(boost::system::error_code{}, v, use_awaitable);
    }
}

awaitable<long long> op_queue_ping_pong(long long n) {
    auto ex = co_await asio::this_coro::executor;
    int_channel ping(ex, 1), pong(ex, 1);
    asio::co_spawn(ex, ponger(ping, pong, n), asio::detached);
    auto t0 = clk::now();
    for (long long i = 0; i < n; ++i) {
        co_await ping.async_send(boost::system::error_code{}, static_cast<int>(i), use_awaitable);
        int v = co_await pong.async_receive(use_awaitable);
        keep(v);
    }
    auto elapsed = std::chrono::nanoseconds(clk::now() - t0).count();
    co_return elapsed;
}

long long run_once(op_fn const& fn, long long n, double* wall_ns = nullptr) {
    auto w0 = std::chrono::steady_clock::now();
    asio::io_context ctx(1);
    long long elapsed = -1;
    asio::co_spawn(ctx, fn(n), [&](std::exception_ptr e, long long v) {
        if (e) std::rethrow_exception(e);
        elapsed = v;
    });
    ctx.run();
    if (wall_ns) *wall_ns = double(std::chrono::nanoseconds(std::chrono::steady_clock::now() - w0).count());
    return elapsed;
}

double median_of(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct result {
    double median, lo, hi, wall;
    long long n;
};

result measure(op_fn const& fn, double target_ns, int reps) {
    long long n = 100, elapsed = 0;
    for (;;) {
        elapsed = run_once(fn, n);
        if (elapsed >= target_ns / 4 || n >= 500'000'000) break;
        n *= 4;
    }
    n = std::max<long long>(100, static_cast<long long>(n * target_ns / std::max<long long>(elapsed, 1)));
    std::vector<double> samples, walls;
    for (int r = 0; r < reps; ++r) {
        double wall = 0;
        samples.push_back(double(run_once(fn, n, &wall)) / double(n));
        walls.push_back(wall / double(n));
    }
    auto [lo, hi] = std::minmax_element(samples.begin(), samples.end());
    return {median_of(samples), *lo, *hi, median_of(walls), n};
}

long status_kib(char const* field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    std::string prefix = std::string(field) + ":";
    while (std::getline(in, line))
        if (line.rfind(prefix, 0) == 0) return std::strtol(line.c_str() + prefix.size(), nullptr, 10);
    return -1;
}

awaitable<void> sleeper() {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
}

void memory(long tasks) {
    long before = status_kib("VmRSS");
    asio::io_context ctx(1);
    for (long i = 0; i < tasks; ++i) asio::co_spawn(ctx, sleeper(), asio::detached);
    ctx.poll();  // every coroutine now waits on its timer
    long during = status_kib("VmRSS");
    long peak = status_kib("VmHWM");
    std::printf("# memory: %ld coroutines waiting on timers: VmRSS before %.1f MiB, while sleeping %.1f MiB, "
                "VmHWM %.1f MiB\n",
                tasks, before / 1024.0, during / 1024.0, peak / 1024.0);
    std::printf("memory_1m_sleeping_tasks_mib %.1f  # tasks %ld\n", during / 1024.0, tasks);
    std::fflush(stdout);
    // Destroying a million pending operations measures nothing: leave at once.
    std::_Exit(0);
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = false, do_memory = true;
    int reps = 0;
    double target_ms = 0;
    long tasks = 1'000'000;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--quick") quick = true;
        else if (a == "--no-memory") do_memory = false;
        else if (a == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
        else if (a == "--target-ms" && i + 1 < argc) target_ms = std::atof(argv[++i]);
        else if (a == "--tasks" && i + 1 < argc) tasks = std::atol(argv[++i]);
        else {
            std::fprintf(stderr, "usage: %s [--quick] [--reps N] [--target-ms MS] [--tasks N] [--no-memory]\n", argv[0]);
            return 2;
        }
    }
    if (reps <= 0) reps = quick ? 3 : 7;
    if (target_ms <= 0) target_ms = quick ? 30 : 100;

    struct named {
        char const* name;
        op_fn fn;
    } ops[] = {
        {"co_await_trivial_task", op_co_await_trivial_task},
        {"with_class_manager", op_with_class_manager},
        {"spawn_join", op_spawn_join},
        {"sleep0_round_trip", op_sleep0_round_trip},
        {"queue_ping_pong", op_queue_ping_pong},
    };
    std::printf("# Boost %d.%d (Asio %d.%d.%d) awaitable, io_context(1), %d repetitions of ~%.0f ms, CPU ns per op: median (min, max, median wall)\n",
                BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_ASIO_VERSION / 100000,
                BOOST_ASIO_VERSION / 100 % 1000, BOOST_ASIO_VERSION % 100, reps, target_ms);
    for (auto const& op : ops) {
        result r = measure(op.fn, target_ms * 1e6, reps);
        std::printf("%s %.1f  # min %.1f max %.1f wall %.1f n %lld\n", op.name, r.median, r.lo, r.hi, r.wall, r.n);
        std::fflush(stdout);
    }
    if (do_memory) memory(tasks);
    return 0;
}
