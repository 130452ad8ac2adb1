#!/usr/bin/python3
"""Runs corio's benchmarks and its anchors in one run, prints the table, writes docs/benchmarks.md.

    /usr/bin/python3 bench/compare.py --build build-bench [--quick] [--no-write] [--only core|files|net|http|web|pg|mysql]

Seven sections, all by default; --only runs one of them and keeps the
others' parts of docs/benchmarks.md as they were.

Section "core" runs, one after the other:
  DIR/bench/corio_bench   Google Benchmark, JSON, N repetitions: the median CPU time per op
  DIR/bench/corio_memory  VmRSS with 1 000 000 tasks sleeping at once
  DIR/bench/asio_anchor   Boost.Asio C++20 coroutines, the same operations
  bench/anchors/asyncio_anchor.py --loop asyncio, then --loop uvloop
and prints: operation | asyncio | uvloop | Asio | corio | corio target |
corio vs the best anchor | target met? The same table goes to
docs/benchmarks.md with the date, the machine and the exact commands; the
part of that file between the `notes` markers is kept from one run to the next.

Every figure is CPU time per operation (ns), the median of the repetitions
of this one run, except memory (MiB resident).

Section "files" (bench/compare_files.py) creates its test files in a temp
dir, warms the page cache and measures file I/O throughput (MB/s, files/s,
wall time) of corio (DIR/bench/corio_fs_bench, io_uring and epoll), of the
limits (cat, dd bs=4k, wc -l, plain C++ loops) and of aiofiles
(bench/anchors/aiofiles_anchor.py on asyncio and uvloop); its table goes
between the `files` markers of docs/benchmarks.md.

Section "net" (bench/compare_net.py) starts the echo servers (the C epoll
limit DIR/bench/echo_epoll, corio's DIR/bench/corio_echo_server on io_uring
and epoll, Boost.Asio's DIR/bench/asio_echo, bench/anchors/asyncio_echo.py on
asyncio and uvloop) and drives each with the same load client
(DIR/bench/net_echo_load): 64-byte ping-pong round trips/s and p99 latency
at 1 and 50 connections, server CPU per round trip, idle memory per
connection, then TLS: 16 KiB echo throughput against `openssl speed` and
handshakes/s with `openssl s_time` (against `openssl s_server` too); its
table goes between the `net` markers of docs/benchmarks.md.

Section "http" (bench/compare_http.py) starts nginx (one worker, pinned to
one CPU) and runs each HTTP client pinned to the other: 50 concurrent GETs of
a 13-byte file over keep-alive, plain and HTTPS, with wrk (the limit), corio
(DIR/bench/corio_http_load, io_uring and epoll), libcurl's multi interface
(DIR/bench/libcurl_multi_load) and aiohttp (bench/anchors/aiohttp_load.py on
asyncio and uvloop), then a 1 GiB streamed download against
`curl -o /dev/null`; its table goes between the `http` markers.

Section "web" (bench/compare_web.py) runs the HTTP servers, each pinned to
one CPU, under wrk on the other: nginx (the limit), corio::web on io_uring
and epoll, Boost.Beast's C++20-coroutine server, aiohttp.web on asyncio and
uvloop; then the Django-style sleep view under 10 000 connections and
workers = 2 against 1; its table goes between the `web` markers.

Sections "pg" and "mysql" (bench/compare_pg.py, bench/compare_mysql.py)
each start a private database server and run corio's pool against asyncpg
or aiomysql and the C limit (pgbench; Connector/C's blocking API); the
script's table goes between the `pg` or `mysql` markers.

Exits non-zero only if something failed to run (a missed target is not a
failure).
"""
import argparse
import datetime
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time

import report  # bench/report.py: shared helpers
from report import load, log, sh

import compare_files  # bench/compare_files.py: the "files" section
import compare_net  # bench/compare_net.py: the "net" section
import compare_http  # bench/compare_http.py: the "http" section
import compare_web  # bench/compare_web.py: the "web" section

# The database sections: each script starts its own server, runs the anchors
# and corio, and prints its table (markdown) on stdout, pasted between markers.
DB_SECTIONS = {
    "pg": ("bench/compare_pg.py", "corio_pg_load", "PostgreSQL (corio::pg)"),
    "mysql": ("bench/compare_mysql.py", "mysql_load", "MySQL / MariaDB (corio::mysql)"),
}


