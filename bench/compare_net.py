"""The "net" section of bench/compare.py: echo servers side by side in one run.

    /usr/bin/python3 bench/compare.py --build build-bench --only net [--quick] [--no-write]

Starts every echo server at once, each on an ephemeral port of 127.0.0.1
(`--port 0`; each prints `port N`):
  C limit         DIR/bench/echo_epoll (bench/anchors/echo_epoll.c)
  corio           DIR/bench/corio_echo_server --backend io_uring, then --backend epoll
                  ("not built" if bench/net_echo_server.cpp is not there yet)
  Asio            DIR/bench/asio_echo (bench/anchors/asio_echo.cpp)
  asyncio/uvloop  bench/anchors/asyncio_echo.py --loop asyncio|uvloop
and drives them with one load client, DIR/bench/net_echo_load (bench/net_echo_load.cpp):
  idle memory     per server, first: VmRSS of the server after one warm-up
                  connection, then while the client holds 2000 idle connections
                  (--idle 2000); the difference / 2000 is KiB per connection
  round trips     64-byte ping-pong at 1 and at 50 connections, 5 s each after
                  0.5 s of warm-up (--quick: 1 s after 0.2 s), the servers taken
                  in turn, all of it repeated 3 times; the figures are the
                  medians. The server's CPU time (utime + stime from
                  /proc/PID/stat) around each 50-connection run gives its CPU
                  time per round trip. Every 1-connection run (here and in
                  TLS) is done twice: client and server where the scheduler
                  puts them, and both on one CPU (DEFINITIONS says why).
  TLS             a self-signed P-256 certificate made for the run;
                  `openssl speed -evp aes-128-gcm -bytes 16384`; 16 KiB ping-pong
                  at 1 connection, plain and TLS (net_echo_load --tls), against
                  corio (plain and --tls), asyncio and uvloop (plain and --tls),
                  and the C limit (plain); handshakes per second of
                  `openssl s_time -new` against corio's TLS server, against
                  `openssl s_server` and against the Python TLS servers.
Every subprocess has a timeout and every server is stopped by its PID
(SIGTERM, then SIGKILL after 5 s), also on failure. The table goes between
the `net` markers of docs/benchmarks.md; the notes between the `net-notes`
markers are kept from run to run.
"""
import contextlib
import datetime
import math
import os
import platform
import re
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from report import kept_notes, load, log, sh, text_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"
ANCHOR = "bench/anchors/asyncio_echo.py"
BEGIN = "<!-- net:begin (written by bench/compare.py; `--only net` rewrites just this part) -->"
END = "<!-- net:end -->"
NOTES_BEGIN = "<!-- net-notes:begin (kept by bench/compare.py) -->"
NOTES_END = "<!-- net-notes:end -->"
NO_NOTES = "### Notes\n\n(What limits a missed target goes here.)"

SIZE = 64
# The 64-byte runs: key, connections, client and server on one CPU. At 1
# connection ping-pong is serial (one side waits while the other works), so
# one CPU costs nothing; it takes the cross-CPU wakeup out (see DEFINITIONS).
RUNS = (("1", 1, False), ("1 cpu", 1, True), ("50", 50, False))
IDLE_CONNECTIONS = 2000
TLS_SIZE = 16384
CLK_TCK = os.sysconf("SC_CLK_TCK")
PORT_LINE = r"^port (\d+)\n"  # what every server prints once listening (a whole line: it may be mid-write)
TLS_SUITE = "TLS_AES_128_GCM_SHA256"  # what net_echo_load offers, and s_time here: openssl speed's cipher

# Targets of corio, from the issue.
T_VS_LIMIT = 0.95      # round trips/s >= 0.95x the C limit, at 1 and at 50 connections
T_VS_ASIO = 1.15       # round trips/s >= 1.15x Asio at 50 connections
T_CPU_VS_LIMIT = 1.1   # server CPU per round trip <= 1.1x the C server's
T_IDLE_KIB = 4.0       # idle memory per connection (beyond the kernel's) <= 4 KiB
T_TLS = 0.8            # TLS echo MB/s >= 0.8x min(plain echo MB/s, openssl speed)
T_HANDSHAKES = 0.9     # handshakes/s within 10% of openssl s_server's

