// nginx_peer: Debian's nginx (package nginx, /usr/sbin/nginx) as the HTTP
// client tests' reference server. The constructor makes a temp folder with a
// CA and server certificates (openssl CLI), the files to serve, a python3
// echo upstream (python_echo_peer) and an nginx.conf, picks free loopback
// ports and runs
//   nginx -p DIR -c DIR/nginx.conf -g 'daemon off; master_process off;'
// (one process: PR_SET_PDEATHSIG then covers all of nginx), waiting (bounded)
// until every port answers; a bind race restarts it on fresh ports. The
// destructor stops it by PID (SIGTERM, bounded waitpid, SIGKILL) and removes
// the folder. Logs (error.log, access.log) stay in the folder until then.
// PR_SET_PDEATHSIG is tied to the thread that forks: construct peers on the
// test's main thread (not inside to_thread or a pool thread that may end).
//
// Ports, all on 127.0.0.1:
//   port()                  plain HTTP, every location below
//   keepalive_port()        the same locations, keepalive_requests 2 and
//                           keepalive_timeout 1s (stale-connection retries)
//   tls_port()              HTTPS, certificate for localhost, 127.0.0.1 and
//                           ::1 signed by ca_file()
//   wrong_name_tls_port()   HTTPS, certificate for wrong.example by ca_file()
//   untrusted_tls_port()    HTTPS, certificate for localhost and 127.0.0.1
//                           signed by untrusted_ca_file(), a CA nobody trusts
// Locations (on every port):
//   /hello.txt "Hello, world!"; /big.bin (options.big_size random bytes,
//   big_sha256()); /page.html (text/html; charset=iso-8859-1, latin-1 body
//   page_body); /data.json (data_json); gzip for text/html, text/plain and
//   application/json when asked (Accept-Encoding: gzip);
//   /chunked/NAME: the file NAME answered with Transfer-Encoding: chunked
//   (SSI on every type drops the length, so nginx chunks it);
//   /redirect/301|302|303|307|308 -> /hello.txt (relative Location);
//   /redirect/absolute -> http://127.0.0.1:port()/hello.txt;
//   /redirect/chain -> /redirect/301 -> /hello.txt; /loop -> /loop;
//   /to-https -> https://127.0.0.1:tls_port()/hello.txt;
//   /to-http -> http://127.0.0.1:port()/hello.txt;
//   /to-other-port -> http://127.0.0.1:keepalive_port()/hello.txt;
//   /echo... -> the python echo peer (JSON of method, headers, body) through
//   proxy_pass, unbuffered both ways, so chunked uploads stay chunked; nginx
//   keeps Host but sends its own Connection: close, so echo_base_url() (the
//   echo peer itself) is there to see a client's own hop-by-hop headers;
//   /slow?delay=S&stage=head|body -> the echo peer's stall (S defaults to
//   10 s; head: before the head, body: after a head of Content-Length 13);
//   /set-cookie (Set-Cookie variants, set_cookie_headers), /set-cookie-redirect
//   (a cookie and a 302 to /cookies), /cookies (the request's Cookie header
//   as the body); /status/200|204|404|500|503 (return N).
// The access log has one line per request: "$connection
// $connection_requests $server_port $request_method $request_uri $status
// $body_bytes_sent $ssl_server_name $ssl_protocol" (access_entries() parses
// it, last_access(uri) waits for a request's line) to count requests and
// connections and to see the client's SNI.
// shared_nginx() is one nginx_peer for a whole test program.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "process.hpp"
#include "python_http.hpp"

