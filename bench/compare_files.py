"""The "files" section of bench/compare.py: file I/O throughput, side by side in one run.

    /usr/bin/python3 bench/compare.py --build build-bench --only files [--quick] [--no-write]

Creates the test files once in a temp dir under $TMPDIR (else /tmp; removed
at the end), reads them all once so they are in the page cache, then runs,
operation by operation:
  the limit      cat, dd bs=4k, wc -l (subprocesses, each timed with
                 time.perf_counter around subprocess.run), or the plain C++
                 loops of corio_fs_bench (plain-write, plain-manyfiles)
  corio          DIR/bench/corio_fs_bench on the io_uring and the epoll backend
  aiofiles       bench/anchors/aiofiles_anchor.py on asyncio and on uvloop
Every program does one untimed warm-up repetition, then N timed ones; each
figure is the median MB/s (10^6 bytes per second, wall time) or files/s of
those. The table goes between the `files` markers of docs/benchmarks.md;
the notes between the `files-notes` markers are kept from run to run.
"""
import datetime
import json
import math
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from report import kept_notes, load, log, sh, text_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"
ANCHOR = "bench/anchors/aiofiles_anchor.py"
BEGIN = "<!-- files:begin (written by bench/compare.py; `--only files` rewrites just this part) -->"
END = "<!-- files:end -->"
NOTES_BEGIN = "<!-- files-notes:begin (kept by bench/compare.py) -->"
NOTES_END = "<!-- files-notes:end -->"
NO_NOTES = "### Notes\n\n(What limits a missed target goes here.)"

MiB = 1 << 20
READ_SIZE = 512 * MiB          # 1 MiB-chunk reads
SMALL_READ_SIZE = 128 * MiB    # 4 KiB-chunk reads, every runtime (aiofiles needs ~3 s for it)
WRITE_SIZE = 256 * MiB
MANY_FILES, MANY_SIZE, CONCURRENCY = 10_000, 4096, 64
LINES_SIZE = 256 * MiB
AIOFILES_LINES_SIZE = 2 * MiB  # aiofiles does ~2 MB/s of lines: a prefix of the same text

# key, operation, limit's name, unit, target vs the limit, target vs aiofiles
ROWS = [
    ("read_1m", "read 512 MiB in 1 MiB chunks (corio `read_into`, aiofiles `read(1 MiB)`)",
     "cat", "MB/s", 0.95, 1.5),
    ("read_4k", "read 128 MiB in 4 KiB chunks: corio `read_into` of 4 KiB spans "
     "(through its 64 KiB buffer, as Python's buffered file); aiofiles `read(4096)`",
     "dd bs=4k", "MB/s", 0.7, 10),
    ("pread_4k", "read 128 MiB in 4 KiB chunks: corio `pread(4096, offset)` at increasing offsets "
     "(one kernel op per 4 KiB: the per-operation cost); aiofiles `read(4096)`",
     "dd bs=4k", "MB/s", 0.7, 10),
    ("write_1m", "write 256 MiB in 1 MiB chunks to a fresh file, no fsync",
     "C++ write(2) loop", "MB/s", 0.95, 1.3),
    ("manyfiles", "read 10 000 files of 4 KiB, 64 at a time (open, read all, close)",
     "C++ sequential loop", "files/s", 1.0, 10),
    ("lines", "count the lines of a 256 MiB text file (60-100 byte lines) with `lines()`; "
     "aiofiles `async for line in f` over a 2 MiB prefix of it",
     "wc -l", "MB/s", 0.5, 20),
]
RUNTIMES = ["limit", "aiofiles asyncio", "aiofiles uvloop", "corio io_uring", "corio epoll"]