def db_markers(name):
    return (f"<!-- {name}:begin (written by bench/compare.py; `--only {name}` rewrites just this part) -->",
            f"<!-- {name}:end -->")


def run_db(name, args, build):
    """Runs a database section's script; gives (failures, the section text or None with --no-write)."""
    script, load, title = DB_SECTIONS[name]
    cmd = [PYTHON, script, "--load", os.path.join(build, "bench", load)] + (["--quick"] if args.quick else [])
    started = datetime.datetime.now().astimezone()
    log(f"{name}: {' '.join(cmd)}")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return [f"{script}: timed out"], None
    print(proc.stdout)
    failures = [] if proc.returncode == 0 else [f"{script}: exit {proc.returncode}: {proc.stderr[-800:]}"]
    if args.no_write:
        return failures, None
    begin, end = db_markers(name)
    rel = [PYTHON, script, "--load", os.path.relpath(cmd[3], ROOT)] + cmd[4:]
    text = (f"{begin}\n## {title}\n\nIn one run (`{' '.join(rel)}`, {started:%Y-%m-%d %H:%M %Z}, tree "
            f"{sh('git rev-parse --short HEAD')}, load average {report.load()} after); the script's own text says what "
            f"each row runs and why a missed target is missed (also docs/{name}.md).\n\n{proc.stdout.strip()}\n{end}")
    return failures, text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
NOTES_BEGIN = "<!-- notes:begin (kept by bench/compare.py) -->"
NOTES_END = "<!-- notes:end -->"

# key, label, target, unit
OPS = [
    ("with_class_manager", "`with` of a trivial class manager (aenter + empty body + aexit)", 15, "ns"),
    ("with_context_manager", "`with` of a trivial `context_manager` (generator form)", 40, "ns"),
    ("co_await_trivial_task", "`co_await` of a trivial `task<void>`", 8, "ns"),
    ("spawn_join", "`spawn` + join of a trivial task", 80, "ns"),
    ("with_lock_uncontended", "`with(lock)` uncontended", 10, "ns"),
    ("lock_handoff", "lock handed between 2 tasks (per handoff)", 60, "ns"),
    ("sleep0_round_trip", "`sleep(0s)` yield round trip", 40, "ns"),
    ("queue_ping_pong", "queue ping-pong between 2 tasks (per round trip)", 80, "ns"),
    ("async_generator_item", "async generator, per item", 8, "ns"),
    ("memory_1m_sleeping_tasks_mib", "memory for 1 000 000 tasks sleeping at once", 200, "MiB"),
]
ANCHORS = ["asyncio", "uvloop", "Asio"]

# What each anchor runs for an operation, where it is not the obvious same thing.
ANCHOR_NOTES = {
    ("with_class_manager", "Asio"): "two co_awaits written by hand",
    ("sleep0_round_trip", "Asio"): "asio::post",
    ("queue_ping_pong", "Asio"): "channel",
    ("memory_1m_sleeping_tasks_mib", "Asio"): "steady_timer each",
}


def run(cmd, timeout, commands, env=None):
    """Runs cmd, returns stdout; records the command line; raises on failure."""
    shown = " ".join(shlex.quote(c) for c in cmd)
    commands.append(shown)
    log(f"$ {shown}")
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
    log(f"  ({time.monotonic() - t0:.1f} s, exit {p.returncode})")
    if p.returncode != 0:
        raise RuntimeError(f"{shown} exited with {p.returncode}:\n{p.stderr[-2000:]}")
    return p.stdout


def parse_lines(text):
    """`name value  # comment` lines -> {name: float}; '#' lines are ignored."""
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) >= 2:
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return out


def comments(text):
    return [line for line in text.splitlines() if line.startswith("#")]