namespace corio_http_peers {

struct nginx_options {
    std::size_t big_size = 8 << 20;  // bytes of /big.bin
    bool access_log = true;          // off for benchmarks
};

/// One line of nginx_peer's access log.
struct access_entry {
    std::uint64_t connection = 0;           // nginx's connection serial number
    std::uint64_t connection_requests = 0;  // 1 for the first request on it
    std::uint16_t port = 0;                 // the server port it came to
    std::string method;
    std::string uri;  // as the request line had it
    int status = 0;
    std::uint64_t body_bytes = 0;
    std::string sni;           // the TLS server name the client sent; "-" for none or plain HTTP
    std::string tls_protocol;  // "TLSv1.3", or "-" for plain HTTP
};

/// Certificates made with the openssl CLI in `dir`: the trusted CA, a
/// server certificate (localhost, 127.0.0.1, ::1), one for wrong.example,
/// and a localhost certificate from a second CA nobody trusts.
class test_pki {
public:
    explicit test_pki(std::string dir) : dir_(std::move(dir)) {
        std::filesystem::create_directories(dir_);
        // A config of our own: /etc/ssl/openssl.cnf would add its own
        // extensions (and -addext would then collide with them).
        write_file(path("openssl.cnf"),
                   "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n"
                   "[ca_ext]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n"
                   "subjectKeyIdentifier = hash\n"
                   "[server_ext]\nbasicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature\n"
                   "extendedKeyUsage = serverAuth\nsubjectKeyIdentifier = hash\n"
                   "authorityKeyIdentifier = keyid\nsubjectAltName = $ENV::SAN\n");
        make_ca("ca", "corio test CA");
        make_ca("untrusted-ca", "corio untrusted CA");
        make_server("server", "ca", "localhost", "DNS:localhost,IP:127.0.0.1,IP:::1", 2);
        make_server("wrong-name", "ca", "wrong.example", "DNS:wrong.example", 3);
        make_server("untrusted", "untrusted-ca", "localhost", "DNS:localhost,IP:127.0.0.1", 4);
    }
    std::string path(const std::string& name) const { return dir_ + "/" + name; }
    std::string cert(const std::string& name) const { return path(name + ".crt"); }
    std::string key(const std::string& name) const { return path(name + ".key"); }

private:
    void openssl(std::vector<std::string> args, const std::string& san = "DNS:unused") {
        // $ENV::SAN in the config: the subjectAltName differs per certificate.
        std::vector<std::string> argv = {"/usr/bin/env", "SAN=" + san, debian_program("openssl")};
        argv.insert(argv.end(), args.begin(), args.end());
        const program_result r = run_program(argv, 30000ms);
        if (r.exit_code != 0)
            throw std::runtime_error("openssl " + args.at(0) + " failed (" + std::to_string(r.exit_code) +
                                     "): " + r.err);
    }
    void make_key(const std::string& name) {
        openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key(name)});
    }
    void make_ca(const std::string& name, const std::string& cn) {
        make_key(name);
        openssl({"req", "-config", path("openssl.cnf"), "-new", "-x509", "-key", key(name), "-subj", "/CN=" + cn,
                 "-days", "3650", "-extensions", "ca_ext", "-set_serial", "1", "-out", cert(name)});
    }
    void make_server(const std::string& name, const std::string& ca, const std::string& cn, const std::string& san,
                     int serial) {
        make_key(name);
        openssl({"req", "-config", path("openssl.cnf"), "-new", "-key", key(name), "-subj", "/CN=" + cn, "-out",
                 path(name + ".csr")});
        openssl({"x509", "-req", "-in", path(name + ".csr"), "-CA", cert(ca), "-CAkey", key(ca), "-set_serial",
                 std::to_string(serial), "-days", "365", "-extfile", path("openssl.cnf"), "-extensions",
                 "server_ext", "-out", cert(name)},
                san);
    }
    std::string dir_;
};

class nginx_peer {
public:
    explicit nginx_peer(nginx_options options = {}) : options_(options), dir_("corio-nginx") {
        for (const char* sub : {"www", "tmp", "logs"}) std::filesystem::create_directory(dir_ / sub);
        pki_ = std::make_unique<test_pki>(dir_ / "tls");
        write_site();
        echo_ = std::make_unique<python_echo_peer>();
        start();
    }
    nginx_peer(const nginx_peer&) = delete;
    nginx_peer& operator=(const nginx_peer&) = delete;
    ~nginx_peer() { stop(); }

    /// Stops nginx now (SIGTERM, bounded wait, SIGKILL): its ports refuse.
    void stop() {
        if (nginx_) nginx_->stop();
        if (echo_) echo_->stop();
    }