DEFINITIONS = """\
Every figure is wall time (`steady_clock` in C++, `time.perf_counter` in
Python) from before the open to after the close, files already in the page
cache, the median of the repetitions of this one run. Each program checks what
it did (bytes read equal the file's size, the line count, the written size,
the number of files) and fails the run otherwise; `wc -l`'s count and `dd`'s
byte count are checked too.

- **read, 1 MiB chunks**: corio: `open(F, "rb")`, `read_into` of a 1 MiB
  span until it gives 0 (a read of 64 KiB or more goes straight into the
  caller's memory: one kernel read per MiB), `close()`. aiofiles:
  `await f.read(1048576)` until `b""`. Limit: `cat F > /dev/null` (GNU cat:
  128 KiB reads).
- **read, 4 KiB chunks** (128 MiB for every runtime, because aiofiles needs
  seconds for it): corio twice, `read_into` of 4 KiB spans (served from its
  64 KiB buffer: one kernel read per 64 KiB, like Python's buffered file) and
  `pread(4096, offset)` at increasing offsets (a `std::string` per call and
  one kernel read per 4 KiB, no buffer). aiofiles: `await f.read(4096)` (one
  trip to the thread pool per call; the Python file buffers underneath).
  Limit: `dd if=F of=/dev/null bs=4k` (one read(2) and one write(2) per 4 KiB).
- **write, 1 MiB chunks**: the file is unlinked before each repetition (the
  unlink is not timed), then `open(F, "wb")`, 256 writes of 1 MiB, `close()`,
  no fsync. Limit: the same with open(2)/write(2)/close(2) in C++
  (`corio_fs_bench plain-write`).
- **10 000 files of 4 KiB, 64 at a time**: corio: `gather` of 64 tasks that
  each take the next index from a shared counter, then `open(p, "rb")`,
  `read()` (to EOF), `close()`. aiofiles: the same with 64 coroutines under
  `asyncio.gather`, `async with aiofiles.open(p, "rb")` and `await f.read()`.
  Limit: a sequential C++ loop of open(2), read(2) of 64 KiB until 0,
  close(2) (`corio_fs_bench plain-manyfiles`). Figures are files per second.
- **lines**: the file is text of lines of 60 to 100 bytes (80 on average)
  written by `corio_fs_bench make-lines` (the same text on every run). corio:
  `auto g = f.lines(); while (auto l = co_await g.next())` counting lines and
  bytes. aiofiles: `async for line in f` (binary mode: no decoding; each line
  is one trip to the thread pool) over the first 2 MiB of the same text, as
  the whole file would take minutes. Limit: `wc -l F`.
- **ratios**: corio ÷ the limit for each backend; corio ÷ aiofiles takes the
  faster of the two aiofiles loops. ✓/✗ compares each with its target.
  limit ÷ aiofiles is the limit against the same aiofiles figure.
- The limits that are separate processes (cat, dd, wc) include the process's
  start, which the timing of an empty run (`cat /dev/null`, under the table)
  shows.
"""


class Runner:
    def __init__(self, tmp, build):
        self.tmp, self.build = tmp, build
        self.commands = []

    def show(self, cmd, redirect=""):
        text = " ".join(shlex.quote(c) for c in cmd) + redirect
        text = text.replace(self.tmp, "$D").replace(ROOT + "/", "")
        return text

    def json_of(self, cmd, timeout=180):
        """Runs one of our programs; its last JSON line."""
        shown = self.show(cmd)
        self.commands.append(shown)
        log(f"$ {shown}")
        t0 = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        log(f"  ({time.monotonic() - t0:.1f} s, exit {p.returncode})")
        if p.returncode != 0:
            raise RuntimeError(f"{shown} exited with {p.returncode}: {p.stderr.strip()[-500:]}")
        lines = [x for x in p.stdout.splitlines() if x.startswith("{")]
        if not lines:
            raise RuntimeError(f"{shown}: no JSON line in its output")
        return json.loads(lines[-1])

    def timed(self, cmd, reps, work, unit, redirect, check=None, warmup=1, timeout=60):
        """Runs cmd warmup + reps times, timing each with perf_counter; a result like the programs' JSON."""
        shown = self.show(cmd, redirect)
        self.commands.append(f"{shown}   # {warmup} + {reps} times, each timed")
        log(f"$ {shown}  (x{warmup + reps})")
        scale = 1e6 if unit == "MB/s" else 1
        seconds = []
        for i in range(warmup + reps):
            t0 = time.perf_counter()
            p = subprocess.run(cmd, stdout=subprocess.DEVNULL if check is None else subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=timeout, cwd=ROOT)
            dt = time.perf_counter() - t0
            if p.returncode != 0:
                raise RuntimeError(f"{shown} exited with {p.returncode}: {p.stderr.strip()[-500:]}")
            if check is not None:
                check(p)
            if i >= warmup:
                seconds.append(dt)
        rates = [work / s / scale for s in seconds]
        return {"median": statistics.median(rates), "samples": rates, "seconds": seconds, "unit": unit}


