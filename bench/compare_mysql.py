#!/usr/bin/python3
"""corio::mysql against aiomysql, a C program on Connector/C's blocking API and
mariadb-slap, in one run, on a private MariaDB server.

    /usr/bin/python3 bench/compare_mysql.py --load BUILD/mysql_load [--seconds 3] [--max 300000] [--quick]

Starts MariaDB 10.11 with scripts/servers/mariadb.sh in a temporary folder
(stopped by PID at the end), creates bench_rows (100 000 rows, id 1..100 000),
then runs, one after the other, each bounded by --seconds and --max queries:

  C, blocking (bench/mysql_blocking.c, built here): 10 threads, a connection
      each (the limit: the pool's size in threads)
  mariadb-slap --concurrency=10 (SELECT 1; the point select with a fixed id)
  aiomysql on asyncio and on uvloop (this file, --anchor): a pool of 10,
      50 tasks looping acquire / cursor / execute / fetchall
  corio (mysql_load): the same pool of 10 and 50 tasks, the same loop
      (each release resets the session: mysql_reset_connection, then SET
      NAMES/autocommit; for the point select, the reset also drops the
      prepared statement, prepared again on the next acquire)
  corio, 10 tasks each holding one connection: the driver alone, one round
      trip per query as the C limit

for `SELECT 1` and a primary-key point select, and prints queries/s with the
ratio to the C limit; then corio's resident memory per idle pooled
connection. Every child has a timeout of --seconds + 60 s. Exits non-zero
only if something failed to run. Writes nothing: the table is for
docs/benchmarks.md.
"""
import argparse
import asyncio
import os
import random
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
POINT_SQL = "SELECT id, name, value FROM bench_rows WHERE id = %s"


# ---- the aiomysql anchor (run as a child: --anchor)

async def anchor_main(query, seconds, max_queries, pool_size, tasks):
    import aiomysql
    env = os.environ
    pool = await aiomysql.create_pool(host=env["CORIO_MYSQL_HOST"], port=int(env["CORIO_MYSQL_PORT"]),
                                      user=env["CORIO_MYSQL_USER"], password=env["CORIO_MYSQL_PASSWORD"],
                                      db=env["CORIO_MYSQL_DB"], minsize=pool_size, maxsize=pool_size,
                                      autocommit=True)
    count = 0
    start = time.monotonic()
    deadline = start + seconds

    async def worker(seed):
        nonlocal count
        rng = random.Random(seed)
        while count < max_queries and time.monotonic() < deadline:
            async with pool.acquire() as conn:
                async with conn.cursor() as cur:
                    if query == "point":
                        await cur.execute(POINT_SQL, (rng.randint(1, 100000),))
                    else:
                        await cur.execute("SELECT 1")
                    rows = await cur.fetchall()
                    assert len(rows) == 1
            count += 1

    await asyncio.gather(*[worker(i) for i in range(tasks)])
    took = time.monotonic() - start
    print(f"queries={count} seconds={took:.3f} qps={count / took:.0f}")
    pool.close()
    await pool.wait_closed()


def anchor(args):
    if args.loop == "uvloop":
        import uvloop
        uvloop.install()
    asyncio.run(anchor_main(args.query, args.seconds, args.max, 10, 50))


# ---- the driver

def run(cmd, env, timeout):
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    if p.returncode != 0:
        return None, (p.stderr or p.stdout).strip()[-300:]
    m = re.search(r"qps=(\d+)", p.stdout)
    return (int(m.group(1)) if m else None), p.stdout.strip()