    std::uint16_t port() const noexcept { return ports_[plain]; }
    std::uint16_t keepalive_port() const noexcept { return ports_[keepalive]; }
    std::uint16_t tls_port() const noexcept { return ports_[tls]; }
    std::uint16_t wrong_name_tls_port() const noexcept { return ports_[wrong_name]; }
    std::uint16_t untrusted_tls_port() const noexcept { return ports_[untrusted]; }
    std::uint16_t echo_port() const noexcept { return echo_->port(); }  // the echo peer, without nginx

    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }
    std::string keepalive_base_url() const { return "http://127.0.0.1:" + std::to_string(keepalive_port()); }
    std::string tls_base_url() const { return "https://127.0.0.1:" + std::to_string(tls_port()); }
    /// The same TLS server by name, for SNI and name checks.
    std::string tls_base_url_by_name() const { return "https://localhost:" + std::to_string(tls_port()); }
    std::string wrong_name_tls_base_url() const { return "https://127.0.0.1:" + std::to_string(wrong_name_tls_port()); }
    std::string untrusted_tls_base_url() const { return "https://127.0.0.1:" + std::to_string(untrusted_tls_port()); }
    std::string echo_base_url() const { return echo_->base_url(); }

    /// The CA that signed the tls_port() and wrong_name_tls_port()
    /// certificates (PEM): a client that trusts it verifies tls_port().
    std::string ca_file() const { return pki_->cert("ca"); }
    /// The CA of untrusted_tls_port()'s certificate.
    std::string untrusted_ca_file() const { return pki_->cert("untrusted-ca"); }
    /// The server certificate and key of tls_port() (PEM).
    std::string server_cert_file() const { return pki_->cert("server"); }
    std::string server_key_file() const { return pki_->key("server"); }

    const std::string& dir() const noexcept { return dir_.path(); }
    std::string www_dir() const { return dir_ / "www"; }
    pid_t pid() const noexcept { return nginx_ ? nginx_->pid() : -1; }
    const nginx_options& options() const noexcept { return options_; }

    /// Serves `content` at /NAME from now on (NAME may contain '/').
    void add_file(const std::string& name, std::string_view content) {
        const std::filesystem::path p = dir_ / ("www/" + name);
        std::filesystem::create_directories(p.parent_path());
        write_file(p.string(), content);
    }

    /// The body of /big.bin (read from its file) and its SHA-256 (hex).
    std::string big_body() const { return read_file(dir_ / "www/big.bin"); }
    std::size_t big_size() const noexcept { return options_.big_size; }
    const std::string& big_sha256() const noexcept { return big_sha256_; }
    static std::string page_body() { return "<html><body>Caf\xe9 na\xefve \xa9 corio</body></html>\n"; }
    static std::string data_json() { return R"({"name":"corio","ok":true,"n":42,"list":[1,2,3]})"; }
    /// The Set-Cookie header values /set-cookie sends, in order.
    static std::vector<std::string> set_cookie_headers() {
        return {"session=abc123; Path=/",
                "persistent=yes; Max-Age=3600; Path=/",
                "scoped=1; Path=/cookies",
                "domain_cookie=dc; Domain=localhost; Path=/",
                "secure_only=s; Secure; Path=/",
                "gone=x; Max-Age=0; Path=/"};
    }

    std::string access_log_path() const { return dir_ / "logs/access.log"; }
    std::string error_log_path() const { return dir_ / "logs/error.log"; }
    std::string access_log() const { return read_file(access_log_path()); }
    std::string error_log() const { return read_file(error_log_path()); }

    /// The access log parsed, once it has at least `at_least` lines (nginx
    /// logs a request after its response is sent, so a client can see the
    /// response first), waiting at most `limit`.
    std::vector<access_entry> access_entries(std::size_t at_least = 0,
                                             std::chrono::milliseconds limit = 3000ms) const {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            std::vector<access_entry> entries = parse_access_log(access_log());
            if (entries.size() >= at_least || std::chrono::steady_clock::now() >= deadline) return entries;
            std::this_thread::sleep_for(10ms);
        }
    }

    /// The last access-log entry for `uri` once the log has one (waiting
    /// at most `limit`): what nginx saw of the client's latest request there.
    std::optional<access_entry> last_access(const std::string& uri, std::chrono::milliseconds limit = 3000ms) const {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            const std::vector<access_entry> entries = parse_access_log(access_log());
            for (auto it = entries.rbegin(); it != entries.rend(); ++it)
                if (it->uri == uri) return *it;
            if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
            std::this_thread::sleep_for(10ms);
        }
    }

    static std::vector<access_entry> parse_access_log(const std::string& text) {
        std::vector<access_entry> out;
        std::istringstream lines(text);
        std::string line;
        while (std::getline(lines, line)) {
            std::istringstream f(line);
            access_entry e;
            f >> e.connection >> e.connection_requests >> e.port >> e.method >> e.uri >> e.status >> e.body_bytes >>
                e.sni >> e.tls_protocol;
            if (f) out.push_back(std::move(e));
        }
        return out;
    }