DEFINITIONS = """\
- **Load client**: `net_echo_load` (bench/net_echo_load.cpp), one thread,
  epoll, no corio, the same for every server. Each connection sends a
  message, waits for exactly that many bytes back, checks they are the bytes
  it sent (every message differs), records the round trip's latency
  (`steady_clock`), and sends the next one: ping-pong, one message in flight
  per connection. TCP_NODELAY on both sides. The connections are opened
  first, then a warm-up that is not counted, then the measured window; a
  round trip counts if it completes in the window. rt/s is the number of
  such round trips divided by the window; p99 is the 99th percentile of
  their latencies (nearest rank). Client and server share the machine's
  cores: the client's own cost is in every figure, the same for every server.
- **Servers**: one thread each (corio: one event loop). The C limit
  (bench/anchors/echo_epoll.c) does one read() and one write() per wakeup
  of a level-triggered epoll. Asio (bench/anchors/asio_echo.cpp) is Asio's
  own C++20 coroutine echo example. asyncio and uvloop
  (bench/anchors/asyncio_echo.py) use streams: `await reader.read(65536)`,
  `writer.write`, `await writer.drain()`.
- **One CPU**: every 1-connection figure (64-byte, 16 KiB plain and TLS,
  handshakes) is measured twice: with client and server where the
  scheduler puts them, as the issue asks, and with both on the same CPU
  (`taskset -c N` for the client, `sched_setaffinity` of every thread of
  the server, undone after the run). One connection of ping-pong is
  serial, one side waits while the other works, so one CPU takes no
  parallelism away; what it takes away is the wakeup of the other CPU at
  every message. On a virtual machine that wakeup is the hypervisor's:
  when the other vCPU is halted it can take ~100 µs instead of a few, and
  it changes from minute to minute, so the free-placement 1-connection
  figures can measure the host rather than the server (all servers then
  show about the same rt/s and a p99 near 200 µs). The one-CPU figures
  are the sum of client and server CPU per round trip plus two context
  switches: steadier, and the server's share is what differs between the
  rows. The 50-connection runs keep both CPUs: the server is busy there.
- **Server CPU µs/rt**: the server process's utime + stime (all threads,
  /proc/PID/stat, in clock ticks of 1/{tck} s) before and after the whole
  50-connection client run, divided by every round trip of that run
  (warm-up included, as the CPU time covers it).
- **Idle KiB/conn**: the server's VmRSS while the client holds 2000 open
  connections, each having done one 64-byte round trip, minus its VmRSS
  before (after one warm-up connection, so that what a server sets up once
  is not counted per connection), divided by 2000. The kernel's socket
  memory is not in VmRSS: this is what the server itself keeps per
  connection (the target is on that part).
- **Throughput (MB/s)**: 16 KiB ping-pong at 1 connection, MB/s = 16384 ×
  rt/s / 10^6: the payload echoed per second, each byte counted once
  (the server receives it and sends it back: it decrypts and encrypts each
  byte once with TLS; with one connection, the client's encryption and
  decryption happen in series with the server's). TLS is TLS 1.3 with
  TLS_AES_128_GCM_SHA256, the one suite the client offers, so that the
  cipher is the one of `openssl speed -evp aes-128-gcm -bytes 16384`: one
  core encrypting 16 KiB blocks, in 10^6 bytes per second. TLS ÷ min is
  the TLS figure over the lesser of the same server's plain 16 KiB figure
  and openssl speed.
- **Handshakes/s**: `openssl s_time -connect 127.0.0.1:PORT -new
  -ciphersuites TLS_AES_128_GCM_SHA256 -time T`:
  one full TLS 1.3 handshake per connection (no session resumption, no
  data), one connection at a time; the count it prints divided by the wall
  time of the whole s_time process (s_time itself prints whole seconds).
  The reference is the same against `openssl s_server -www` with the same
  certificate.
"""


def fields(text):
    """`a=1 b=2.5 ...` -> {a: 1.0, b: 2.5}."""
    out = {}
    for tok in text.split():
        k, sep, v = tok.partition("=")
        if sep:
            try:
                out[k] = float(v)
            except ValueError:
                pass
    return out


