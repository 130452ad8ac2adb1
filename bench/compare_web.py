"""The "web" section of bench/compare.py: HTTP servers under wrk, in one run.

    /usr/bin/python3 bench/compare.py --build build-bench --only web [--quick] [--no-write]

Servers, each alone, pinned to the first CPU (`taskset -c 0`); wrk pinned to
the second (`taskset -c 1`, `-t1 -c50`, keep-alive, 5 s; --quick: 2 s):
  nginx              one process serving (`master_process off`), a 13-byte static file: the limit
  corio io_uring     DIR/bench/corio_web_server (bench/web_hello_server.cpp), CORIO_BACKEND=io_uring
  corio epoll        the same on epoll
  Beast              DIR/bench/beast_hello_server (bench/anchors/beast_hello_server.cpp): the C++ anchor
  aiohttp asyncio    bench/anchors/aiohttp_web_server.py --loop asyncio
  aiohttp uvloop     the same on uvloop
The hello-world view (13 bytes text/plain) for all; the JSON view (a 10-field
object encoded per request) for corio, Beast and aiohttp. Server CPU per
request: utime + stime of the server process (/proc/PID/stat) across the
wrk run, divided by the requests wrk counted. Three repetitions, servers
taken in turn; medians.
Then the Django-style view (sleep 1 s) under 10 000 connections (`wrk -t1
-c10000 -d10s`, ulimit raised): requests answered, errors, and the server's
resident memory while they wait (VmRSS at the peak minus before the run)
divided by 10 000; corio and aiohttp on uvloop.
Then corio with `workers = 2` against 1 worker (server not pinned, wrk on
CPU 1): on 2 CPUs wrk and the server share a CPU, so this shows the cost of
the second loop more than its gain.
The table goes between the `web` markers of docs/benchmarks.md; the notes
between `web-notes` are kept.
"""
import datetime
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from report import kept_notes, load, log, sh, text_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"
BEGIN = "<!-- web:begin (written by bench/compare.py; `--only web` rewrites just this part) -->"
END = "<!-- web:end -->"
NOTES_BEGIN = "<!-- web-notes:begin (kept by bench/compare.py) -->"
NOTES_END = "<!-- web-notes:end -->"
NO_NOTES = "### Notes\n\n(What limits a missed target goes here.)"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVER_CPU, CLIENT_CPU = "0", "1"
CONNECTIONS = 50
SLEEPERS = 10_000

# Targets of issue 15.
T_VS_NGINX = 1.0      # req/s >= nginx's
T_CPU_VS_NGINX = 1.0  # server CPU per request <= nginx's
T_VS_AIOHTTP = 5.0    # req/s >= 5x the better aiohttp.web
T_VS_BEAST = 1.0      # ahead of Beast


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, limit=15.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 65536) if hard != resource.RLIM_INFINITY else 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