def make_files(tmp, exe):
    """The test files; gives the line counts {path: lines}."""
    block = random.Random(20261121).randbytes(MiB)
    big, small = os.path.join(tmp, "read.bin"), os.path.join(tmp, "read128.bin")
    for path, size in ((big, READ_SIZE), (small, SMALL_READ_SIZE)):
        with open(path, "wb") as f:
            for _ in range(size // MiB):
                f.write(block)
    many = os.path.join(tmp, "many")
    os.mkdir(many)
    for i in range(MANY_FILES):
        with open(os.path.join(many, f"f{i:05d}"), "wb") as f:
            off = (i * 4099) % (MiB - MANY_SIZE)
            f.write(block[off:off + MANY_SIZE])
    counts = {}
    for name, size in (("lines.txt", LINES_SIZE), ("lines-prefix.txt", AIOFILES_LINES_SIZE)):
        path = os.path.join(tmp, name)
        out = subprocess.run([exe, "make-lines", "--file", path, "--size", str(size)],
                             capture_output=True, text=True, timeout=120, check=True).stdout
        counts[name] = json.loads(out.strip().splitlines()[-1])["lines"]
    return {"big": big, "small": small, "many": many, "lines": os.path.join(tmp, "lines.txt"),
            "lines_prefix": os.path.join(tmp, "lines-prefix.txt"), "counts": counts}


def warm(files):
    """Writes the new files back (so the kernel's flusher does not do it during the
    measurements), then reads every test file once: they are in the page cache from here on."""
    os.sync()
    for key in ("big", "small", "lines", "lines_prefix"):
        subprocess.run(["cat", files[key]], stdout=subprocess.DEVNULL, check=True)
    for name in os.listdir(files["many"]):
        with open(os.path.join(files["many"], name), "rb") as f:
            f.read()


def fmt(v):
    if v is None:
        return "n/a"
    if v >= 100:
        return f"{v:,.0f}".replace(",", " ")
    return f"{v:.1f}"


def ratio_text(r):
    # Truncated, not rounded: 1.2997 against a target of 1.3 shows as 1.29x ✗.
    return f"{math.floor(r * 100) / 100:.2f}x" if r < 10 else f"{math.floor(r):,}x".replace(",", " ")


def build_rows(res):
    rows = []
    for key, label, limit_name, unit, t_limit, t_aio in ROWS:
        r = res.get(key, {})
        med = {rt: (r[rt]["median"] if r.get(rt) else None) for rt in RUNTIMES}
        cells = [label]
        cells.append(f"{fmt(med['limit'])} ({limit_name})" if med["limit"] is not None else f"failed ({limit_name})")
        for rt in RUNTIMES[1:]:
            cells.append(fmt(med[rt]) if med[rt] is not None else "failed")
        aio = [med[a] for a in ("aiofiles asyncio", "aiofiles uvloop") if med[a] is not None]
        best_aio = max(aio) if aio else None
        vs_limit, vs_aio, misses = [], [], []
        for be in ("io_uring", "epoll"):
            c = med[f"corio {be}"]
            for base, target, out, what in ((med["limit"], t_limit, vs_limit, limit_name),
                                            (best_aio, t_aio, vs_aio, "aiofiles")):
                if c is None or base is None:
                    out.append("n/a")
                    misses.append(f"{be} vs {what}: not measured")
                    continue
                ratio = c / base
                ok = ratio >= target
                out.append(f"{ratio_text(ratio)} {'✓' if ok else '✗'}")
                if not ok:
                    misses.append(f"{be} vs {what}")
        cells.append(" / ".join(vs_limit))
        cells.append(" / ".join(vs_aio))
        cells.append(ratio_text(med["limit"] / best_aio) if med["limit"] is not None and best_aio else "n/a")
        cells.append(f"≥ {t_limit:g}x {limit_name}, ≥ {t_aio:g}x aiofiles")
        cells.append("✓" if not misses else "✗ (" + "; ".join(misses) + ")")
        rows.append((unit, cells))
    return rows


HEADER = ["operation", "limit", "aiofiles asyncio", "aiofiles uvloop", "corio io_uring", "corio epoll",
          "corio ÷ limit (io_uring / epoll)", "corio ÷ aiofiles (io_uring / epoll)", "limit ÷ aiofiles",
          "target", "met?"]


def markdown(rows):
    out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for unit, cells in rows:
        out.append("| " + " | ".join([cells[0] + f" ({unit})"] + cells[1:]) + " |")
    return "\n".join(out)


def short_table(rows):
    short = ["read 512 MiB, 1 MiB chunks", "read 128 MiB, 4 KiB read_into", "read 128 MiB, 4 KiB pread",
             "write 256 MiB, 1 MiB chunks", "10 000 files x 4 KiB, 64 at once", "lines of 256 MiB (wc -l)"]
    head = ["operation", "unit"] + HEADER[1:]
    return text_table(head, [[short[i], unit] + cells[1:] for i, (unit, cells) in enumerate(rows)])


def run_files(args, build, old_section):
    """Runs the files section; gives (failures, the document's files section)."""
    exe = os.path.join(build, "bench", "corio_fs_bench")
    reps = 3 if args.quick else 5
    slow_reps = 3  # aiofiles where one repetition takes seconds
    base = os.environ.get("TMPDIR") or "/tmp"
    started = datetime.datetime.now().astimezone()
    t_start = time.monotonic()
    load_before = load()
    failures, res, spread_rows = [], {}, []
    startup = None
    tmp = tempfile.mkdtemp(prefix="corio-fs-bench.", dir=base)
    run = Runner(tmp, build)
    try:
        if shutil.disk_usage(tmp).free < 3 << 30:
            raise RuntimeError(f"{tmp}: less than 3 GiB free")
        if not os.access(exe, os.X_OK):
            raise RuntimeError(f"{exe} is not built (cmake --build {build} --target corio_fs_bench)")
        log(f"files: creating the test files in {tmp}")
        t0 = time.monotonic()
        files = make_files(tmp, exe)
        warm(files)
        log(f"  ({time.monotonic() - t0:.1f} s)")
        lines_n = files["counts"]["lines.txt"]
        prefix_n = files["counts"]["lines-prefix.txt"]
        lines_bytes = os.path.getsize(files["lines"])
        wfile = os.path.join(tmp, "write.bin")
        common = ["--repeat", str(reps), "--warmup", "1", "--max-seconds", "20"]
        slow = ["--repeat", str(slow_reps), "--warmup", "1", "--max-seconds", "12"]

        def attempt(key, runtime, fn):
            try:
                res.setdefault(key, {})[runtime] = fn()
            except Exception as e:  # noqa: BLE001 - report and go on with the others
                failures.append(f"files {key} {runtime}: {e}")
                log(f"  FAILED: {e}")

        def corio(mode, *extra):
            return lambda be: run.json_of([exe, mode, *extra, "--backend", be] + common)

        def aiofiles(mode, *extra, opts=common):
            return lambda loop: run.json_of([PYTHON, ANCHOR, "--loop", loop, mode, *extra] + opts, timeout=240)

        def check_dd(size):
            def check(p):
                if f"{size} bytes" not in p.stderr:
                    raise RuntimeError(f"dd did not copy {size} bytes: {p.stderr.strip()}")
            return check

        def check_wc(p):
            if p.stdout.split()[0] != str(lines_n):
                raise RuntimeError(f"wc -l counted {p.stdout.strip()}, expected {lines_n}")

        # What starting a process costs the subprocess limits.
        startup = run.timed(["cat", "/dev/null"], reps, 1, "files/s", " > /dev/null")
        startup_ms = statistics.median(startup["seconds"]) * 1e3

        plan = [
            ("read_1m", "limit", lambda: run.timed(["cat", files["big"]], reps, READ_SIZE, "MB/s", " > /dev/null")),
            ("read_1m", "corio", corio("read", "--file", files["big"], "--chunk", "1M")),
            ("read_1m", "aiofiles", aiofiles("read", "--file", files["big"], "--chunk", "1M")),
            ("read_4k", "limit", lambda: run.timed(["dd", f"if={files['small']}", "of=/dev/null", "bs=4k"], reps,
                                                   SMALL_READ_SIZE, "MB/s", "", check=check_dd(SMALL_READ_SIZE))),
            ("read_4k", "corio", corio("read", "--file", files["small"], "--chunk", "4K")),
            ("pread_4k", "corio", corio("pread4k", "--file", files["small"], "--chunk", "4K")),
            ("read_4k", "aiofiles", aiofiles("read", "--file", files["small"], "--chunk", "4K", opts=slow)),
            ("write_1m", "limit", lambda: run.json_of([exe, "plain-write", "--file", wfile, "--size", "256M",
                                                        "--chunk", "1M"] + common)),
            ("write_1m", "corio", corio("write", "--file", wfile, "--size", "256M", "--chunk", "1M")),
            ("write_1m", "aiofiles", aiofiles("write", "--file", wfile, "--size", "256M", "--chunk", "1M")),
            ("manyfiles", "limit", lambda: run.json_of([exe, "plain-manyfiles", "--dir", files["many"],
                                                         "--count", str(MANY_FILES)] + common)),
            ("manyfiles", "corio", corio("manyfiles", "--dir", files["many"], "--count", str(MANY_FILES),
                                         "--concurrency", str(CONCURRENCY))),
            ("manyfiles", "aiofiles", aiofiles("manyfiles", "--dir", files["many"], "--count", str(MANY_FILES),
                                               "--concurrency", str(CONCURRENCY), opts=slow)),
            ("lines", "limit", lambda: run.timed(["wc", "-l", files["lines"]], reps, lines_bytes, "MB/s", "",
                                                 check=check_wc)),
            ("lines", "corio", corio("lines", "--file", files["lines"], "--expect-lines", str(lines_n))),
            ("lines", "aiofiles", aiofiles("lines", "--file", files["lines_prefix"], "--expect-lines", str(prefix_n),
                                           opts=slow)),
        ]
        for key, who, fn in plan:
            if who == "limit":
                attempt(key, "limit", fn)
            elif who == "corio":
                for be in ("io_uring", "epoll"):
                    attempt(key, f"corio {be}", lambda fn=fn, be=be: fn(be))
            else:
                for loop in ("asyncio", "uvloop"):
                    attempt(key, f"aiofiles {loop}", lambda fn=fn, loop=loop: fn(loop))
        # The 4 KiB pread row shares dd and aiofiles with the read_into row.
        for rt in ("limit", "aiofiles asyncio", "aiofiles uvloop"):
            if rt in res.get("read_4k", {}):
                res.setdefault("pread_4k", {})[rt] = res["read_4k"][rt]
    except Exception as e:  # noqa: BLE001
        failures.append(f"files: {e}")
        log(f"FAILED: {e}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    elapsed = time.monotonic() - t_start
    load_after = load()
    rows = build_rows(res)
    print()
    print(short_table(rows))
    print(f"\nMB/s = 10^6 bytes/s or files/s, wall time, median of repetitions; corio ÷ aiofiles uses the faster "
          f"aiofiles loop. Files section: {elapsed:.0f} s, load average {load_before} before, {load_after} after.")
    if startup:
        print(f"Starting a process (cat /dev/null) takes {statistics.median(startup['seconds']) * 1e3:.2f} ms, "
              "included in the cat, dd and wc figures.")
    for f in failures:
        print(f"FAILED: {f.splitlines()[0]}", file=sys.stderr)

    if args.no_write:
        return failures, None
    python_version = sh(f"{PYTHON} -c 'import sys; print(sys.version.split()[0])'")
    aiofiles_version = sh("dpkg-query -W -f='${Version}' python3-aiofiles")
    uvloop_version = sh("dpkg-query -W -f='${Version}' python3-uvloop")
    fstype = sh(f"findmnt -n -o FSTYPE -T {shlex.quote(base)}") or "?"
    coreutils = sh("cat --version | head -1")
    tree = sh("git rev-parse --short HEAD")
    if sh("git status --porcelain -- src include"):
        tree += " with uncommitted changes in src/ or include/"
    out = [
        BEGIN,
        "## Files",
        "",
        "File I/O throughput, every runtime side by side in one run "
        f"(`{PYTHON} bench/compare.py --build {os.path.relpath(build, ROOT)} --only files` runs this part alone).",
        "",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M %Z')}" + (" (`--quick`)" if args.quick else "") +
        f"; corio at {tree}",
        f"- Machine: {sh('nproc')} CPUs, kernel {platform.release()}; test files in a temp dir under `{base}` "
        f"({fstype}), in the page cache",
        f"- Python {python_version}, aiofiles {aiofiles_version}, uvloop {uvloop_version}; {coreutils}",
        f"- Load average: {load_before} before, {load_after} after; this section took {elapsed:.0f} s.",
        f"- Repetitions: {reps} timed after one warm-up ({slow_reps} for the aiofiles 4 KiB reads, "
        "many files and lines, whose repetitions take seconds).",
        "",
        markdown(rows),
        "",
        "MB/s is 10^6 bytes per second of wall time; the median of the repetitions. corio ÷ aiofiles is against",
        "the faster of the two aiofiles loops; limit ÷ aiofiles shows how far above aiofiles the limit itself is",
        "(a target above it cannot be met). The two 4 KiB rows share their dd and aiofiles figures.",
        "aiofiles counts lines over a 2 MiB prefix of the same text (the whole file would take minutes).",
    ]
    if startup:
        out.append(f"cat, dd and wc are timed as whole processes: starting one (`cat /dev/null`) takes "
                   f"{statistics.median(startup['seconds']) * 1e3:.2f} ms here, included in their figures.")
    out += ["", NOTES_BEGIN, kept_notes(old_section, NOTES_BEGIN, NOTES_END) or NO_NOTES, NOTES_END, "", "### Spread", "",
            "| operation | runtime | median | min | max | repetitions | median seconds per repetition |",
            "|---|---|---|---|---|---|---|"]
    for key, *_ in ROWS:
        for rt in RUNTIMES:
            r = res.get(key, {}).get(rt)
            if not r or (key == "pread_4k" and rt in ("limit", "aiofiles asyncio", "aiofiles uvloop")):
                continue
            out.append(f"| {key} | {rt} | {fmt(r['median'])} {r['unit']} | {fmt(min(r['samples']))} | "
                       f"{fmt(max(r['samples']))} | {len(r['samples'])} | {statistics.median(r['seconds']):.4f} |")
    out += ["", "### Commands", "", "```sh",
            f"{PYTHON} bench/compare.py --build {os.path.relpath(build, ROOT)} --only files"
            + (" --quick" if args.quick else ""),
            "# which ran, in this order ($D: its temp dir; the files were made with `corio_fs_bench make-lines`",
            "# and Python, then read once with cat):"]
    out += run.commands
    out += ["```", "", "### What is measured", "", DEFINITIONS]
    if failures:
        out += ["### Failures in this run", ""] + [f"- {f.splitlines()[0]}" for f in failures] + [""]
    out.append(END)
    return failures, "\n".join(out)