class Server:
    """One server process: started, asked for its port, measured, stopped by its PID."""

    def __init__(self, name, cmd, tmp, ready=None, timeout=20):
        self.name, self.cmd = name, cmd
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        # stdout to a file, not a pipe: a server that prints per connection
        # (openssl s_server) must never block on a full pipe.
        self.out_path = os.path.join(tmp, f"{slug}.out")
        self.err_path = os.path.join(tmp, f"{slug}.err")
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT)
        self.port = None
        deadline = time.monotonic() + timeout
        pattern = re.compile(ready or PORT_LINE, re.M)
        while self.port is None:
            with open(self.out_path) as f:
                m = pattern.search(f.read())
            if m:
                self.port = int(m.group(1))
            elif self.p.poll() is not None:
                raise RuntimeError(f"{name} exited with {self.p.returncode} before listening: {self.stderr_tail()}")
            elif time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{name} did not say its port within {timeout} s")
            else:
                time.sleep(0.01)

    def stderr_tail(self):
        try:
            with open(self.err_path) as f:
                return f.read().strip()[-500:] or "(nothing on stderr)"
        except OSError:
            return "?"

    def alive(self):
        return self.p.poll() is None

    def check(self):
        if not self.alive():
            raise RuntimeError(f"{self.name} died (exit {self.p.returncode}): {self.stderr_tail()}")

    def cpu_seconds(self):
        """utime + stime of every thread of the process, in seconds."""
        with open(f"/proc/{self.p.pid}/stat") as f:
            after_name = f.read().rsplit(")", 1)[1].split()
        return (int(after_name[11]) + int(after_name[12])) / CLK_TCK  # fields 14 and 15 of proc(5)

    def rss_kib(self):
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError(f"{self.name}: no VmRSS")

    def stop(self):
        """SIGTERM, SIGKILL after 5 s; gives the exit code (negative: killed by that signal)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                log(f"  {self.name} (pid {self.p.pid}) ignored SIGTERM for 5 s: SIGKILL")
                self.p.kill()
                self.p.wait(5)
        return self.p.returncode


class Runner:
    def __init__(self, build, tmp, quick):
        self.bench = os.path.join(build, "bench")
        self.tmp, self.quick = tmp, quick
        self.load_exe = os.path.join(self.bench, "net_echo_load")
        self.seconds = 1 if quick else 5
        self.tls_seconds = 1 if quick else 3
        self.warmup_ms = 200 if quick else 500
        self.commands = []  # in the order first run, each shape once
        self.cpus = sorted(os.sched_getaffinity(0))
        self.one_cpu = self.cpus[-1] if len(self.cpus) > 1 else None  # None: nothing to pin apart

    @contextlib.contextmanager
    def on_one_cpu(self, server):
        """Every thread of the server on self.one_cpu for the block; gives the client's command prefix."""
        def pin(cpus):
            for tid in os.listdir(f"/proc/{server.p.pid}/task"):
                try:
                    os.sched_setaffinity(int(tid), cpus)
                except OSError:  # a thread that just ended, or a kernel worker that cannot move
                    pass
        pin({self.one_cpu})
        try:
            yield ["taskset", "-c", str(self.one_cpu)]
        finally:
            if server.alive():
                pin(set(self.cpus))

    def show(self, cmd):
        text = " ".join(shlex.quote(c) for c in cmd)
        text = text.replace(self.tmp, "$D").replace(ROOT + "/", "")
        text = re.sub(r"--port \d+", "--port $PORT", text)
        return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:$PORT", text)

    def record(self, cmd, note=""):
        shown = self.show(cmd) + note
        if shown not in self.commands:
            self.commands.append(shown)
        log(f"$ {self.show(cmd)}")
        return shown

    def exe(self, name):
        return os.path.join(self.bench, name)

    def start(self, name, cmd, **kw):
        self.record(cmd, "   # a server, until SIGTERM")
        return Server(name, cmd, self.tmp, **kw)

    def client(self, server, connections, size=SIZE, seconds=None, tls=False, prefix=()):
        """One load-client run: its result line as a dict. prefix: taskset for the one-CPU runs."""
        seconds = seconds or self.seconds
        cmd = [*prefix, self.load_exe, "--port", str(server.port), "--connections", str(connections), "--size", str(size),
               "--seconds", str(seconds), "--warmup-ms", str(self.warmup_ms)] + (["--tls"] if tls else [])
        shown = self.record(cmd, "   # the server's threads pinned to that CPU too" if prefix else "")
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + self.warmup_ms / 1000 + 45, cwd=ROOT)
        if p.returncode != 0:
            server.check()
            raise RuntimeError(f"{shown} exited with {p.returncode}: {p.stderr.strip()[-500:]}")
        r = fields(p.stdout)
        if "rt_per_s" not in r:
            raise RuntimeError(f"{shown}: no result line in {p.stdout.strip()[-300:]!r}")
        return r

    def idle(self, server, n, hold=2.0):
        """The server's VmRSS (KiB) while the client holds n idle connections."""
        cmd = [self.load_exe, "--port", str(server.port), "--idle", str(n), "--hold-seconds", str(hold)]
        shown = self.record(cmd)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        try:
            buf, deadline = b"", time.monotonic() + 45
            while b"idle_ready" not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"{shown}: no idle_ready within 45 s")
                r, _, _ = select.select([p.stdout], [], [], left)
                if r:
                    chunk = os.read(p.stdout.fileno(), 4096)
                    if not chunk:  # the client exited without idle_ready
                        p.wait(5)
                        server.check()
                        raise RuntimeError(f"{shown} exited with {p.returncode}: "
                                           f"{p.stderr.read().decode(errors='replace').strip()[-500:]}")
                    buf += chunk
            rss = server.rss_kib()
            out, err = p.communicate(timeout=hold + 30)
            if p.returncode != 0 or b"idle_connections" not in buf + out:
                raise RuntimeError(f"{shown} exited with {p.returncode}: {err.decode(errors='replace').strip()[-500:]}")
            return rss
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(5)

    def timed(self, cmd, timeout, note=""):
        """Runs cmd; (stdout, wall seconds)."""
        shown = self.record(cmd, note)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"{shown} exited with {p.returncode}: {(p.stderr or p.stdout).strip()[-500:]}")
        return p.stdout, wall


# ---------------------------------------------------------------- the table

def fmt(v, digits=None):
    if v is None:
        return "n/a"
    if digits is not None:
        return f"{v:.{digits}f}"
    if v >= 1000:
        return f"{v:,.0f}".replace(",", " ")
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def ratio_text(r):
    # Truncated, not rounded: 0.9499 against a target of 0.95 shows as 0.94x.
    return f"{math.floor(r * 100) / 100:.2f}x"


