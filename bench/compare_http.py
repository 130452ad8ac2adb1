"""The "http" section of bench/compare.py: HTTP clients against one nginx, in one run.

    /usr/bin/python3 bench/compare.py --build build-bench --only http [--quick] [--no-write]

Makes a temp dir holding a 13-byte /hello.txt, a 1 GiB sparse /big.bin
(holes read as zeros: nothing is written to disk; 256 MiB with --quick), a
self-signed P-256 certificate for 127.0.0.1 made with the openssl CLI (it is
its own CA: the clients verify against it), and an nginx.conf: one process
(`master_process off`: that process serves, it is the one worker),
access_log off, keepalive_requests 100000, sendfile, HTTP and HTTPS on two
free ports of 127.0.0.1. nginx runs pinned to the first CPU (`taskset -c
0`), every client to the second (`taskset -c 1`), one client at a time.

Requests (50 tasks or connections, GET /hello.txt in a loop over keep-alive,
plain and HTTPS), each for a fixed time (5 s; --quick: 2 s):
  wrk             `wrk -t1 -c50 -dSs URL`: the limit (no TLS verification)
  corio           DIR/bench/corio_http_load --backend io_uring, then epoll
                  (bench/http_client_load.cpp): 50 tasks, one client_session
  libcurl multi   DIR/bench/libcurl_multi_load (bench/libcurl_multi_load.cpp):
                  50 easy handles in one multi handle
  aiohttp         bench/anchors/aiohttp_load.py --loop asyncio, then uvloop
Download (one GET of /big.bin, the body counted, not kept):
  curl            `curl -s -o /dev/null -w ...`: the limit
  corio           corio_http_load --download (content().iter_any()), both backends
  aiohttp         aiohttp_load.py --download (content.iter_any()) on asyncio
All of it 3 times, the clients taken in turn in each repetition; every
figure is the median. Beside each run: the client's CPU time (utime + stime
of the whole process, from wait4) and nginx's (/proc/PID/stat) per request.
nginx is stopped by its PID (SIGTERM, SIGKILL after 5 s) and the temp dir
removed whatever happens. The table goes between the `http` markers of
docs/benchmarks.md; the notes between the `http-notes` markers are kept.
"""
import datetime
import math
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from report import kept_notes, load, log, sh, text_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"
ANCHOR = "bench/anchors/aiohttp_load.py"
BEGIN = "<!-- http:begin (written by bench/compare.py; `--only http` rewrites just this part) -->"
END = "<!-- http:end -->"
NOTES_BEGIN = "<!-- http-notes:begin (kept by bench/compare.py) -->"
NOTES_END = "<!-- http-notes:end -->"
NO_NOTES = "### Notes\n\n(What limits a missed target goes here.)"

TASKS = 50
HELLO = b"Hello, world\n"  # 13 bytes
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Targets of corio, from issue 14.
T_VS_WRK = 0.85        # plain req/s >= 0.85x wrk's
T_VS_WRK_TLS = 0.8     # HTTPS req/s >= 0.8x wrk's HTTPS figure
T_VS_AIOHTTP = 15.0    # req/s >= 15x the better aiohttp (plain and HTTPS)
T_VS_CURL = 1.0        # req/s ahead of libcurl multi (plain and HTTPS)
T_DOWNLOAD = 0.9       # download MB/s >= 0.9x curl -o /dev/null's

# name, kind: the request rows of the table, in the order run.
CLIENTS = [("wrk", "wrk"), ("corio io_uring", "corio"), ("corio epoll", "corio"),
           ("libcurl multi", "curl"), ("aiohttp asyncio", "aiohttp"), ("aiohttp uvloop", "aiohttp")]
DOWNLOADERS = ["curl", "corio io_uring", "corio epoll", "aiohttp asyncio"]