private:
    enum { plain, keepalive, tls, wrong_name, untrusted, port_count };

    void write_site() {
        add_file("hello.txt", hello_body);
        // Written and hashed 1 MiB at a time: a benchmark's 1 GiB file is
        // never in memory whole.
        std::mt19937_64 random(0xc0210);
        std::ofstream out(dir_ / "www/big.bin", std::ios::binary | std::ios::trunc);
        sha256 hash;
        std::string piece;
        for (std::size_t done = 0; done < options_.big_size; done += piece.size()) {
            piece.resize(std::min<std::size_t>(1 << 20, options_.big_size - done));
            for (std::size_t i = 0; i < piece.size(); i += 8) {
                const std::uint64_t v = random();
                std::memcpy(piece.data() + i, &v, std::min<std::size_t>(8, piece.size() - i));
            }
            out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
            hash.update(piece);
        }
        if (!out.flush()) throw std::runtime_error("nginx_peer: cannot write big.bin");
        big_sha256_ = hash.hex();
        add_file("page.html", page_body());
        add_file("data.json", data_json());
    }

    std::string config() const {
        const std::string d = dir_.path();
        const std::string p = std::to_string(port()), ka = std::to_string(keepalive_port()),
                          t = std::to_string(tls_port());
        std::string locations = "root " + d + "/www;\n"
            "absolute_redirect off;\n"
            "location / { }\n"
            "location = /page.html { charset iso-8859-1; }\n"
            "location /chunked/ { alias " + d + "/www/; ssi on; ssi_types *; }\n";
        for (const char* code : {"301", "302", "303", "307", "308"})
            locations += std::string("location = /redirect/") + code + " { return " + code + " /hello.txt; }\n";
        locations +=
            "location = /redirect/absolute { return 302 http://127.0.0.1:" + p + "/hello.txt; }\n"
            "location = /redirect/chain { return 302 /redirect/301; }\n"
            "location = /loop { return 302 /loop; }\n"
            "location = /to-https { return 302 https://127.0.0.1:" + t + "/hello.txt; }\n"
            "location = /to-http { return 302 http://127.0.0.1:" + p + "/hello.txt; }\n"
            "location = /to-other-port { return 302 http://127.0.0.1:" + ka + "/hello.txt; }\n"
            "location /echo {\n"
            "  proxy_pass http://127.0.0.1:" + std::to_string(echo_->port()) + ";\n"
            "  proxy_http_version 1.1; proxy_set_header Host $http_host;\n"
            "  proxy_request_buffering off; proxy_buffering off; client_max_body_size 0;\n"
            "}\n"
            "location /slow {\n"
            "  proxy_pass http://127.0.0.1:" + std::to_string(echo_->port()) + ";\n"
            "  proxy_http_version 1.1; proxy_buffering off; proxy_read_timeout 600s;\n"
            "}\n"
            "location = /set-cookie {\n";
        for (const std::string& c : set_cookie_headers()) locations += "  add_header Set-Cookie \"" + c + "\";\n";
        locations +=
            "  default_type text/plain; return 200 \"cookies set\\n\";\n"
            "}\n"
            "location = /set-cookie-redirect { add_header Set-Cookie \"redirected=1; Path=/\"; return 302 /cookies; }\n"
            "location = /cookies { default_type text/plain; return 200 \"$http_cookie\"; }\n";
        for (const char* code : {"200", "204", "404", "500", "503"})
            locations += std::string("location = /status/") + code + " { return " + code + "; }\n";
        write_file(dir_ / "locations.conf", locations);

        auto tls_server = [&](int which, const std::string& cert) {
            return "server {\n  listen 127.0.0.1:" + std::to_string(ports_[which]) + " ssl;\n"
                   "  ssl_certificate " + pki_->cert(cert) + ";\n  ssl_certificate_key " + pki_->key(cert) + ";\n"
                   "  ssl_protocols TLSv1.2 TLSv1.3;\n  include " + d + "/locations.conf;\n}\n";
        };
        const std::string log = options_.access_log ? "access_log " + d + "/logs/access.log corio;\n" : "access_log off;\n";
        return "pid " + d + "/nginx.pid;\n"
               "lock_file " + d + "/nginx.lock;\n"
               "error_log " + d + "/logs/error.log warn;\n"
               "worker_processes 1;\n"
               "events { worker_connections 1024; }\n"
               "http {\n"
               "  types { text/plain txt; text/html html; application/json json; application/octet-stream bin; }\n"
               "  default_type application/octet-stream;\n"
               "  client_body_temp_path " + d + "/tmp/body;\n  proxy_temp_path " + d + "/tmp/proxy;\n"
               "  fastcgi_temp_path " + d + "/tmp/fastcgi;\n  uwsgi_temp_path " + d + "/tmp/uwsgi;\n"
               "  scgi_temp_path " + d + "/tmp/scgi;\n"
               "  log_format corio '$connection $connection_requests $server_port $request_method "
               "$request_uri $status $body_bytes_sent "
               "$ssl_server_name $ssl_protocol';\n  " + log +
               "  sendfile on; tcp_nopush on;\n"
               "  gzip on; gzip_min_length 1; gzip_types text/plain application/json;\n"
               "  server {\n    listen 127.0.0.1:" + p + ";\n    include " + d + "/locations.conf;\n  }\n"
               "  server {\n    listen 127.0.0.1:" + ka + ";\n    keepalive_requests 2; keepalive_timeout 1s;\n"
               "    include " + d + "/locations.conf;\n  }\n" +
               tls_server(tls, "server") + tls_server(wrong_name, "wrong-name") + tls_server(untrusted, "untrusted") +
               "}\n";
    }

    void start() {
        const std::string log_path = dir_ / "logs/nginx.stderr";
        for (int attempt = 0; attempt < 5; ++attempt) {
            const std::vector<std::uint16_t> ports = free_ports(port_count);
            std::copy(ports.begin(), ports.end(), ports_);
            write_file(dir_ / "nginx.conf", config());
            nginx_ = std::make_unique<child_process>(
                std::vector<std::string>{debian_program("nginx"), "-p", dir_.path(), "-c", dir_ / "nginx.conf", "-g",
                                         "daemon off; master_process off;"},
                log_path);
            // Another process may have taken a port between free_ports and
            // nginx's bind, and answered the connects: nginx then exits
            // ("Address already in use") a moment later, so it must still be
            // running after its ports answered.
            if (wait_for_ports(ports, *nginx_)) {
                std::this_thread::sleep_for(50ms);
                if (nginx_->running()) return;
            }
            nginx_->stop();
            const std::string why = read_file(log_path) + error_log();
            if (why.find("Address already in use") == std::string::npos)
                throw std::runtime_error("nginx did not start:\n" + why);
        }
        throw std::runtime_error("nginx: no free ports after 5 attempts:\n" + error_log());
    }

    nginx_options options_;
    temp_dir dir_;
    std::unique_ptr<test_pki> pki_;
    std::unique_ptr<python_echo_peer> echo_;
    std::unique_ptr<child_process> nginx_;
    std::uint16_t ports_[port_count] = {};
    std::string big_sha256_;
};

/// One nginx_peer for the whole test program, started on first use (call
/// it first from the main thread, see PR_SET_PDEATHSIG above) and stopped
/// when the program exits: starting one costs about half a second.
inline nginx_peer& shared_nginx() {
    static nginx_peer peer;
    return peer;
}

}  // namespace corio_http_peers