def med(samples):
    return statistics.median(samples) if samples else None


def mark(ok):
    return "✓" if ok else "✗"


ECHO_HEADER = ["server", "rt/s, 1 conn", "p99 µs, 1 conn", "rt/s, 1 conn, one CPU", "p99 µs, 1 conn, one CPU",
               "rt/s, 50 conn", "p99 µs, 50 conn", "server CPU µs/rt, 50 conn", "idle KiB/conn",
               "÷ C limit (1 conn / 1 conn one CPU / 50 conn)", "÷ Asio (50 conn)", "CPU/rt ÷ C limit",
               "corio target met?"]
TLS_HEADER = ["server", "plain MB/s (16 KiB, 1 conn)", "TLS MB/s (16 KiB, 1 conn)", "TLS ÷ min(plain, openssl speed)",
              "handshakes/s (s_time -new)", "÷ openssl s_server", "corio target met?"]


class Verdict:
    """Ratio cells of one row; ✓/✗ and the list of misses for corio's rows only."""

    def __init__(self, corio):
        self.corio, self.misses = corio, []

    def ratio(self, v, base, target, what, higher_is_better=True):
        if v is None or not base:
            if self.corio:
                self.misses.append(f"{what}: not measured")
            return "n/a"
        r = v / base
        if not self.corio:
            return ratio_text(r)
        ok = r >= target if higher_is_better else r <= target
        if not ok:
            self.misses.append(what)
        return f"{ratio_text(r)} {mark(ok)}"

    def cell(self):
        if not self.corio:
            return "-"
        return mark(not self.misses) + ("" if not self.misses else " (" + "; ".join(self.misses) + ")")


def echo_rows(servers, res, idle):
    """res[name][run key] = list of result dicts, idle[name] = KiB/conn; gives the table's rows."""
    def m(name, key, field="rt_per_s"):
        return med([r[field] for r in res.get(name, {}).get(key, []) if field in r])

    limit, asio = "C limit", "Asio"
    rows = []
    for name, status in servers:
        if status is not None and not res.get(name):
            rows.append([name] + [status] * 9 + ["-", "-", "-"])
            continue
        v = Verdict(name.startswith("corio"))
        c = m(name, "50", "cpu_us_per_rt")
        cells = [name, fmt(m(name, "1")), fmt(m(name, "1", "p99_us")), fmt(m(name, "1 cpu")),
                 fmt(m(name, "1 cpu", "p99_us")), fmt(m(name, "50")), fmt(m(name, "50", "p99_us")), fmt(c),
                 fmt(idle.get(name)) if idle.get(name) is not None else (status or "failed")]
        if name == limit:
            a50, r50 = m(asio, "50"), m(name, "50")
            cells += ["1", ratio_text(r50 / a50) if a50 and r50 else "n/a", "1"]
        else:
            cells.append(" / ".join(v.ratio(m(name, k), m(limit, k), T_VS_LIMIT, f"{what} vs C")
                                    for k, what in (("1", "1 conn"), ("1 cpu", "1 conn one CPU"), ("50", "50 conn"))))
            cells.append("1" if name == asio else v.ratio(m(name, "50"), m(asio, "50"), T_VS_ASIO, "vs Asio"))
            cells.append(v.ratio(c, m(limit, "50", "cpu_us_per_rt"), T_CPU_VS_LIMIT, "CPU/rt",
                                 higher_is_better=False))
        if v.corio:
            kib = idle.get(name)
            if kib is None:
                v.misses.append("idle memory: not measured")
            elif kib > T_IDLE_KIB:
                v.misses.append("idle memory")
        cells.append(v.cell())
        rows.append(cells)
    return rows


def tls_rows(tls, speed_mb, sfx):
    """tls[name] = {"plain"+sfx: [MB/s], "tls"+sfx: [MB/s], "hs"+sfx: [handshakes/s], "status": str|None};
    sfx: "" for the free placement, " cpu" for client and server on one CPU. A key that is
    missing is a column that does not apply to that server."""
    hs_ref = med(tls.get("openssl s_server", {}).get("hs" + sfx, []))
    rows = []
    for name, t in tls.items():
        status = t.get("status")
        plain, tl, hs = (med(t.get(k + sfx) or []) for k in ("plain", "tls", "hs"))
        if status is not None and plain is None and tl is None and hs is None:
            rows.append([name] + [status] * 5 + ["-"])
            continue
        v = Verdict(name.startswith("corio"))
        cells = [name, fmt(plain) if "plain" + sfx in t else "-", fmt(tl) if "tls" + sfx in t else "-"]
        if "tls" + sfx in t:
            base = min([x for x in (plain, speed_mb) if x is not None], default=None)
            cells.append(v.ratio(tl, base, T_TLS, "TLS MB/s"))
        else:
            cells.append("-")
        cells.append(fmt(hs) if "hs" + sfx in t else "-")
        if name == "openssl s_server":
            cells.append("1")
        elif "hs" + sfx in t:
            cells.append(v.ratio(hs, hs_ref, T_HANDSHAKES, "handshakes/s"))
        else:
            cells.append("-")
        cells.append(v.cell())
        rows.append(cells)
    return rows