DEFINITIONS = """\
- **Server**: nginx {nginx}, one process serving (`master_process off`,
  the one worker), `access_log off`, `keepalive_requests 100000`,
  `sendfile on`, TLS 1.2 and 1.3 with a self-signed P-256 certificate
  (the clients negotiate TLS 1.3), pinned to CPU {server_cpu}; every client
  pinned to CPU {client_cpu}, one client running at a time.
- **Requests**: {tasks} concurrent GETs of the 13-byte /hello.txt over
  keep-alive, each task (connection) sending its next request once it has
  read the whole previous response. corio (`bench/http_client_load.cpp`):
  {tasks} tasks share one `client_session` (limit {tasks}); each loops
  `with(session.get(url), ...)` + `co_await r.read()`. aiohttp
  (`bench/anchors/aiohttp_load.py`): the same program, one `ClientSession`
  with `TCPConnector(limit={tasks})`, `async with session.get(url) as r:
  await r.read()`. libcurl (`bench/libcurl_multi_load.cpp`): {tasks} easy
  handles in one multi handle (`CURLMOPT_MAX_HOST_CONNECTIONS` and
  `CURLMOPT_MAXCONNECTS` {tasks}), the `curl_multi_perform` /
  `curl_multi_poll` loop of libcurl's examples, each handle added again
  when done (its connection comes back from the cache), the body appended
  to a string by the write callback. These three check every status and
  body size, verify the certificate over HTTPS, make one uncounted request
  per task first (the connections are opened), then count the responses
  read in the window; req/s = responses / (start of the window to the end
  of the last request). wrk (`-t1 -c{tasks}`, no verification) is the limit:
  one thread sending the same request over {tasks} connections and parsing
  the responses with no body handling.
- **Download**: one GET of the 1 GiB /big.bin (a sparse file: nginx sends
  zeros from the page cache), the body counted and dropped: `curl -s -o
  /dev/null` (the limit; `-w '%{{size_download}} %{{time_total}}'`),
  corio's `content().iter_any()` (each piece as it arrives), aiohttp's
  `content.iter_any()`; MB/s = bytes / 10^6 / the whole request's time.
  One uncounted curl download first puts the file in the page cache.
- **CPU µs/req**: the client's CPU time in user space and in the kernel
  (utime and stime of the whole process, start-up, warm-up and connecting
  included, from wait4; the kernel's part holds the loopback TCP path,
  nginx's side of each packet's delivery included) and
  nginx's (from /proc/PID/stat, in ticks of 1/{tck} s, across the client's
  run) divided by the requests counted. With the machine shared these
  steady better than req/s: a client that needs less CPU per request is
  the faster one when the CPUs are its own.
"""


# ---------------------------------------------------------------- formatting

def fmt(v):
    if v is None:
        return "n/a"
    if v >= 1000:
        return f"{v:,.0f}".replace(",", " ")
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def ratio_text(r):
    # Truncated, not rounded: 0.8499 against a target of 0.85 shows as 0.84x.
    return f"{math.floor(r * 100) / 100:.2f}x"


def med(samples):
    return statistics.median(samples) if samples else None


def mark(ok):
    return "✓" if ok else "✗"


