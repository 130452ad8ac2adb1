// bench/mysql_load.cpp: corio::mysql under load, for bench/compare_mysql.py:
// a pool of POOL connections shared by TASKS tasks, each looping
// acquire -> cursor -> execute -> fetchall -> release, for SECONDS or until
// MAX queries in all (whichever first). Prints `queries=N seconds=S qps=Q`.
//
//   mysql_load select1|point SECONDS MAX [TASKS=50] [POOL=10]
//   mysql_load select1-held|point-held SECONDS MAX [TASKS=10] [POOL=10]
//       each task acquires once and loops on its connection: the driver alone,
//       without the per-release session reset (one round trip per query, as the C limit)
//   mysql_load memory N      resident memory per idle pooled connection (N of them)
//
// The server is in CORIO_MYSQL_HOST, _PORT, _USER, _PASSWORD, _DB (what
// scripts/servers/mariadb.sh prints); `point` reads bench_rows (id 1..100 000),
// which compare_mysql.py creates.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <corio/corio.hpp>
#include <corio/mysql.hpp>

namespace mysql = corio::mysql;
using clock_type = std::chrono::steady_clock;

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    if (!v) throw std::runtime_error(std::string(name) + " is not set");
    return v;
}

mysql::pool_options options_from_env(std::size_t pool_size) {
    mysql::pool_options o;
    o.host = env("CORIO_MYSQL_HOST");
    o.port = static_cast<std::uint16_t>(std::stoi(env("CORIO_MYSQL_PORT")));
    o.user = env("CORIO_MYSQL_USER");
    o.password = env("CORIO_MYSQL_PASSWORD");
    o.db = env("CORIO_MYSQL_DB");
    o.autocommit = true;  // as the aiomysql anchor (which closes a connection released inside a transaction)
    o.minsize = pool_size;
    o.maxsize = pool_size;
    return o;
}

long rss_kb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return 0;
}

struct load {
    bool point = false;
    bool held = false;
    clock_type::time_point deadline;
    long max = 0;
    long count = 0;
};

corio::task<> worker(mysql::pool& pool, load& l, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> ids(1, 100000);
    auto query = [&](mysql::cursor& cur) -> corio::task<> {
        if (l.point)
            co_await cur.execute("SELECT id, name, value FROM bench_rows WHERE id = %s", ids(rng));
        else
            co_await cur.execute("SELECT 1");
        auto rows = co_await cur.fetchall();
        if (rows.size() != 1) throw std::runtime_error("expected one row");
    };
    auto use = [&](mysql::connection& conn) -> corio::task<> { co_await corio::with(conn.cursor(), query); };
    if (l.held) {
        auto loop = [&](mysql::connection& conn) -> corio::task<> {
            while (l.count < l.max && clock_type::now() < l.deadline) {
                co_await corio::with(conn.cursor(), query);
                ++l.count;
            }
        };
        co_await corio::with(pool.acquire(), loop);
        co_return;
    }
    while (l.count < l.max && clock_type::now() < l.deadline) {
        co_await corio::with(pool.acquire(), use);
        ++l.count;
    }
}

corio::task<int> amain(int argc, char** argv) {
    const std::string mode = argv[1];
    if (mode == "memory") {
        const std::size_t n = std::stoul(argv[2]);
        const long before = rss_kb();
        auto pool = co_await mysql::create_pool(options_from_env(n));
        const long after = rss_kb();
        std::printf("connections=%zu rss_kb_per_connection=%.1f\n", n, double(after - before) / double(n));
        pool.close();
        co_await pool.wait_closed();
        co_return 0;
    }
    const double seconds = std::stod(argv[2]);
    const long max = std::stol(argv[3]);
    const int tasks = argc > 4 ? std::stoi(argv[4]) : 50;
    const std::size_t pool_size = argc > 5 ? std::stoul(argv[5]) : 10;
    auto pool = co_await mysql::create_pool(options_from_env(pool_size));
    load l;
    l.point = mode.rfind("point", 0) == 0;
    l.held = mode.find("-held") != std::string::npos;
    l.max = max;
    const auto start = clock_type::now();
    l.deadline = start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
    std::vector<corio::task<>> all;
    for (int i = 0; i < tasks; ++i) all.push_back(worker(pool, l, unsigned(i) + 1));
    co_await corio::gather(std::move(all));
    const double took = std::chrono::duration<double>(clock_type::now() - start).count();
    std::printf("queries=%ld seconds=%.3f qps=%.0f\n", l.count, took, double(l.count) / took);
    pool.close();
    co_await pool.wait_closed();
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s select1|point SECONDS MAX [TASKS] [POOL] | memory N\n", argv[0]);
        return 2;
    }
    return corio::run(amain(argc, argv));
}
