// corio_pg_load: corio::pg under load, for bench/compare_pg.py, written as a
// user would write it with asyncpg.
//
//   corio_pg_load --dsn DSN [--query select1|point] [--pool 10] [--tasks 50]
//                 [--seconds 5] [--single] [--scale 1]
//
// Pool mode (default): a pool of --pool connections, --tasks tasks each
// looping `await pool.fetchval(sql, *args)`. --single: one connection, no
// pool, --tasks tasks sharing it (their queries pipelined; --tasks 1 is one
// query at a time, no pipelining). Queries: `SELECT 1`, or pgbench's
// select-only point query `SELECT abalance FROM pgbench_accounts WHERE aid =
// $1` with aid uniform in 1..100000*scale. Each task first runs one query
// (warm-up, not counted: the statement is prepared, the connections open);
// then the measured window of --seconds. Prints
//   queries N seconds T qps R
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <corio/corio.hpp>
#include <corio/pg.hpp>

namespace pg = corio::pg;
using clock_type = std::chrono::steady_clock;

namespace {

struct config {
    std::string dsn;
    bool point = false;
    std::size_t pool = 10;
    int tasks = 50;
    double seconds = 5;
    bool single = false;
    int scale = 1;
};

[[noreturn]] void usage() {
    std::fputs("usage: corio_pg_load --dsn DSN [--query select1|point] [--pool N] [--tasks N] [--seconds S] "
               "[--single] [--scale N]\n",
               stderr);
    std::exit(2);
}

config parse(int argc, char** argv) {
    config c;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage();
            return argv[++i];
        };
        if (a == "--dsn") c.dsn = value();
        else if (a == "--query") {
            const std::string q = value();
            if (q == "point") c.point = true;
            else if (q != "select1") usage();
        } else if (a == "--pool") c.pool = static_cast<std::size_t>(std::stoul(value()));
        else if (a == "--tasks") c.tasks = std::stoi(value());
        else if (a == "--seconds") c.seconds = std::stod(value());
        else if (a == "--single") c.single = true;
        else if (a == "--scale") c.scale = std::stoi(value());
        else usage();
    }
    if (c.dsn.empty() || c.tasks < 1 || c.pool < 1) usage();
    return c;
}

struct counters {
    std::uint64_t queries = 0;
    clock_type::time_point start;
    clock_type::time_point stop;
    clock_type::time_point last;
};

// One task's loop over any query source (a pool or a shared connection).
template <class Source>
corio::task<> worker(Source& src, const config& cfg, counters& n, int seed) {
    std::mt19937 rng(static_cast<unsigned>(seed));
    std::uniform_int_distribution<int> aid(1, 100000 * cfg.scale);
    bool counted = false;
    for (;;) {
        if (cfg.point) {
            (void)co_await src.template fetchval<int>("SELECT abalance FROM pgbench_accounts WHERE aid = $1", aid(rng));
        } else {
            (void)co_await src.template fetchval<int>("SELECT 1");
        }
        const auto now = clock_type::now();
        if (counted) {
            ++n.queries;
            if (now > n.last) n.last = now;
        }
        if (now >= n.stop) co_return;
        if (!counted && now >= n.start) counted = true;
    }
}

template <class Source>
corio::task<> run_all(Source& src, const config& cfg, counters& n) {
    // Warm-up: every task's first query is before the window opens.
    n.start = clock_type::now() + std::chrono::milliseconds(300);
    n.stop = n.start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(cfg.seconds));
    std::vector<corio::task<>> ts;
    for (int i = 0; i < cfg.tasks; ++i) ts.push_back(worker(src, cfg, n, i + 1));
    co_await corio::gather(std::move(ts));
}

corio::task<int> amain(config cfg) {
    counters n;
    if (cfg.single) {
        pg::connection c = co_await pg::connect(cfg.dsn);
        co_await run_all(c, cfg, n);
        co_await c.close();
    } else {
        pg::pool_options o;
        o.dsn = cfg.dsn;
        o.min_size = cfg.pool;
        o.max_size = cfg.pool;
        pg::pool p = co_await pg::create_pool(o);
        co_await run_all(p, cfg, n);
        co_await p.close();
    }
    const double secs = std::chrono::duration<double>(n.last - n.start).count();
    std::printf("queries %llu seconds %.3f qps %.0f\n", static_cast<unsigned long long>(n.queries), secs,
                secs > 0 ? static_cast<double>(n.queries) / secs : 0.0);
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) { return corio::run(amain(parse(argc, argv))); }