def markdown(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- the run

class Nginx:
    """nginx serving DIR/www over HTTP and HTTPS, pinned to one CPU, stopped by its PID."""

    def __init__(self, tmp, cert, key, prefix):
        self.tmp, self.p = tmp, None
        for d in ("logs", "tmp"):
            os.makedirs(os.path.join(tmp, d), exist_ok=True)
        for attempt in range(5):
            self.port, self.tls_port = free_port(), free_port()
            if self.port == self.tls_port:
                continue
            conf = os.path.join(tmp, "nginx.conf")
            with open(conf, "w") as f:
                f.write(self.config(cert, key))
            self.cmd = [*prefix, "nginx", "-p", tmp, "-c", conf, "-g", "daemon off; master_process off;"]
            err = open(os.path.join(tmp, "logs", "nginx.stderr"), "w")
            with err:
                # taskset execs nginx: the PID is nginx's.
                self.p = subprocess.Popen(self.cmd, stdout=err, stderr=err, stdin=subprocess.DEVNULL, cwd=tmp)
            if self.wait_ready():
                return
            self.stop()
            why = self.log_tail()
            if "Address already in use" not in why:
                raise RuntimeError(f"nginx did not start: {why}")
        raise RuntimeError("nginx: no free ports after 5 attempts")

    def config(self, cert, key):
        t = self.tmp
        return (f"pid {t}/nginx.pid;\nlock_file {t}/nginx.lock;\nerror_log {t}/logs/error.log warn;\n"
                "worker_processes 1;\n"
                "events { worker_connections 1024; }\n"
                "http {\n"
                "  access_log off;\n"
                "  types { text/plain txt; application/octet-stream bin; }\n"
                "  default_type application/octet-stream;\n"
                f"  client_body_temp_path {t}/tmp/body; proxy_temp_path {t}/tmp/proxy;\n"
                f"  fastcgi_temp_path {t}/tmp/fastcgi; uwsgi_temp_path {t}/tmp/uwsgi; scgi_temp_path {t}/tmp/scgi;\n"
                "  keepalive_requests 100000; keepalive_timeout 60s;\n"
                "  sendfile on; tcp_nopush on;\n"
                f"  server {{ listen 127.0.0.1:{self.port}; root {t}/www; }}\n"
                f"  server {{ listen 127.0.0.1:{self.tls_port} ssl; root {t}/www;\n"
                f"    ssl_certificate {cert}; ssl_certificate_key {key}; ssl_protocols TLSv1.2 TLSv1.3; }}\n"
                "}\n")

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                return False
            try:
                for port in (self.port, self.tls_port):
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def log_tail(self):
        out = ""
        for name in ("nginx.stderr", "error.log"):
            try:
                with open(os.path.join(self.tmp, "logs", name)) as f:
                    out += f.read()
            except OSError:
                pass
        return out.strip()[-500:] or "(nothing logged)"

    def check(self):
        if self.p.poll() is not None:
            raise RuntimeError(f"nginx died (exit {self.p.returncode}): {self.log_tail()}")

    def cpu_seconds(self):
        with open(f"/proc/{self.p.pid}/stat") as f:
            after_name = f.read().rsplit(")", 1)[1].split()
        return (int(after_name[11]) + int(after_name[12])) / CLK_TCK

    def stop(self):
        if self.p is not None and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                log(f"  nginx (pid {self.p.pid}) ignored SIGTERM for 5 s: SIGKILL")
                self.p.kill()
                self.p.wait(5)
        return None if self.p is None else self.p.returncode


class HttpRun:
    """One run of the http section; run_http takes it through measure(), then the report."""

    def __init__(self, args, build):
        self.args, self.build = args, build
        self.bench = os.path.join(build, "bench")
        self.quick = args.quick
        self.reps = 3
        self.seconds = 2 if self.quick else 5
        self.big_size = (256 if self.quick else 1024) << 20
        self.failures, self.commands = [], []
        self.req = {}    # (name, "plain"|"https") -> [result dict]
        self.down = {}   # name -> [result dict]
        self.status = {}  # name -> why it has no figures ("not built")
        base = os.environ.get("TMPDIR") or "/tmp"
        self.tmp = tempfile.mkdtemp(prefix="corio-http-bench.", dir=base)
        cpus = sorted(os.sched_getaffinity(0))
        self.server_cpu = cpus[0]
        self.client_cpu = cpus[1] if len(cpus) > 1 else cpus[0]
        self.server_prefix = ["taskset", "-c", str(self.server_cpu)]
        self.client_prefix = ["taskset", "-c", str(self.client_cpu)]
        self.nginx = None

    # -- helpers

    def show(self, cmd):
        text = " ".join(shlex.quote(c) for c in cmd)
        text = text.replace(self.tmp, "$D").replace(ROOT + "/", "")
        return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:$PORT", text)

    def record(self, cmd, note=""):
        shown = self.show(cmd) + note
        if shown not in self.commands:
            self.commands.append(shown)
        log(f"$ {self.show(cmd)}")
        return shown

    def attempt(self, what, fn):
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - report and go on with the others
            self.failures.append(f"http {what}: {e}")
            log(f"  FAILED: {e}")
            return None

    def timed(self, cmd, timeout, note=""):
        """Runs cmd (already prefixed); (stdout, wall seconds, (user, system) CPU seconds of the process)."""
        shown = self.record(cmd, note)
        out_path, err_path = os.path.join(self.tmp, "client.out"), os.path.join(self.tmp, "client.err")
        with open(out_path, "w") as out, open(err_path, "w") as err:
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT)
            deadline = time.monotonic() + timeout
            while True:
                pid, status, ru = os.wait4(p.pid, os.WNOHANG)
                if pid == p.pid:
                    break
                if time.monotonic() > deadline:
                    p.kill()
                    os.wait4(p.pid, 0)
                    p.returncode = -9
                    raise RuntimeError(f"{shown}: no end within {timeout} s")
                time.sleep(0.01)
            wall = time.perf_counter() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
        with open(out_path) as f:
            stdout = f.read()
        if p.returncode != 0:
            with open(err_path) as f:
                raise RuntimeError(f"{shown} exited with {p.returncode}: {(f.read() or stdout).strip()[-500:]}")
        return stdout, wall, (ru.ru_utime, ru.ru_stime)

    def exe(self, name):
        return os.path.join(self.bench, name)

    # -- setup

    def make_files(self):
        www = os.path.join(self.tmp, "www")
        os.makedirs(www)
        with open(os.path.join(www, "hello.txt"), "wb") as f:
            f.write(HELLO)
        with open(os.path.join(www, "big.bin"), "wb") as f:
            f.truncate(self.big_size)  # sparse: holes read as zeros
        self.cert, self.key = os.path.join(self.tmp, "cert.pem"), os.path.join(self.tmp, "key.pem")
        self.timed(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-keyout", self.key, "-out", self.cert], 30)

    def url(self, scheme, path):
        port = self.nginx.port if scheme == "http" else self.nginx.tls_port
        return f"{scheme}://127.0.0.1:{port}{path}"

    # -- one run of each kind

    def request_cmd(self, name, scheme):
        url = self.url(scheme, "/hello.txt")
        s = str(self.seconds)
        ca = ["--ca", self.cert] if scheme == "https" else []
        if name == "wrk":
            return ["wrk", "-t1", f"-c{TASKS}", f"-d{s}s", url]
        if name.startswith("corio"):
            return [self.exe("corio_http_load"), "--backend", name.split()[1], "--url", url, "--tasks", str(TASKS),
                    "--seconds", s] + ca
        if name == "libcurl multi":
            return [self.exe("libcurl_multi_load"), "--url", url, "--tasks", str(TASKS), "--seconds", s] + ca
        return [PYTHON, ANCHOR, "--loop", name.split()[1], "--url", url, "--tasks", str(TASKS), "--seconds", s] + ca

    def one_request_run(self, name, scheme):
        self.nginx.check()
        cmd = [*self.client_prefix, *self.request_cmd(name, scheme)]
        cpu0 = self.nginx.cpu_seconds()
        out, wall, cpu = self.timed(cmd, self.seconds + 60)
        server_cpu = self.nginx.cpu_seconds() - cpu0
        if name == "wrk":
            m = re.search(r"Requests/sec:\s*([\d.]+)", out)
            n = re.search(r"^\s*(\d+) requests in", out, re.M)
            if not m or not n:
                raise RuntimeError(f"wrk: no Requests/sec in {out.strip()[-300:]!r}")
            bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            if bad:
                raise RuntimeError(f"wrk: {bad.group(0)}")
            r = {"req_per_s": float(m.group(1)), "requests": int(n.group(1))}
            errors = re.search(r"Socket errors: .*", out)
            if errors:  # timeouts of a starved run: wrk's figure stands, the line is logged
                log(f"  wrk {scheme}: {errors.group(0)}")
        else:
            m = re.search(r"^requests (\d+) seconds ([\d.]+) req_per_s ([\d.]+)", out, re.M)
            if not m:
                raise RuntimeError(f"{name}: no result line in {out.strip()[-300:]!r}")
            r = {"req_per_s": float(m.group(3)), "requests": int(m.group(1))}
        r["client_user_us"] = cpu[0] / r["requests"] * 1e6
        r["client_sys_us"] = cpu[1] / r["requests"] * 1e6
        r["client_cpu_us"] = r["client_user_us"] + r["client_sys_us"]
        r["server_cpu_us"] = server_cpu / r["requests"] * 1e6
        return r

    def download_cmd(self, name):
        url = self.url("http", "/big.bin")
        if name == "curl":
            return ["curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{time_total}\\n", url]
        if name.startswith("corio"):
            return [self.exe("corio_http_load"), "--backend", name.split()[1], "--url", url, "--download"]
        return [PYTHON, ANCHOR, "--loop", name.split()[1], "--url", url, "--download"]

    def one_download(self, name):
        self.nginx.check()
        cmd = [*self.client_prefix, *self.download_cmd(name)]
        out, wall, cpu = self.timed(cmd, 300)
        if name == "curl":
            n, t = out.split()[:2]  # curl's own count and time (the whole request, as the others time it)
            r = {"bytes": int(n), "mb_per_s": int(n) / float(t) / 1e6}
        else:
            m = re.search(r"^bytes (\d+) seconds ([\d.]+) mb_per_s ([\d.]+)", out, re.M)
            if not m:
                raise RuntimeError(f"{name}: no result line in {out.strip()[-300:]!r}")
            r = {"bytes": int(m.group(1)), "mb_per_s": float(m.group(3))}
        if r["bytes"] != self.big_size:
            raise RuntimeError(f"{name}: {r['bytes']} bytes downloaded, not {self.big_size}")
        r["client_cpu_s"] = cpu[0] + cpu[1]
        return r

    # -- the whole run

    def runnable(self):
        """The clients that can run; the others get a status."""
        need = {"corio io_uring": "corio_http_load", "corio epoll": "corio_http_load",
                "libcurl multi": "libcurl_multi_load"}
        ok = set()
        for name in [c for c, _ in CLIENTS] + DOWNLOADERS:
            target = need.get(name)
            if target and not os.access(self.exe(target), os.X_OK):
                if name not in self.status:
                    self.failures.append(f"http {name}: {self.exe(target)} is not built "
                                         f"(cmake --build {self.build} --target {target})")
                self.status[name] = "not built"
            elif name == "wrk" and not shutil.which("wrk"):
                self.status[name] = "not installed"
                self.failures.append("http wrk: not installed (apt-get install wrk)")
            else:
                ok.add(name)
        return ok

    def measure(self):
        try:
            ok = self.runnable()
            self.make_files()
            self.record([*self.server_prefix, "nginx", "-p", self.tmp, "-c", os.path.join(self.tmp, "nginx.conf"), "-g",
                         "daemon off; master_process off;"], "   # until SIGTERM")
            self.nginx = Nginx(self.tmp, self.cert, self.key, self.server_prefix)
            for rep in range(self.reps):
                for scheme in ("http", "https"):
                    for name, _ in CLIENTS:
                        if name not in ok:
                            continue
                        r = self.attempt(f"{name} {scheme} (repetition {rep + 1})",
                                         lambda n=name, s=scheme: self.one_request_run(n, s))
                        if r is not None:
                            self.req.setdefault((name, scheme), []).append(r)
                            log(f"  {name} {scheme}: {r['req_per_s']:,.0f} req/s, client CPU "
                                f"{r['client_cpu_us']:.1f} µs/req, nginx {r['server_cpu_us']:.1f} µs/req")
            # The downloads: one uncounted curl first (the file into the page cache).
            self.attempt("download warm-up", lambda: self.one_download("curl"))
            for rep in range(self.reps):
                for name in DOWNLOADERS:
                    if name not in ok:
                        continue
                    r = self.attempt(f"{name} download (repetition {rep + 1})", lambda n=name: self.one_download(n))
                    if r is not None:
                        self.down.setdefault(name, []).append(r)
                        log(f"  {name} download: {r['mb_per_s']:,.0f} MB/s")
        except Exception as e:  # noqa: BLE001
            self.failures.append(f"http: {e}")
            log(f"FAILED: {e}")
        finally:
            if self.nginx is not None:
                try:
                    code = self.nginx.stop()
                    if code not in (0, -signal.SIGTERM):
                        self.failures.append(f"http nginx: exited with {code} when stopped: {self.nginx.log_tail()}")
                except Exception as e:  # noqa: BLE001
                    self.failures.append(f"http nginx: stopping it: {e}")
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- the tables

    def m(self, name, scheme, field="req_per_s"):
        return med([r[field] for r in self.req.get((name, scheme), [])])

    def request_rows(self):
        aio = {s: max([v for v in (self.m("aiohttp asyncio", s), self.m("aiohttp uvloop", s)) if v is not None],
                      default=None) for s in ("http", "https")}
        wrk = {s: self.m("wrk", s) for s in ("http", "https")}
        curl = {s: self.m("libcurl multi", s) for s in ("http", "https")}
        rows = []
        for name, kind in CLIENTS:
            p, t = self.m(name, "http"), self.m(name, "https")
            if p is None and t is None:
                rows.append([name] + [self.status.get(name, "failed")] * 6 + ["-"] * 3 + ["-"])
                continue
            cells = [name, fmt(p), fmt(t)]
            for s in ("http", "https"):
                cells.append(f"{fmt(self.m(name, s, 'client_user_us'))} + {fmt(self.m(name, s, 'client_sys_us'))} / "
                             f"{fmt(self.m(name, s, 'server_cpu_us'))}")
            misses = []

            def ratio(v, base, target, what, strict=False):
                if v is None or not base:
                    if kind == "corio":
                        misses.append(f"{what}: not measured")
                    return "n/a"
                r = v / base
                if kind != "corio":
                    return ratio_text(r)
                ok = r > target if strict else r >= target
                if not ok:
                    misses.append(what)
                return f"{ratio_text(r)} {mark(ok)}"

            cells.append(ratio(p, wrk["http"], T_VS_WRK, "plain vs wrk") + " / " +
                         ratio(t, wrk["https"], T_VS_WRK_TLS, "HTTPS vs wrk"))
            cells.append(ratio(p, aio["http"], T_VS_AIOHTTP, "plain vs aiohttp") + " / " +
                         ratio(t, aio["https"], T_VS_AIOHTTP, "HTTPS vs aiohttp"))
            cells.append(ratio(p, curl["http"], T_VS_CURL, "plain vs libcurl", strict=True) + " / " +
                         ratio(t, curl["https"], T_VS_CURL, "HTTPS vs libcurl", strict=True))
            cells.append("-" if kind != "corio" else mark(not misses) + (f" ({'; '.join(misses)})" if misses else ""))
            rows.append(cells)
        return rows

    def cpu_rows(self):
        """The ratios of the table above from client CPU per request instead of req/s: what they
        would be with the client's CPU as the limit (a quiet machine, the server faster than it)."""
        def cpu(name, s):
            return self.m(name, s, "client_cpu_us")
        aio = {s: min([v for v in (cpu("aiohttp asyncio", s), cpu("aiohttp uvloop", s)) if v is not None],
                      default=None) for s in ("http", "https")}
        down = {n: med([r["client_cpu_s"] for r in self.down.get(n, [])]) for n in DOWNLOADERS}
        rows = []
        for name, kind in CLIENTS:
            if kind != "corio":
                continue
            cells = [name]
            for base in ("wrk", "aiohttp", "libcurl multi"):
                parts = []
                for s in ("http", "https"):
                    c = cpu(name, s)
                    b = aio[s] if base == "aiohttp" else cpu(base, s)
                    parts.append(ratio_text(b / c) if b and c else "n/a")
                cells.append(" / ".join(parts))
            c, b = down.get(name), down.get("curl")
            cells.append(ratio_text(b / c) if b and c else "n/a")
            rows.append(cells)
        return rows

    def download_rows(self):
        curl = med([r["mb_per_s"] for r in self.down.get("curl", [])])
        rows = []
        for name in DOWNLOADERS:
            rs = self.down.get(name, [])
            if not rs:
                rows.append([name, self.status.get(name, "failed"), "-", "-", "-"])
                continue
            v = med([r["mb_per_s"] for r in rs])
            cpu = med([r["client_cpu_s"] for r in rs])
            r = v / curl if curl else None
            if name.startswith("corio"):
                ok = r is not None and r >= T_DOWNLOAD
                cells = [name, fmt(v), fmt(cpu), f"{ratio_text(r)} {mark(ok)}" if r else "n/a",
                         mark(ok) + ("" if ok else " (download vs curl)")]
            else:
                cells = [name, fmt(v), fmt(cpu), "1" if name == "curl" else (ratio_text(r) if r else "n/a"), "-"]
            rows.append(cells)
        return rows


REQ_HEADER = ["client", "plain req/s", "HTTPS req/s", "CPU µs/req plain: client user + sys / nginx",
              "CPU µs/req HTTPS: client user + sys / nginx", "÷ wrk (plain / HTTPS)", "÷ best aiohttp (plain / HTTPS)",
              "÷ libcurl multi (plain / HTTPS)", "corio target met?"]
CPU_HEADER = ["client", "wrk's CPU/req ÷ corio's (plain / HTTPS)", "best aiohttp's ÷ corio's (plain / HTTPS)",
              "libcurl multi's ÷ corio's (plain / HTTPS)", "download: curl's CPU ÷ corio's"]
DOWN_HEADER = ["client", "download MB/s", "client CPU s", "÷ curl", "corio target met?"]


def run_http(args, build, old_section):
    """Runs the http section; gives (failures, the document's http section, or None with --no-write)."""
    started = datetime.datetime.now().astimezone()
    t_start = time.monotonic()
    load_before = load()
    h = HttpRun(args, build)
    h.measure()
    elapsed = time.monotonic() - t_start
    load_after = load()
    rrows, drows, crows = h.request_rows(), h.download_rows(), h.cpu_rows()
    size_text = f"{h.big_size >> 20} MiB"
    print()
    print(text_table(REQ_HEADER, rrows))
    print()
    print(text_table(DOWN_HEADER, drows))
    print("\nThe ratios from the clients' CPU time per request (per download) instead:")
    print(text_table(CPU_HEADER, crows))
    print(f"\n{TASKS} tasks, GET of a 13-byte file over keep-alive; download of {size_text}; nginx on CPU "
          f"{h.server_cpu}, clients on CPU {h.client_cpu}; medians of {h.reps} repetitions of {h.seconds} s. "
          f"Http section: {elapsed:.0f} s, load average {load_before} before, {load_after} after.")
    for f in h.failures:
        print(f"FAILED: {f.splitlines()[0]}", file=sys.stderr)
    if args.no_write:
        return h.failures, None

    rel = os.path.relpath(build, ROOT)
    tree = sh("git rev-parse --short HEAD")
    if sh("git status --porcelain -- src include bench/http_client_load.cpp"):
        tree += " with uncommitted changes in src/, include/ or bench/http_client_load.cpp"
    nginx_v = re.sub(r"^nginx version: nginx/", "", sh("nginx -v 2>&1"))
    def py(expr):
        return sh(f"{PYTHON} -c 'import aiohttp, sys, uvloop; print({expr})'")
    versions = (f"nginx {nginx_v}; {sh('wrk -v 2>&1 | head -1').split(' [')[0]}; "
                f"{sh('curl --version | head -1').split(' (')[0]} ({sh('openssl version')}); "
                f"aiohttp {py('aiohttp.__version__')}, uvloop {py('uvloop.__version__')}, "
                f"Python {py('sys.version.split()[0]')}")
    out = [
        BEGIN,
        "## HTTP client",
        "",
        f"HTTP clients against one nginx in one run (`{PYTHON} bench/compare.py --build {rel} --only http` "
        "runs this part alone).",
        "",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M %Z')}" + (" (`--quick`)" if args.quick else "") +
        f"; corio at {tree}",
        f"- Machine: {sh('nproc')} CPUs, kernel {platform.release()}; nginx pinned to CPU {h.server_cpu}, "
        f"the clients to CPU {h.client_cpu}, over 127.0.0.1",
        f"- {versions}",
        f"- Load average: {load_before} before, {load_after} after; this section took {elapsed:.0f} s.",
        f"- Repetitions: {h.reps}, the clients taken in turn in each; every figure is the median. "
        f"{h.seconds} s per request run.",
        "",
        f"### {TASKS} concurrent GETs of a 13-byte file over keep-alive",
        "",
        markdown(REQ_HEADER, rrows),
        "",
        f"Targets of corio: plain req/s ≥ {T_VS_WRK}x wrk's, HTTPS req/s ≥ {T_VS_WRK_TLS}x wrk's HTTPS figure; "
        f"both ≥ {T_VS_AIOHTTP:g}x the better aiohttp and ahead of libcurl multi. Ratios are truncated.",
        "",
        f"### Download of {size_text}",
        "",
        markdown(DOWN_HEADER, drows),
        "",
        f"Target of corio: MB/s ≥ {T_DOWNLOAD}x `curl -o /dev/null`'s (MB = 10^6 bytes).",
        "",
        "### The same ratios from the clients' CPU time",
        "",
        "What the ratios above would be if each client's own CPU were the limit (the server faster than "
        "the client, the CPU the client's alone): the anchor's client CPU time (user + kernel) per request, "
        "or per download, divided by corio's. Not the targets, which are on req/s and MB/s; a guide to them "
        "when the machine is shared and the server's CPU share sets every client's rate.",
        "",
        markdown(CPU_HEADER, crows),
        "",
        NOTES_BEGIN, kept_notes(old_section, NOTES_BEGIN, NOTES_END) or NO_NOTES, NOTES_END,
        "",
        "### Spread",
        "",
        "| client | run | median | min | max | repetitions |",
        "|---|---|---|---|---|---|",
    ]
    for name, _ in CLIENTS:
        for scheme in ("http", "https"):
            v = [r["req_per_s"] for r in h.req.get((name, scheme), [])]
            if v:
                out.append(f"| {name} | {'plain' if scheme == 'http' else 'HTTPS'} req/s | {fmt(med(v))} | "
                           f"{fmt(min(v))} | {fmt(max(v))} | {len(v)} |")
    for name in DOWNLOADERS:
        v = [r["mb_per_s"] for r in h.down.get(name, [])]
        if v:
            out.append(f"| {name} | download MB/s | {fmt(med(v))} | {fmt(min(v))} | {fmt(max(v))} | {len(v)} |")
    out += ["", "### Commands", "", "```sh",
            f"{PYTHON} bench/compare.py --build {rel} --only http" + (" --quick" if args.quick else ""),
            f"# which ran, each shape once here, in this order ($D: its temp dir; $PORT: nginx's HTTP or HTTPS "
            f"port; the runs {h.reps} times):"]
    out += h.commands
    out += ["```", "", "### What is measured", "",
            DEFINITIONS.format(nginx=nginx_v, server_cpu=h.server_cpu, client_cpu=h.client_cpu, tasks=TASKS,
                               tck=CLK_TCK)]
    if h.failures:
        out += ["### Failures in this run", ""] + [f"- {f.splitlines()[0]}" for f in h.failures] + [""]
    out.append(END)
    return h.failures, "\n".join(out)