def slap(env, query, count, timeout):
    cmd = ["mariadb-slap", "--no-defaults", "-h", env["CORIO_MYSQL_HOST"], "-P", env["CORIO_MYSQL_PORT"],
           "-u", env["CORIO_MYSQL_USER"], "-p" + env["CORIO_MYSQL_PASSWORD"], "--create-schema=" + env["CORIO_MYSQL_DB"],
           "--concurrency=10", "--iterations=1", "--number-of-queries=" + str(count), "--query=" + query]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    m = re.search(r"Average number of seconds to run all queries: ([\d.]+)", p.stdout)
    if p.returncode != 0 or not m or float(m.group(1)) == 0:
        return None, (p.stderr or p.stdout).strip()[-300:]
    return int(count / float(m.group(1))), p.stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--load", help="corio's mysql_load")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--max", type=int, default=300000)
    ap.add_argument("--quick", action="store_true", help="1 s per run")
    ap.add_argument("--anchor", action="store_true")
    ap.add_argument("--loop", default="asyncio")
    ap.add_argument("--query", default="select1")
    args = ap.parse_args()
    if args.anchor:
        anchor(args)
        return 0
    if not args.load:
        ap.error("--load is required")
    if args.quick:
        args.seconds = 1.0
    timeout = args.seconds + 60
    tmp = tempfile.mkdtemp(prefix="corio-bench-mysql-")
    server = os.path.join(tmp, "mariadb")
    script = os.path.join(ROOT, "scripts", "servers", "mariadb.sh")
    failed = False
    try:
        out = subprocess.run(["bash", script, "start", server], capture_output=True, text=True, timeout=180, check=True)
        env = dict(os.environ)
        for line in out.stdout.splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                env[k] = v
        import pymysql
        c = pymysql.connect(host=env["CORIO_MYSQL_HOST"], port=int(env["CORIO_MYSQL_PORT"]), user=env["CORIO_MYSQL_USER"],
                            password=env["CORIO_MYSQL_PASSWORD"], database=env["CORIO_MYSQL_DB"], autocommit=True)
        with c.cursor() as cur:
            cur.execute("CREATE TABLE bench_rows (id INT PRIMARY KEY, name VARCHAR(32), value BIGINT) ENGINE=InnoDB")
            cur.execute("INSERT INTO bench_rows SELECT seq, CONCAT('name', seq), seq * 7 FROM seq_1_to_100000")
        c.close()
        blocking = os.path.join(tmp, "mysql_blocking")
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libmariadb"], capture_output=True, text=True,
                               check=True).stdout.split()
        subprocess.run(["cc", "-O2", "-o", blocking, os.path.join(HERE, "mysql_blocking.c")] + flags + ["-lpthread"],
                       check=True)
        have_uvloop = subprocess.run(["/usr/bin/python3", "-c", "import uvloop"], capture_output=True).returncode == 0
        rows = []
        for query in ("select1", "point"):
            secs, mx = str(args.seconds), str(args.max)
            results = []
            results.append(("C, blocking, 10 threads (limit)",) + run([blocking, query, secs, mx, "10"], env, timeout))
            slap_sql = "SELECT 1" if query == "select1" else "SELECT id, name, value FROM bench_rows WHERE id = 4242"
            results.append(("mariadb-slap --concurrency=10",) + slap(env, slap_sql, min(args.max, 50000), timeout))
            me = [sys.executable, os.path.abspath(__file__), "--anchor", "--query", query, "--seconds", secs, "--max", mx]
            results.append(("aiomysql, asyncio",) + run(me + ["--loop", "asyncio"], env, timeout))
            if have_uvloop:
                results.append(("aiomysql, uvloop",) + run(me + ["--loop", "uvloop"], env, timeout))
            results.append(("corio::mysql",) + run([args.load, query, secs, mx, "50", "10"], env, timeout))
            results.append(("corio::mysql, 10 tasks holding a connection (no per-query release)",) +
                           run([args.load, query + "-held", secs, mx, "10", "10"], env, timeout))
            rows.append((query, results))
        mem = run([args.load, "memory", "100"], env, timeout)
        print(f"MariaDB 10.11 on loopback; pool of 10, 50 tasks; {args.seconds:g} s or {args.max} queries per run\n")
        print("| query | program | queries/s | vs C limit |")
        print("|---|---|---:|---:|")
        for query, results in rows:
            limit = results[0][1]
            label = "SELECT 1" if query == "select1" else "point select (100 000 rows)"
            for name, qps, detail in results:
                if qps is None:
                    failed = True
                    print(f"| {label} | {name} | failed: {detail} | |")
                else:
                    ratio = f"{qps / limit:.2f}x" if limit else ""
                    print(f"| {label} | {name} | {qps} | {ratio} |")
        m = re.search(r"rss_kb_per_connection=([\d.]+)", mem[1] or "")
        print(f"\ncorio: resident memory per idle pooled connection: {m.group(1) + ' KiB' if m else 'failed: ' + str(mem[1])}")
    finally:
        subprocess.run(["bash", script, "stop", server], capture_output=True, timeout=120)
        subprocess.run(["rm", "-rf", tmp])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