def markdown(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


# ---------------------------------------------------------------- the run

def parse_speed(out):
    """`openssl speed -evp aes-128-gcm -bytes 16384` -> MB/s (its figures are 1000s of bytes per second)."""
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0].upper() == "AES-128-GCM" and parts[-1].endswith("k"):
            return float(parts[-1][:-1]) * 1000 / 1e6
    raise RuntimeError(f"openssl speed: no AES-128-GCM line in {out.strip()[-300:]!r}")


def parse_s_time(out, wall):
    m = re.search(r"^(\d+) connections in [\d.]+ real seconds", out, re.M)
    if not m or int(m.group(1)) == 0:
        raise RuntimeError(f"openssl s_time: no connection count in {out.strip()[-300:]!r}")
    return int(m.group(1)) / wall


class NetRun:
    """One run of the net section: the servers it started, what it measured, what failed.

    run_net takes it through its steps in order: start_servers, measure_idle,
    measure_echo, start_tls_servers, measure_tls, then stop_servers (always),
    and print_tables and section for the report."""

    def __init__(self, args, build):
        self.args, self.build = args, build
        self.reps = 3
        self.failures = []
        self.res, self.idle, self.idle_raw = {}, {}, {}
        self.tls, self.speed = {}, []
        self.servers = []       # (name, status): status None if it runs, else why not
        self.running = {}       # name -> Server
        self.tls_servers, self.plain_servers = {}, {}  # TLS row name -> the Server to measure
        base = os.environ.get("TMPDIR") or "/tmp"
        self.tmp = tempfile.mkdtemp(prefix="corio-net-bench.", dir=base)
        self.run = Runner(build, self.tmp, args.quick)
        self.corio_exe = self.run.exe("corio_echo_server")
        self.corio_built = os.access(self.corio_exe, os.X_OK)

    def attempt(self, what, fn):
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - report and go on with the others
            self.failures.append(f"net {what}: {e}")
            log(f"  FAILED: {e}")
            return None

    def start(self, name, cmd, **kw):
        s = self.attempt(f"{name}: start", lambda: self.run.start(name, cmd, **kw))
        if s is not None:
            self.running[name] = s
        return s

    def measure(self):
        """Every step, in order; a step that throws ends the measuring, and the servers are stopped."""
        try:
            if not os.access(self.run.load_exe, os.X_OK):
                raise RuntimeError(f"{self.run.load_exe} is not built "
                                   f"(cmake --build {self.build} --target net_echo_load)")
            self.start_servers()
            self.measure_idle()
            self.measure_echo()
            self.start_tls_servers()
            self.measure_tls()
        except Exception as e:  # noqa: BLE001
            self.failures.append(f"net: {e}")
            log(f"FAILED: {e}")
        finally:
            self.stop_servers()

    def start_servers(self):
        """The plain echo servers, all at once, each on a port of its choosing."""
        run, build = self.run, self.build
        plan = [("C limit", [run.exe("echo_epoll")], "echo_epoll"),
                ("corio io_uring", [self.corio_exe, "--backend", "io_uring"], None),
                ("corio epoll", [self.corio_exe, "--backend", "epoll"], None),
                ("Asio", [run.exe("asio_echo")], "asio_echo"),
                ("asyncio", [PYTHON, ANCHOR, "--loop", "asyncio"], None),
                ("uvloop", [PYTHON, ANCHOR, "--loop", "uvloop"], None)]
        for name, cmd, target in plan:
            if name.startswith("corio") and not self.corio_built:
                self.servers.append((name, "not built"))
                continue
            if target and not os.access(cmd[0], os.X_OK):  # target: our CMake target of that name
                self.failures.append(f"net {name}: {cmd[0]} is not built (cmake --build {build} --target {target})")
                self.servers.append((name, "not built"))
                continue
            self.servers.append((name, None if self.start(name, cmd + ["--port", "0"]) else "failed"))

    def measure_idle(self):
        """Idle memory first, on servers that have served one connection only."""
        run = self.run
        for name, s in self.running.items():
            def measure(s=s):
                run.idle(s, 1, hold=0)  # the warm-up connection
                before = s.rss_kib()
                during = run.idle(s, IDLE_CONNECTIONS)
                self.idle_raw[s.name] = (before, during)
                return (during - before) / IDLE_CONNECTIONS
            self.idle[name] = self.attempt(f"{name} idle memory", measure)
            time.sleep(0.3)  # lets the server close the 2000 connections before the next one

    def measure_echo(self):
        """Round trips: the servers in turn, all of it reps times."""
        run = self.run
        for rep in range(self.reps):
            for name, s in self.running.items():
                for key, conns, one_cpu in RUNS:
                    if one_cpu and run.one_cpu is None:
                        continue

                    def one(s=s, conns=conns, one_cpu=one_cpu):
                        s.check()
                        with run.on_one_cpu(s) if one_cpu else contextlib.nullcontext(()) as prefix:
                            cpu0 = s.cpu_seconds()
                            r = run.client(s, conns, prefix=prefix)
                            cpu = s.cpu_seconds() - cpu0
                        r["cpu_us_per_rt"] = cpu / r["all_round_trips"] * 1e6
                        return r
                    what = f"{conns} conn" + (" on one CPU" if one_cpu else "")
                    r = self.attempt(f"{name} {what} (repetition {rep + 1})", one)
                    if r is not None:
                        self.res.setdefault(name, {}).setdefault(key, []).append(r)
                        log(f"  {name}, {what}: {r['rt_per_s']:,.0f} rt/s, p99 {r['p99_us']:.1f} µs, "
                            f"server CPU {r['cpu_us_per_rt']:.2f} µs/rt")

    def start_tls_servers(self):
        """A certificate for the run, the TLS servers, and the rows of the TLS tables (self.tls)."""
        run, tmp, corio_exe = self.run, self.tmp, self.corio_exe
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        self.attempt("certificate", lambda: run.timed(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-days", "1", "-subj", "/CN=localhost", "-keyout", key, "-out", cert], 30))
        have_cert = os.path.exists(cert) and os.path.exists(key)
        # name, the plain server for its 16 KiB plain figure, the TLS server to start and the line
        # that gives its port, whether it echoes (openssl s_server -www does not: handshakes only).
        tls_plan = [
            ("openssl s_server", None, ["openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", cert, "-key", key,
                                        "-www"], r"^ACCEPT 127\.0\.0\.1:(\d+)\n", False),
            ("C limit", "C limit", None, None, False),
            ("corio io_uring", "corio io_uring", [corio_exe, "--backend", "io_uring", "--port", "0", "--tls", cert, key],
             PORT_LINE, True),
            ("corio epoll", "corio epoll", [corio_exe, "--backend", "epoll", "--port", "0", "--tls", cert, key],
             PORT_LINE, True),
            ("asyncio", "asyncio", [PYTHON, ANCHOR, "--loop", "asyncio", "--port", "0", "--tls", cert, key],
             PORT_LINE, True),
            ("uvloop", "uvloop", [PYTHON, ANCHOR, "--loop", "uvloop", "--port", "0", "--tls", cert, key],
             PORT_LINE, True),
        ]
        for name, plain_name, cmd, ready, echoes in tls_plan:
            # The keys say which columns the row has.
            t = self.tls[name] = {"status": None}
            for kind, applies in (("plain", plain_name), ("tls", echoes), ("hs", cmd)):
                if applies:
                    t[kind] = []
                    if run.one_cpu is not None:
                        t[kind + " cpu"] = []
            if name.startswith("corio") and not self.corio_built:
                t["status"] = "not built"
                continue
            if plain_name:
                if plain_name in self.running:
                    self.plain_servers[name] = self.running[plain_name]
                else:
                    t["status"] = "failed"
            if cmd:
                s = self.start(f"{name} TLS", cmd, ready=ready) if have_cert else None
                if s is None:
                    t["status"] = "failed"
                else:
                    self.tls_servers[name] = s

    def measure_tls(self):
        """openssl speed, then per row the 16 KiB plain and TLS echo and the handshakes, reps times."""
        run = self.run

        def speed_once():
            out, _ = run.timed(["openssl", "speed", "-evp", "aes-128-gcm", "-bytes", str(TLS_SIZE), "-seconds", "1"],
                               60)
            return parse_speed(out)

        placements = [False] + ([True] if run.one_cpu is not None else [])
        for rep in range(self.reps):
            v = self.attempt(f"openssl speed (repetition {rep + 1})", speed_once)
            if v is not None:
                self.speed.append(v)
            for name, t in self.tls.items():
                for one_cpu in placements:
                    self.measure_tls_row(name, t, one_cpu, rep)

    def measure_tls_row(self, name, t, one_cpu, rep):
        """One repetition of one TLS row at one placement: what of plain, TLS and handshakes applies."""
        run = self.run
        hs_time = 1 if self.args.quick else 3
        sfx, what = (" cpu", " on one CPU") if one_cpu else ("", "")
        if name in self.plain_servers:
            def plain(s=self.plain_servers[name]):
                with run.on_one_cpu(s) if one_cpu else contextlib.nullcontext(()) as prefix:
                    return run.client(s, 1, TLS_SIZE, run.tls_seconds, prefix=prefix)
            r = self.attempt(f"{name} plain 16 KiB{what} (repetition {rep + 1})", plain)
            if r is not None:
                t["plain" + sfx].append(r["rt_per_s"] * TLS_SIZE / 1e6)
        s = self.tls_servers.get(name)
        if s is None:
            return
        if "tls" in t:
            def echo():
                with run.on_one_cpu(s) if one_cpu else contextlib.nullcontext(()) as prefix:
                    return run.client(s, 1, TLS_SIZE, run.tls_seconds, tls=True, prefix=prefix)
            r = self.attempt(f"{name} TLS 16 KiB{what} (repetition {rep + 1})", echo)
            if r is not None:
                t["tls" + sfx].append(r["rt_per_s"] * TLS_SIZE / 1e6)

        def handshakes():
            s.check()
            with run.on_one_cpu(s) if one_cpu else contextlib.nullcontext(()) as prefix:
                out, wall = run.timed([*prefix, "openssl", "s_time", "-connect", f"127.0.0.1:{s.port}",
                                       "-new", "-ciphersuites", TLS_SUITE, "-time", str(hs_time)],
                                      hs_time + 60,
                                      "   # the server's threads pinned to that CPU too" if prefix else "")
            return parse_s_time(out, wall)
        v = self.attempt(f"{name} handshakes{what} (repetition {rep + 1})", handshakes)
        if v is not None:
            t["hs" + sfx].append(v)
            log(f"  {name}{what}: {v:,.0f} handshakes/s")

    def stop_servers(self):
        """Every server started, by its PID; then the temporary directory goes."""
        for name, s in self.running.items():
            try:
                code = s.stop()
                # 0, or killed by our SIGTERM (openssl s_server and Python may not catch it).
                if code not in (0, -signal.SIGTERM):
                    self.failures.append(f"net {name}: exited with {code} when stopped: {s.stderr_tail()}")
            except Exception as e:  # noqa: BLE001 - keep stopping the others
                self.failures.append(f"net {name}: stopping it: {e}")
        shutil.rmtree(self.tmp, ignore_errors=True)

    def tables(self):
        """(echo rows, TLS rows, TLS rows on one CPU or None, openssl speed's median MB/s)."""
        erows = echo_rows(self.servers, self.res, self.idle)
        speed_mb = med(self.speed)
        trows = tls_rows(self.tls, speed_mb, "")
        trows_cpu = tls_rows(self.tls, speed_mb, " cpu") if self.run.one_cpu is not None else None
        return erows, trows, trows_cpu, speed_mb

    def one_cpu_text(self):
        return f"client and server on CPU {self.run.one_cpu}"

    def print_tables(self, tables, elapsed, load_before, load_after):
        """The tables on stdout, the failures on stderr."""
        erows, trows, trows_cpu, speed_mb = tables
        run, one_cpu_text = self.run, self.one_cpu_text()
        print()
        print(text_table(ECHO_HEADER, erows))
        print(f"\n64-byte ping-pong; medians of {self.reps} repetitions of {run.seconds} s each; \"one CPU\": "
              f"{one_cpu_text}. Idle: VmRSS growth with {IDLE_CONNECTIONS} idle connections (kernel socket memory "
              "is not in it).")
        print("\nTLS, client and server where the scheduler puts them:")
        print(text_table(TLS_HEADER, trows))
        if trows_cpu:
            print(f"\nTLS, {one_cpu_text}:")
            print(text_table(TLS_HEADER, trows_cpu))
        print(f"\nopenssl speed -evp aes-128-gcm, 16 KiB blocks: {fmt(speed_mb)} MB/s. MB/s = 16384 x rt/s / 10^6 "
              f"(payload echoed per second). Net section: {elapsed:.0f} s, load average {load_before} before, "
              f"{load_after} after.")
        for f in self.failures:
            print(f"FAILED: {f.splitlines()[0]}", file=sys.stderr)

    def section(self, tables, old_section, started, elapsed, load_before, load_after):
        """The document's net section, between BEGIN and END; the notes are kept from old_section."""
        erows, trows, trows_cpu, speed_mb = tables
        args, build, run, reps = self.args, self.build, self.run, self.reps
        one_cpu_text = self.one_cpu_text()
        tree = sh("git rev-parse --short HEAD")
        if sh("git status --porcelain -- src include bench/net_echo_server.cpp"):
            tree += " with uncommitted changes in src/, include/ or bench/net_echo_server.cpp"
        boost = sh("dpkg-query -W -f='${Version}' libboost1.81-dev")
        python = sh(f"{PYTHON} -c 'import sys; print(sys.version.split()[0])'")
        uvloop = sh(f"{PYTHON} -c 'import uvloop; print(uvloop.__version__)'")
        versions = f"{sh('openssl version')}; Boost {boost}; Python {python}, uvloop {uvloop}"
        out = [
            BEGIN,
            "## Network: echo servers",
            "",
            "Echo servers side by side in one run, one load client for all "
            f"(`{PYTHON} bench/compare.py --build {os.path.relpath(build, ROOT)} --only net` runs this part alone).",
            "",
            f"- Date: {started.strftime('%Y-%m-%d %H:%M %Z')}" + (" (`--quick`)" if args.quick else "") +
            f"; corio at {tree}",
            f"- Machine: {sh('nproc')} CPUs, kernel {platform.release()}; client and servers on the same machine, "
            "over 127.0.0.1",
            f"- {versions}",
            f"- Load average: {load_before} before, {load_after} after; this section took {elapsed:.0f} s.",
            f"- Repetitions: {reps}, the servers taken in turn in each; every figure is the median. "
            f"{run.seconds} s measured per run after {run.warmup_ms} ms of warm-up "
            f"({run.tls_seconds} s for the 16 KiB runs).",
            "",
            "### 64-byte ping-pong",
            "",
            markdown(ECHO_HEADER, erows),
            "",
            f"Targets of corio: rt/s ≥ {T_VS_LIMIT}x the C limit at 1 and at 50 connections, ≥ {T_VS_ASIO}x Asio at "
            f"50; server CPU per round trip ≤ {T_CPU_VS_LIMIT}x the C limit's; idle memory ≤ {T_IDLE_KIB:g} KiB per "
            "connection beyond the kernel's (VmRSS does not hold the kernel's socket memory). Ratios are truncated.",
            f"\"One CPU\": the same 1-connection run with {one_cpu_text} (the issue's runs leave them where the "
            "scheduler puts them); see *What is measured* for why both are here.",
            "",
            "### TLS",
            "",
            f"`openssl speed -evp aes-128-gcm -bytes 16384`: **{fmt(speed_mb)} MB/s** (median of "
            f"{', '.join(fmt(x) for x in self.speed) or 'nothing'}).",
            "",
            "Client and server where the scheduler puts them:",
            "",
            markdown(TLS_HEADER, trows),
            "",
        ]
        if trows_cpu:
            out += [f"The same with {one_cpu_text}:", "", markdown(TLS_HEADER, trows_cpu), ""]
        out += [
            f"Targets of corio: TLS MB/s ≥ {T_TLS}x the lesser of its plain MB/s and openssl speed; handshakes/s ≥ "
            f"{T_HANDSHAKES}x those against `openssl s_server`. MB/s = 16384 × rt/s / 10^6, the payload echoed per "
            "second.",
            "",
            NOTES_BEGIN, kept_notes(old_section, NOTES_BEGIN, NOTES_END) or NO_NOTES, NOTES_END,
            "",
        ]
        out += self.spread()
        out += ["", "### Commands", "", "```sh",
                f"{PYTHON} bench/compare.py --build {os.path.relpath(build, ROOT)} --only net"
                + (" --quick" if args.quick else ""),
                f"# which ran, each shape once here, in this order ($D: its temp dir; $PORT: the server's port; "
                f"the runs {reps} times):"]
        out += run.commands
        out += ["```", "", "### What is measured", "", DEFINITIONS.format(tck=CLK_TCK)]
        if self.failures:
            out += ["### Failures in this run", ""] + [f"- {f.splitlines()[0]}" for f in self.failures] + [""]
        out.append(END)
        return "\n".join(out)

    def spread(self):
        """The "Spread" table: median, min and max of every figure, and the idle VmRSS before and after."""
        out = [
            "### Spread",
            "",
            "| server | run | median | min | max | repetitions | median p50 µs | median p99 µs | "
            "median server CPU µs/rt | fewest round trips of one connection |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, _ in self.servers:
            for key, conns, one_cpu in RUNS:
                rs = self.res.get(name, {}).get(key, [])
                if not rs:
                    continue
                v = [r["rt_per_s"] for r in rs]
                out.append(f"| {name} | {conns} conn{', one CPU' if one_cpu else ''}, rt/s | {fmt(med(v))} | "
                           f"{fmt(min(v))} | {fmt(max(v))} | {len(v)} | "
                           f"{fmt(med([r['p50_us'] for r in rs]))} | {fmt(med([r['p99_us'] for r in rs]))} | "
                           f"{fmt(med([r['cpu_us_per_rt'] for r in rs]))} | "
                           f"{min(int(r['min_conn_round_trips']) for r in rs)} |")
        for name, t in self.tls.items():
            for key, what in (("plain", "16 KiB plain, MB/s"), ("tls", "16 KiB TLS, MB/s"), ("hs", "handshakes/s"),
                              ("plain cpu", "16 KiB plain, one CPU, MB/s"), ("tls cpu", "16 KiB TLS, one CPU, MB/s"),
                              ("hs cpu", "handshakes/s, one CPU")):
                v = t.get(key) or []
                if v:
                    out.append(f"| {name} | {what} | {fmt(med(v))} | {fmt(min(v))} | {fmt(max(v))} | {len(v)} | "
                               "| | | |")
        if self.idle_raw:
            out += ["", "Idle memory, VmRSS in KiB: " + "; ".join(
                f"{n} {b} before, {d} with {IDLE_CONNECTIONS} connections" for n, (b, d) in self.idle_raw.items())
                + "."]
        return out


def run_net(args, build, old_section):
    """Runs the net section; gives (failures, the document's net section, or None with --no-write)."""
    started = datetime.datetime.now().astimezone()
    t_start = time.monotonic()
    load_before = load()
    net = NetRun(args, build)
    net.measure()
    elapsed = time.monotonic() - t_start
    load_after = load()
    tables = net.tables()
    net.print_tables(tables, elapsed, load_before, load_after)
    if args.no_write:
        return net.failures, None
    return net.failures, net.section(tables, old_section, started, elapsed, load_before, load_after)