class Server:
    """One server process, pinned (or not), stopped by its PID."""

    def __init__(self, name, argv, port, env=None, pin=True, cwd=None):
        self.name, self.port = name, port
        prefix = ["taskset", "-c", SERVER_CPU] if pin else []
        self.log = tempfile.TemporaryFile()
        self.p = subprocess.Popen(prefix + argv, stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL,
                                  env={**os.environ, **(env or {})}, cwd=cwd, preexec_fn=raise_nofile)
        if not wait_port(port, self.p):
            self.stop()
            self.log.seek(0)
            raise RuntimeError(f"{name} did not start: {self.log.read().decode(errors='replace')[-500:]}")

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def wrk(url, seconds, connections=CONNECTIONS, timeout="2s"):
    cmd = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}", url]
    out = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=raise_nofile, timeout=seconds + 60).stdout
    m = re.search(r"(\d+) requests in", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    n_err = sum(int(x) for x in errors.groups()) if errors else 0
    return (int(m.group(1)) if m else 0, float(rps.group(1)) if rps else 0.0,
            n_err + (int(non2xx.group(1)) if non2xx else 0))


class WebRun:
    def __init__(self, args, build):
        self.build, self.quick = build, args.quick
        self.seconds = 2 if args.quick else 5
        self.reps = 1 if args.quick else 3
        self.failures = []
        self.tmp = tempfile.mkdtemp(prefix="corio-bench-web-")
        os.makedirs(os.path.join(self.tmp, "www"))
        os.makedirs(os.path.join(self.tmp, "logs"))
        with open(os.path.join(self.tmp, "www", "hello"), "wb") as f:
            f.write(b"Hello, world\n")
        self.results = {}  # (view, server) -> list of (rps, cpu_us_per_req, errors)
        self.sleep_rows = []
        self.worker_rows = []

    def nginx_argv(self, port):
        t = self.tmp
        conf = os.path.join(t, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"pid {t}/nginx.pid;\nerror_log {t}/logs/error.log warn;\nworker_processes 1;\n"
                    "events { worker_connections 4096; }\n"
                    "http { access_log off; default_type text/plain; keepalive_requests 1000000;\n"
                    f"  client_body_temp_path {t}/b; proxy_temp_path {t}/p; fastcgi_temp_path {t}/f;\n"
                    f"  uwsgi_temp_path {t}/u; scgi_temp_path {t}/s;\n"
                    f"  server {{ listen 127.0.0.1:{port}; root {t}/www; }} }}\n")
        return ["nginx", "-p", t, "-c", conf, "-g", "daemon off; master_process off;"]

    def servers(self):
        b = os.path.join(self.build, "bench")
        yield "nginx", lambda p: (self.nginx_argv(p), None), "/hello"
        yield "corio io_uring", lambda p: ([f"{b}/corio_web_server", str(p)], {"CORIO_BACKEND": "io_uring"}), None
        yield "corio epoll", lambda p: ([f"{b}/corio_web_server", str(p)], {"CORIO_BACKEND": "epoll"}), None
        yield "Beast", lambda p: ([f"{b}/beast_hello_server", str(p)], None), None
        yield "aiohttp asyncio", lambda p: ([PYTHON, "bench/anchors/aiohttp_web_server.py", str(p), "--loop", "asyncio"], None), None
        yield "aiohttp uvloop", lambda p: ([PYTHON, "bench/anchors/aiohttp_web_server.py", str(p), "--loop", "uvloop"], None), None

    def one(self, name, make, view):
        port = free_port()
        argv, env = make(port)
        server = Server(name, argv, port, env, cwd=ROOT)
        try:
            wrk(f"http://127.0.0.1:{port}{view}", 1)  # warm-up
            before = cpu_ticks(server.p.pid)
            n, rps, errors = wrk(f"http://127.0.0.1:{port}{view}", self.seconds)
            used = cpu_ticks(server.p.pid) - before
        finally:
            server.stop()
        cpu_us = used / CLK_TCK * 1e6 / n if n else None
        return rps, cpu_us, errors

    def measure(self):
        for rep in range(self.reps):
            for name, make, only_view in self.servers():
                for view in ([only_view] if only_view else ["/hello", "/json"]):
                    key = ("hello" if view == "/hello" else "json", name)
                    try:
                        r = self.one(name, make, view)
                        log(f"web {rep + 1}/{self.reps} {name} {view}: {r[0]:.0f} req/s, "
                            f"{r[1] if r[1] is None else round(r[1], 2)} us CPU/req, {r[2]} errors")
                        self.results.setdefault(key, []).append(r)
                    except Exception as e:  # a failed server is reported, the rest still runs
                        self.failures.append(f"{name} {view}: {e}")
        self.measure_sleepers()
        self.measure_workers()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def measure_sleepers(self):
        b = os.path.join(self.build, "bench")
        for name, argv_of in (("corio io_uring", lambda p: [f"{b}/corio_web_server", str(p)]),
                              ("aiohttp uvloop", lambda p: [PYTHON, "bench/anchors/aiohttp_web_server.py", str(p),
                                                            "--loop", "uvloop"])):
            port = free_port()
            try:
                server = Server(name, argv_of(port), port, cwd=ROOT)
            except Exception as e:
                self.failures.append(f"sleep view {name}: {e}")
                continue
            try:
                idle = rss_kib(server.p.pid)
                peak = [idle]
                seconds = 5 if self.quick else 10
                proc = subprocess.Popen(["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{SLEEPERS}", f"-d{seconds}s",
                                         "--timeout=10s", f"http://127.0.0.1:{port}/sleep"],
                                        stdout=subprocess.PIPE, text=True, preexec_fn=raise_nofile)
                while proc.poll() is None:
                    peak.append(rss_kib(server.p.pid))
                    time.sleep(0.2)
                out = proc.stdout.read()
                n = int(re.search(r"(\d+) requests in", out).group(1)) if "requests in" in out else 0
                errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
                n_err = sum(int(x) for x in errors.groups()) if errors else 0
                per = (max(peak) - idle) * 1024 / SLEEPERS
                self.sleep_rows.append((name, n, n_err, per))
                log(f"web sleep view {name}: {n} answered, {n_err} errors, {per:.0f} B per waiting request")
            finally:
                server.stop()

    def measure_workers(self):
        b = os.path.join(self.build, "bench")
        for workers in (1, 2):
            samples = []
            for _ in range(self.reps):
                port = free_port()
                try:
                    server = Server(f"corio workers={workers}", [f"{b}/corio_web_server", str(port), str(workers)],
                                    port, pin=False, cwd=ROOT)
                except Exception as e:
                    self.failures.append(f"corio workers={workers}: {e}")
                    break
                try:
                    samples.append(wrk(f"http://127.0.0.1:{port}/hello", self.seconds)[1])
                finally:
                    server.stop()
            if samples:
                self.worker_rows.append((workers, statistics.median(samples)))

    # ---- the table

    def med(self, key):
        rs = self.results.get(key)
        if not rs:
            return None, None, None
        cpu = [r[1] for r in rs if r[1] is not None]
        return (statistics.median(r[0] for r in rs), statistics.median(cpu) if cpu else None,
                sum(r[2] for r in rs))


def fmt(v, digits=0):
    return "n/a" if v is None else (f"{v:,.{digits}f}".replace(",", " "))


def run_web(args, build, old_section):
    started = datetime.datetime.now().astimezone()
    t0 = time.monotonic()
    load_before = load()
    w = WebRun(args, build)
    w.measure()
    load_after = load()
    nginx_rps, nginx_cpu, _ = w.med(("hello", "nginx"))
    aio = max((w.med(("hello", n))[0] or 0) for n in ("aiohttp asyncio", "aiohttp uvloop"))
    beast_rps = w.med(("hello", "Beast"))[0]

    header = ["server", "hello req/s", "CPU µs/req", "vs nginx", "CPU vs nginx", "vs best aiohttp", "vs Beast",
              "JSON req/s", "errors"]
    rows = []
    for name in ("nginx", "corio io_uring", "corio epoll", "Beast", "aiohttp asyncio", "aiohttp uvloop"):
        rps, cpu, errs = w.med(("hello", name))
        jrps, _, jerrs = w.med(("json", name))
        def ratio(a, b, target=None, lower=False):
            if a is None or not b:
                return "n/a"
            r = a / b
            text = f"{r:.2f}x"
            if target is not None and name.startswith("corio"):
                ok = r <= target if lower else r >= target
                text += " ✓" if ok else " ✗"
            return text
        rows.append([name, fmt(rps), fmt(cpu, 2), ratio(rps, nginx_rps, T_VS_NGINX),
                     ratio(cpu, nginx_cpu, T_CPU_VS_NGINX, lower=True), ratio(rps, aio, T_VS_AIOHTTP),
                     ratio(rps, beast_rps, T_VS_BEAST), fmt(jrps) if name != "nginx" else "-",
                     str((errs or 0) + (jerrs or 0))])
    print()
    print(text_table(header, rows))
    sleep_header = ["server", "answered", "errors", "bytes per waiting request"]
    sleep_rows = [[n, fmt(a), str(e), fmt(p)] for n, a, e, p in w.sleep_rows]
    print(text_table(sleep_header, sleep_rows))
    worker_rows = [[f"corio workers={k}", fmt(v)] for k, v in w.worker_rows]
    print(text_table(["server", "hello req/s"], worker_rows))
    for f in w.failures:
        print(f"FAILED: {f}", file=sys.stderr)
    if args.no_write:
        return w.failures, None

    def md(h, rs):
        out = ["| " + " | ".join(h) + " |", "|" + "---|" * len(h)]
        return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rs])
    rel = os.path.relpath(build, ROOT)
    tree = sh("git rev-parse --short HEAD")
    nginx_v = re.sub(r"^nginx version: nginx/", "", sh("nginx -v 2>&1"))
    py = lambda e: sh(f"{PYTHON} -c 'import aiohttp, sys, uvloop; print({e})'")
    boost_v = sh("dpkg-query -W -f='${Version}' libboost1.81-dev")
    out = [BEGIN, "## HTTP server", "",
           f"HTTP servers under wrk in one run (`{PYTHON} bench/compare.py --build {rel} --only web`, "
           f"{started:%Y-%m-%d %H:%M %Z}, tree {tree}, {time.monotonic() - t0:.0f} s, load average "
           f"{load_before} before, {load_after} after; nginx {nginx_v}, aiohttp {py('aiohttp.__version__')}, "
           f"uvloop {py('uvloop.__version__')}, Boost {boost_v}).",
           "",
           f"Each server alone on CPU {SERVER_CPU}, `wrk -t1 -c{CONNECTIONS} -d{w.seconds}s` on CPU {CLIENT_CPU}, "
           f"keep-alive; medians of {w.reps} repetitions. Hello: a 13-byte text/plain body (nginx: a static "
           "file). JSON: a 10-field object encoded per request. CPU µs/req: the server's utime + stime across "
           f"the run over the requests. Targets (issue 15): req/s >= {T_VS_NGINX}x nginx, CPU per request <= "
           f"{T_CPU_VS_NGINX}x nginx's, >= {T_VS_AIOHTTP}x the better aiohttp.web, ahead of Beast.",
           "", md(header, rows), "",
           f"The Django-style view (`sleep(1s)`, then a small JSON answer) under `wrk -t1 -c{SLEEPERS}`: "
           "requests answered, socket errors, and the server's peak resident memory less its idle one, over "
           f"{SLEEPERS} waiting requests.", "", md(sleep_header, sleep_rows), "",
           "corio with `workers = 2` against 1 worker, the server not pinned and wrk on CPU 1: with 2 CPUs the "
           "second worker shares a CPU with wrk, so this shows what a second loop costs here, not what it "
           "gains on a machine with cores to spare.", "", md(["server", "hello req/s"], worker_rows), "",
           f"{NOTES_BEGIN}\n{kept_notes(old_section, NOTES_BEGIN, NOTES_END) or NO_NOTES}\n{NOTES_END}", END]
    return w.failures, "\n".join(out) + "\n"