def run_corio_bench(exe, quick, commands):
    reps = 3 if quick else 5
    min_time = "0.05" if quick else "0.3"
    out = run([exe, "--benchmark_format=json", f"--benchmark_repetitions={reps}",
               f"--benchmark_min_time={min_time}"], 600, commands)
    data = json.loads(out)
    per_rep, errors = {}, []
    for b in data["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        name = b.get("run_name", b["name"]).split("/")[0]
        if b.get("error_occurred"):
            errors.append(f"{name}: {b.get('error_message', 'error')}")
            continue
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
        ops = b.get("ops_per_iter", 1) or 1
        per_rep.setdefault(name, []).append((b["cpu_time"] * scale / ops, b["real_time"] * scale / ops))
    results, spread = {}, {}
    for name, samples in per_rep.items():
        cpu = [s[0] for s in samples]
        wall = [s[1] for s in samples]
        results[name] = statistics.median(cpu)
        spread[name] = (min(cpu), max(cpu), statistics.median(wall), len(cpu))
    return results, spread, sorted(set(errors))


def fmt(v, unit):
    if v is None:
        return "n/a"
    if unit == "MiB":
        return f"{v:,.0f}".replace(",", " ")
    if v >= 1000:
        return f"{v:,.0f}".replace(",", " ")
    if v >= 100:
        return f"{v:.0f}"
    return f"{v:.1f}"


def build_rows(res, errored=()):
    rows = []
    for key, label, target, unit in OPS:
        cells = [label]
        anchors = {}
        for a in ANCHORS:
            v = res[a].get(key) if res[a] is not None else None
            if v is not None:
                anchors[a] = v
            cell = fmt(v, unit) if v is not None else ("failed" if res[a] is None else "none")
            note = ANCHOR_NOTES.get((key, a))
            if note and v is not None:
                cell += f" ({note})"
            cells.append(cell)
        c = res["corio"].get(key) if res["corio"] is not None else None
        cells.append(fmt(c, unit) if c is not None else
                     "failed" if res["corio"] is None or key in errored else "not built")
        cells.append(f"<= {target} {unit}")
        if c is not None and anchors:
            best = min(anchors, key=anchors.get)
            r = anchors[best] / c
            cells.append(f"{r:.1f}x less than {best}" if unit == "MiB" and r >= 1 else
                         f"{1 / r:.1f}x more than {best}" if unit == "MiB" else
                         f"{r:.1f}x faster than {best}" if r >= 1 else f"{1 / r:.1f}x slower than {best}")
        else:
            cells.append("-")
        cells.append("-" if c is None else ("yes" if c <= target else f"NO ({c / target:.1f}x the target)"))
        rows.append(cells)
    return rows


HEADER = ["operation", "asyncio", "uvloop", "Asio", "corio", "corio target", "corio vs best anchor", "target met?"]

# Targets that are ratios of two figures of the same run (issue 12, item 5):
# (label, numerator (source, key), denominator (source, key), factor, target).
# The denominator is multiplied by `factor` (2 Asio co_awaits = 2 x one).
RATIOS = [
    ("`with` of a class manager / the same three coroutines awaited by hand in corio",
     ("corio", "with_class_manager"), ("corio", "with_class_manager_by_hand"), 1, 1.1),
    ("`with` of a class manager / two Asio `co_await`s of a trivial awaitable written by hand",
     ("corio", "with_class_manager"), ("Asio", "with_class_manager"), 1, 0.9),
    ("`co_await` of a trivial task / one Asio `co_await`",
     ("corio", "co_await_trivial_task"), ("Asio", "co_await_trivial_task"), 1, 0.4),
]
RATIO_HEADER = ["ratio", "numerator ns", "denominator ns", "ratio", "target", "target met?"]


def build_ratio_rows(res):
    rows = []
    for label, (ns, nk), (ds, dk), factor, target in RATIOS:
        n = (res.get(ns) or {}).get(nk)
        d = (res.get(ds) or {}).get(dk)
        if n is None or d is None:
            rows.append([label, fmt(n, "ns") if n else "n/a", fmt(d, "ns") if d else "n/a", "n/a", f"<= {target}", "-"])
            continue
        r = n / (d * factor)
        rows.append([label, fmt(n, "ns"), fmt(d * factor, "ns"), f"{r:.2f}", f"<= {target}",
                     "yes" if r <= target else f"NO ({r / target:.2f}x the target)"])
    return rows


def markdown_table(rows):
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def plain_table(rows):
    return report.text_table(HEADER, [[re.sub(r"`", "", c) for c in r] for r in rows])


def cached_compiler(build):
    """The C++ compiler the bench build directory was configured with (make bench: clang++-19)."""
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("CMAKE_CXX_COMPILER:"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return "c++"


def machine(build):
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "nproc": sh("nproc"),
        "model": model,
        "kernel": platform.release(),
        "compiler": sh(f"'{cached_compiler(build)}' --version | head -1"),
        "os": sh(". /etc/os-release && echo $PRETTY_NAME"),
        "python": sh(f"{PYTHON} -c 'import sys; print(sys.version.split()[0])'"),
        "uvloop": sh(f"{PYTHON} -c 'import uvloop; print(uvloop.__version__)'"),
        "libbenchmark": sh("dpkg-query -W -f='${Version}' libbenchmark-dev"),
        "boost": sh("dpkg-query -W -f='${Version}' libboost1.81-dev"),
    }


def old_notes():
    try:
        with open(DOC) as f:
            return report.kept_notes(f.read(), NOTES_BEGIN, NOTES_END)
    except OSError:
        return None


DEFINITIONS = """\
How each operation is measured (the same definition in every implementation;
`bench/` has the sources):

- **with, class manager**: a manager whose `aenter`/`aexit` are trivial
  coroutines (`task` in corio, `awaitable` in Asio, `async def` in Python),
  constructed for each `with`; the body is an empty coroutine. Asio has no
  `with`: its row is `co_await m.aenter()` then `co_await m.aexit(nullptr)`
  written by hand.
- **with, context_manager**: `context_manager<int>` / `@asynccontextmanager`
  with one `yield`, an empty body.
- **co_await trivial task**: `co_await trivial()` where `trivial` is
  `task<> trivial() { co_return; }` (Asio: `awaitable<void>`). Python has no
  equivalent that is not just a function call: skipped.
- **spawn + join**: `co_await spawn(trivial())` (asyncio:
  `await create_task(trivial())`; Asio: `co_await co_spawn(ex, trivial(),
  use_awaitable)`).
- **with(lock) uncontended**: `with(l, empty body)` / `async with lock: pass`.
- **lock handoff**: two tasks pass a FIFO-fair lock back and forth; each
  releases it while the other waits in `acquire()`, then waits in
  `acquire()` itself. One op = one handoff (release to a waiter + that
  waiter's resumption). Asio has no lock.
- **sleep(0) round trip**: `co_await sleep(0s)` / `await asyncio.sleep(0)` /
  `co_await asio::post(ex, use_awaitable)` in a loop with nothing else ready.
- **queue ping-pong**: two unbounded queues; one op = one round trip (put to
  the other task, which gets it and puts it back on the second queue, get
  it). Asio: two `experimental::channel<void(error_code, int)>` of capacity 1.
- **async generator per item**: one `next()` of a generator that only
  yields (`async for` in Python).
- **memory**: VmRSS of the whole process (from `/proc/self/status`) while
  1 000 000 tasks sleep at once (`sleep(1h)` each, spawned and detached;
  asyncio: `create_task`; Asio: `co_spawn(detached)` of a coroutine waiting
  on its own `steady_timer`). Each memory figure comes from a fresh process.

Google Benchmark's "Library was built as DEBUG" warning is about Debian's
build of libbenchmark itself (its own bookkeeping), not about corio, which is
compiled in Release.
"""


def run_core(args, build):
    """The micro-benchmarks and memory: prints the table; gives (failures, the document's core part)."""
    bench_dir = os.path.join(build, "bench")
    started = datetime.datetime.now().astimezone()
    t_start = time.monotonic()
    load_before = load()
    commands, failures = [], []
    res = {"asyncio": None, "uvloop": None, "Asio": None, "corio": None}
    spread, raw, errored = {}, {}, set()
    quick = ["--quick"] if args.quick else []

    # corio: micro-benchmarks, then memory.
    exe = os.path.join(bench_dir, "corio_bench")
    try:
        res["corio"], spread, errors = run_corio_bench(exe, args.quick, commands)
        failures += [f"corio_bench {e}" for e in errors]
        errored = {e.split(":", 1)[0] for e in errors}
    except Exception as e:  # noqa: BLE001 - report and go on with the others
        failures.append(f"corio_bench: {e}")
    try:
        out = run([os.path.join(bench_dir, "corio_memory"), "--tasks", str(args.tasks)], 300, commands)
        raw["corio_memory"] = comments(out)
        if res["corio"] is None:
            res["corio"] = {}
        res["corio"].update(parse_lines(out))
    except Exception as e:  # noqa: BLE001
        failures.append(f"corio_memory: {e}")

    # The anchors.
    try:
        out = run([os.path.join(bench_dir, "asio_anchor"), "--tasks", str(args.tasks)] + quick, 300, commands)
        res["Asio"] = parse_lines(out)
        raw["asio_anchor"] = comments(out)
    except Exception as e:  # noqa: BLE001
        failures.append(f"asio_anchor: {e}")
    for loop in ("asyncio", "uvloop"):
        try:
            out = run([PYTHON, "bench/anchors/asyncio_anchor.py", "--loop", loop, "--tasks", str(args.tasks)] + quick,
                      600, commands)
            res[loop] = parse_lines(out)
            raw[f"asyncio_anchor --loop {loop}"] = comments(out)
        except Exception as e:  # noqa: BLE001
            failures.append(f"asyncio_anchor --loop {loop}: {e}")

    elapsed = time.monotonic() - t_start
    load_after = load()
    rows = build_rows(res, errored)
    ratio_rows = build_ratio_rows(res)
    print()
    print(plain_table(rows))
    print()
    print(report.text_table(RATIO_HEADER, [[re.sub(r"`", "", c) for c in r] for r in ratio_rows]))
    print(f"\nns per op (CPU time, median of repetitions) or MiB resident; one run, {elapsed:.0f} s, "
          f"load average {load_before} before, {load_after} after.")
    extra = [n for n in spread if n not in {k for k, *_ in OPS}]
    if extra:
        print("diagnostics (corio, CPU ns/op): " + ", ".join(f"{n} {res['corio'][n]:.1f}" for n in extra))
    for f in failures:
        print(f"FAILED: {f}", file=sys.stderr)

    lines = []
    if not args.no_write:
        m = machine(build)
        lines = [
            "# Benchmarks",
            "",
            "Written by `bench/compare.py` (`make bench`); do not edit by hand except between the",
            "notes markers, which the script keeps.",
            "",
            f"- Date: {started.strftime('%Y-%m-%d %H:%M %Z')}" + (" (`--quick`)" if args.quick else ""),
            f"- Machine: {m['nproc']} CPUs, {m['model']}, kernel {m['kernel']}, {m['os']}",
            f"- Compiler: {m['compiler']}, CMake Release; Google Benchmark {m['libbenchmark']}, "
            f"Boost {m['boost']}, Python {m['python']}, uvloop {m['uvloop']}",
            f"- Load average: {load_before} before the run, {load_after} after; the whole run took {elapsed:.0f} s.",
            "",
            "**Noise.** These are single-thread figures from one run on a shared machine (other",
            "builds may be running on the same cores). Each figure is the median of the repetitions",
            "of this run, in CPU time per operation, which is less disturbed than wall time by",
            "other processes but still moves by up to 2x between runs; compare figures within one",
            "run, not across runs.",
            "",
            markdown_table(rows),
            "",
            "Ratios of two figures of this run (the targets of issue 12, item 5):",
            "",
            "| " + " | ".join(RATIO_HEADER) + " |",
            "|" + "---|" * len(RATIO_HEADER),
        ] + ["| " + " | ".join(r) + " |" for r in ratio_rows] + [
            "",
            "ns per operation (CPU time, median), except memory (MiB resident, the whole process).",
            "\"none\": the anchor has no such operation.",
            "",
            NOTES_BEGIN,
            old_notes() or "## Notes\n\n(What limits a missed target goes here.)",
            NOTES_END,
            "",
            "## Commands",
            "",
            "```sh",
            "make bench   # which runs:",
            f"CXX={os.path.basename(cached_compiler(build))} "
            f"cmake -S . -B {os.path.relpath(build, ROOT)} -G Ninja -DCMAKE_BUILD_TYPE=Release "
            "-DCORIO_BUILD_BENCH=ON -DCORIO_BUILD_TESTS=OFF -DCORIO_BUILD_EXAMPLES=OFF",
            f"cmake --build {os.path.relpath(build, ROOT)} -j2",
            f"{PYTHON} bench/compare.py --build {os.path.relpath(build, ROOT)}" + (" --quick" if args.quick else ""),
            "# which ran, in this order:",
        ]
        lines += [c.replace(ROOT + "/", "") for c in commands]
        lines += ["```", "", "## What is measured", "", DEFINITIONS]
        extra = [n for n in spread if n not in {k for k, *_ in OPS}]
        if extra:
            lines += ["## Diagnostic corio benchmarks", "",
                      "Not in the targets: they show where the time of an operation above goes",
                      "(see each one's comment in `bench/`).", "",
                      "| benchmark | CPU ns/op (median) |", "|---|---|"]
            lines += [f"| {n} | {res['corio'][n]:.1f} |" for n in extra] + [""]
        if spread:
            lines += ["## Spread of corio's repetitions", "",
                      "| benchmark | median CPU ns/op | min | max | median wall ns/op | repetitions |",
                      "|---|---|---|---|---|---|"]
            for name, (lo, hi, wall, n) in spread.items():
                lines.append(f"| {name} | {res['corio'][name]:.2f} | {lo:.2f} | {hi:.2f} | {wall:.2f} | {n} |")
            lines.append("")
        if raw:
            lines += ["## Raw comments from each program", "", "```"]
            for k, v in raw.items():
                lines += [f"{k}:"] + [f"  {x}" for x in v]
            lines += ["```", ""]
        if failures:
            lines += ["## Failures in this run", ""] + [f"- {f.splitlines()[0]}" for f in failures] + [""]
    return failures, "\n".join(lines)


def read_doc():
    try:
        with open(DOC) as f:
            return f.read()
    except OSError:
        return ""


def split_section(text, begin, end):
    """(the text without the section between begin and end, that section or None)."""
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        return text, None
    j += len(end)
    return text[:i].rstrip("\n") + "\n" + text[j:].lstrip("\n"), text[i:j]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", required=True, help="the build directory (configured with -DCORIO_BUILD_BENCH=ON)")
    p.add_argument("--quick", action="store_true", help="fewer repetitions, shorter runs (a few minutes in all)")
    p.add_argument("--no-write", action="store_true", help="print the table, do not write docs/benchmarks.md")
    p.add_argument("--tasks", type=int, default=1_000_000, help="tasks for the memory measurement")
    p.add_argument("--only", choices=["core", "files", "net", "http", "web", "pg", "mysql"], default=None,
                   help="run one section (core: micro-benchmarks and memory; files: file I/O throughput; "
                        "net: echo servers; http: the HTTP client against nginx; web: the HTTP server under wrk; pg, mysql: the database drivers against their servers) and keep the others' parts of docs/benchmarks.md; default: all")
    args = p.parse_args()

    build = os.path.abspath(args.build)
    failures = []
    db_text = {}
    rest, old_web = split_section(read_doc(), compare_web.BEGIN, compare_web.END)
    rest, old_http = split_section(rest, compare_http.BEGIN, compare_http.END)
    rest, old_net = split_section(rest, compare_net.BEGIN, compare_net.END)
    old_core, old_files = split_section(rest, compare_files.BEGIN, compare_files.END)
    core_text = files_text = net_text = http_text = web_text = None
    if args.only in (None, "core"):
        f, core_text = run_core(args, build)
        failures += f
    if args.only in (None, "files"):
        f, files_text = compare_files.run_files(args, build, old_files)
        failures += f
    if args.only in (None, "net"):
        f, net_text = compare_net.run_net(args, build, old_net)
        failures += f
    if args.only in (None, "http"):
        f, http_text = compare_http.run_http(args, build, old_http)
        failures += f
    if args.only in (None, "web"):
        f, web_text = compare_web.run_web(args, build, old_web)
        failures += f
    for name in DB_SECTIONS:
        if args.only in (None, name):
            f, db_text[name] = run_db(name, args, build)
            failures += f

    if not args.no_write:
        # The sections not run are taken from the file as it is now: another
        # run (`--only net`, say) may have rewritten its part meanwhile.
        rest = read_doc()
        old_db = {}
        for name in DB_SECTIONS:
            rest, old_db[name] = split_section(rest, *db_markers(name))
        rest, old_web = split_section(rest, compare_web.BEGIN, compare_web.END)
        rest, old_http = split_section(rest, compare_http.BEGIN, compare_http.END)
        rest, old_net = split_section(rest, compare_net.BEGIN, compare_net.END)
        old_core, old_files = split_section(rest, compare_files.BEGIN, compare_files.END)
        core = core_text if core_text is not None else old_core.rstrip("\n")
        if not core.strip():
            core = "# Benchmarks\n\nWritten by `bench/compare.py` (`make bench`).\n"
        files = files_text if files_text is not None else old_files
        net = net_text if net_text is not None else old_net
        http = http_text if http_text is not None else old_http
        web = web_text if web_text is not None else old_web
        text = core.rstrip("\n") + "\n"
        dbs = [db_text.get(name) or old_db[name] for name in DB_SECTIONS]
        for section in (files, net, http, web, *dbs):
            if section:
                text += "\n" + section.strip("\n") + "\n"
        os.makedirs(os.path.dirname(DOC), exist_ok=True)
        with open(DOC, "w") as f:
            f.write(text)
        print(f"wrote {os.path.relpath(DOC, ROOT)}")

    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
