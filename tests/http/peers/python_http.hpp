// Python peers for the HTTP client's tests, started from Debian's python3:
//  - python_http_peer: `python3 -m http.server --bind 127.0.0.1 PORT
//    --directory DIR/www`, the standard library's static server. It answers
//    HTTP/1.0 and closes every connection after its response (no
//    keep-alive), serving www/hello.txt ("Hello, world!", 13 bytes) and any
//    file a test adds with add_file().
//  - python_echo_peer: a small ThreadingHTTPServer (HTTP/1.1, keep-alive)
//    that answers every method on every path with JSON describing the
//    request (method, path, query, version, headers in order, body, chunk
//    count of a chunked upload), and /slow?delay=S&stage=head|body, which
//    stalls S seconds before its head or after it (sock_read timeouts).
//    nginx_peer proxies /echo and /slow to one.
// Each lives in its own temp folder, binds a free loopback port (retried on a
// bind race), is waited for (bounded) until the port answers, and is stopped
// by PID (SIGTERM, bounded wait, SIGKILL) by its destructor; PR_SET_PDEATHSIG
// kills it if the test process dies first.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "process.hpp"

namespace corio_http_peers {

namespace detail {

// Starts `argv` (a server told to bind port 0) and reads the port it got
// from its log, where `marker` precedes the number ("port " for
// http.server's "Serving HTTP on 127.0.0.1 port 43527"). The kernel picks
// the port at bind time, so no other process can take it in between: a port
// chosen here and handed over would race with every test running in
// parallel, and a connect that another process answered would pass for ours.
inline std::unique_ptr<child_process> start_reporting_port(const std::vector<std::string>& argv,
                                                           const std::string& log_path, std::uint16_t& port,
                                                           const std::string& marker, const char* what) {
    auto child = std::make_unique<child_process>(argv, log_path);
    const auto deadline = std::chrono::steady_clock::now() + 15000ms;
    while (std::chrono::steady_clock::now() < deadline && child->running()) {
        const std::string log = read_file(log_path);
        const std::size_t at = log.find(marker);
        if (at != std::string::npos) {
            std::size_t i = at + marker.size();
            unsigned value = 0;
            std::size_t digits = 0;
            for (; i < log.size() && log[i] >= '0' && log[i] <= '9'; ++i, ++digits) value = value * 10 + unsigned(log[i] - '0');
            if (digits > 0 && i < log.size() && value > 0 && value < 65536) {  // the whole number has been written
                port = static_cast<std::uint16_t>(value);
                if (wait_for_ports({port}, *child)) return child;
                break;
            }
        }
        std::this_thread::sleep_for(10ms);
    }
    child->stop();
    throw std::runtime_error(std::string(what) + " did not start; its log:\n" + read_file(log_path));
}

inline constexpr const char* echo_script = R"PY(
# corio's HTTP test echo peer: answers every request with JSON describing it.
import base64, json, sys, time, urllib.parse
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

class handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s\n" % (fmt % args))
        sys.stderr.flush()

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body, chunks = b"", 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return body, chunks
                body += self.rfile.read(size)
                self.rfile.readline(65537)
                chunks += 1
        n = int(self.headers.get("Content-Length", "0") or "0")
        return (self.rfile.read(n) if n > 0 else b""), None

    def reply(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def slow(self, url):
        query = urllib.parse.parse_qs(url.query)
        delay = float(query.get("delay", ["10"])[0])
        if query.get("stage", ["body"])[0] == "head":
            time.sleep(delay)
            return self.reply(200, b"Hello, world!", "text/plain")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "13")
        self.end_headers()
        self.wfile.flush()
        time.sleep(delay)
        self.wfile.write(b"Hello, world!")

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        body, chunks = self.read_body()
        if url.path.startswith("/slow"):
            return self.slow(url)
        reply = {
            "method": self.command,
            "path": url.path,
            "query": url.query,
            "args": urllib.parse.parse_qs(url.query, keep_blank_values=True),
            "version": self.request_version,
            "headers": [[k, v] for k, v in self.headers.items()],
            "chunks": chunks,
            "body": body.decode("utf-8", "replace"),
            "body_base64": base64.b64encode(body).decode(),
        }
        self.reply(200, json.dumps(reply).encode(), "application/json")

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any

server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), handler)
server.daemon_threads = True
print("corio-echo listening on port %d" % server.server_address[1], flush=True)
server.serve_forever()
)PY";

}  // namespace detail

/// `python3 -m http.server` serving DIR/www (HTTP/1.0, no keep-alive).
class python_http_peer {
public:
    python_http_peer() : dir_("corio-python-http") {
        std::filesystem::create_directory(dir_ / "www");
        write_file(dir_ / "www/hello.txt", hello_body);
        const std::string python = debian_program("python3");
        const std::string www = dir_ / "www";
        child_ = detail::start_reporting_port(
            {python, "-u", "-m", "http.server", "--bind", "127.0.0.1", "0", "--directory", www}, log_path(), port_,
            " port ", "python3 -m http.server");
    }
    python_http_peer(const python_http_peer&) = delete;
    python_http_peer& operator=(const python_http_peer&) = delete;
    ~python_http_peer() { stop(); }

    /// Stops the server now (SIGTERM, then SIGKILL); the port then refuses.
    void stop() {
        if (child_) child_->stop();
    }
    /// Serves `content` at /NAME from now on.
    void add_file(const std::string& name, std::string_view content) { write_file(dir_ / ("www/" + name), content); }

    std::uint16_t port() const noexcept { return port_; }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    const std::string& dir() const noexcept { return dir_.path(); }
    pid_t pid() const noexcept { return child_ ? child_->pid() : -1; }
    std::string log_path() const { return dir_ / "server.log"; }
    /// The server's log: one line per request on stderr.
    std::string log() const { return read_file(log_path()); }

private:
    temp_dir dir_;
    std::uint16_t port_ = 0;
    std::unique_ptr<child_process> child_;
};

/// The JSON echo server described above, on its own port.
class python_echo_peer {
public:
    python_echo_peer() : dir_("corio-python-echo") {
        write_file(dir_ / "echo.py", detail::echo_script);
        const std::string python = debian_program("python3");
        const std::string script = dir_ / "echo.py";
        child_ = detail::start_reporting_port({python, "-u", script, "0"}, log_path(), port_, "listening on port ",
                                              "the python3 echo peer");
    }
    python_echo_peer(const python_echo_peer&) = delete;
    python_echo_peer& operator=(const python_echo_peer&) = delete;
    ~python_echo_peer() { stop(); }

    void stop() {
        if (child_) child_->stop();
    }
    std::uint16_t port() const noexcept { return port_; }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    pid_t pid() const noexcept { return child_ ? child_->pid() : -1; }
    std::string log_path() const { return dir_ / "echo.log"; }
    std::string log() const { return read_file(log_path()); }

private:
    temp_dir dir_;
    std::uint16_t port_ = 0;
    std::unique_ptr<child_process> child_;
};

}  // namespace corio_http_peers
