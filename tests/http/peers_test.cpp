// The HTTP client's test peers (tests/http/peers/) checked without corio:
// each feature a client test relies on is driven here with Debian's curl or
// with plain sockets, so a failing client test points at the client, not at
// its peer. nginx, python3 and curl must be installed
// (scripts/install-deps.sh core).
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <zlib.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "peers/nginx.hpp"
#include "peers/python_http.hpp"
#include "peers/scripted_peer.hpp"

namespace {

using namespace corio_http_peers;
using namespace std::chrono_literals;

// curl with a time limit; its stdout has the response heads (-D -) then
// the body.
program_result curl(std::vector<std::string> args) {
    std::vector<std::string> argv = {debian_program("curl"), "-sS", "--max-time", "20", "--http1.1"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, 30000ms);
}

struct response {
    std::string head;  // the last head when curl followed redirects
    std::string body;
};

// Splits curl -D - output: every head, then the body.
response split(const std::string& out) {
    response r;
    std::size_t at = 0;
    while (out.compare(at, 5, "HTTP/") == 0) {
        const std::size_t end = out.find("\r\n\r\n", at);
        if (end == std::string::npos) break;
        r.head = out.substr(at, end + 4 - at);
        at = end + 4;
    }
    r.body = out.substr(at);
    return r;
}

// Every value of header `name` (case-insensitive) in a head.
std::vector<std::string> header_values(const std::string& head, std::string name) {
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::vector<std::string> out;
    std::size_t at = head.find("\r\n");
    while (at != std::string::npos && at + 2 < head.size()) {
        const std::size_t end = head.find("\r\n", at + 2);
        const std::string line = head.substr(at + 2, end - at - 2);
        const std::size_t colon = line.find(':');
        if (colon != std::string::npos) {
            std::string n = line.substr(0, colon);
            for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (n == name) out.push_back(line.substr(line.find_first_not_of(' ', colon + 1)));
        }
        at = end;
    }
    return out;
}

std::string header(const std::string& head, const std::string& name) {
    const auto v = header_values(head, name);
    return v.empty() ? std::string() : v.front();
}

int status_of(const std::string& head) { return head.size() > 12 ? std::stoi(head.substr(9, 3)) : 0; }

// A connected socket with a receive time limit, so every read is bounded.
struct raw_client {
    explicit raw_client(std::uint16_t port, std::chrono::milliseconds limit = 5000ms) : fd(connect_loopback(port)) {
        if (fd < 0) throw_errno("connect");
        timeval tv{static_cast<time_t>(limit.count() / 1000), static_cast<suseconds_t>(limit.count() % 1000 * 1000)};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~raw_client() { ::close(fd); }
    void send(std::string_view data) const {
        while (!data.empty()) {
            const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) throw_errno("send");
            data.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    // Reads until EOF, an error (its errno in `error`) or the time limit.
    std::string read_all(int* error = nullptr) const {
        std::string out;
        char buf[65536];
        for (;;) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0) {
                out.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            if (error != nullptr) *error = n == 0 ? 0 : errno;
            return out;
        }
    }
    // Reads exactly `n` bytes (fewer on EOF, error or time limit).
    std::string read_exactly(std::size_t n) const {
        std::string out;
        char buf[65536];
        while (out.size() < n) {
            const ssize_t got = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
            if (got <= 0) break;
            out.append(buf, static_cast<std::size_t>(got));
        }
        return out;
    }
    // Reads one response with Content-Length.
    std::string read_response() const {
        std::string out;
        char c;
        while (out.find("\r\n\r\n") == std::string::npos && ::recv(fd, &c, 1, 0) == 1) out += c;
        const std::string length = header(out, "Content-Length");
        return out + read_exactly(length.empty() ? 0 : std::stoul(length));
    }
    int fd;
};

std::string get_request(const std::string& path) {
    return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: peers-test\r\n\r\n";
}

std::string gunzip(const std::string& data) {
    z_stream z{};
    EXPECT_EQ(inflateInit2(&z, 16 + 15), Z_OK);
    std::string out;
    char buf[65536];
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    int rc = Z_OK;
    while (rc == Z_OK) {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_NO_FLUSH);
        out.append(buf, sizeof buf - z.avail_out);
    }
    inflateEnd(&z);
    EXPECT_EQ(rc, Z_STREAM_END);
    return out;
}

bool alive(pid_t pid) { return pid > 0 && ::kill(pid, 0) == 0; }

// One nginx for the whole suite: starting it (certificates, 8 MiB file,
// python echo) costs about a second.
class peers_nginx : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        try {
            peer_ = new nginx_peer();
        } catch (const std::exception& e) {
            start_error_ = e.what();
        }
    }
    static void TearDownTestSuite() {
        delete peer_;
        peer_ = nullptr;
    }
    void SetUp() override {
        if (peer_ == nullptr) GTEST_FAIL() << "nginx_peer did not start: " << start_error_;
    }
    static nginx_peer& peer() { return *peer_; }
    static inline nginx_peer* peer_ = nullptr;
    static inline std::string start_error_;
};

// ---------------------------------------------------------------- support

TEST(peers_support, sha256_matches_the_standard_vectors_and_sha256sum) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    // Fed in pieces of every size around the 64-byte block: the same digest.
    const std::string text(1000, 'x');
    for (std::size_t step : {1, 7, 55, 56, 63, 64, 65, 127, 999}) {
        sha256 h;
        for (std::size_t at = 0; at < text.size(); at += step) h.update(std::string_view(text).substr(at, step));
        EXPECT_EQ(h.hex(), sha256_hex(text)) << step;
    }
    temp_dir dir;
    std::string data;
    for (int i = 0; i < 100000; ++i) data += static_cast<char>(i * 7 + i / 251);
    write_file(dir / "f", data);
    const program_result r = run_program({debian_program("sha256sum"), dir / "f"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.substr(0, 64), sha256_hex(data));
}

TEST(peers_support, a_child_is_stopped_by_pid_within_its_bound) {
    const auto start = std::chrono::steady_clock::now();
    pid_t pid;
    {
        child_process sleeper({debian_program("sleep"), "60"});
        pid = sleeper.pid();
        EXPECT_TRUE(alive(pid));
    }
    EXPECT_FALSE(alive(pid));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    // Time limits hold for programs run to completion too.
    const program_result r = run_program({debian_program("sleep"), "60"}, 200ms);
    EXPECT_EQ(r.exit_code, -1);
}

// ------------------------------------------------------------------ nginx

TEST_F(peers_nginx, serves_static_files_over_http_1_1) {
    const response r = split(curl({"-D", "-", peer().base_url() + "/hello.txt"}).out);
    EXPECT_EQ(r.head.substr(0, 15), "HTTP/1.1 200 OK");
    EXPECT_EQ(header(r.head, "Content-Length"), "13");
    EXPECT_EQ(header(r.head, "Content-Type"), "text/plain");
    EXPECT_EQ(r.body, "Hello, world!");

    const response j = split(curl({"-D", "-", peer().base_url() + "/data.json"}).out);
    EXPECT_EQ(header(j.head, "Content-Type"), "application/json");
    EXPECT_EQ(j.body, nginx_peer::data_json());
    EXPECT_TRUE(nlohmann::json::parse(j.body)["ok"].get<bool>());
}

TEST_F(peers_nginx, big_file_matches_its_sha256) {
    EXPECT_EQ(peer().big_size(), std::size_t(8) << 20);
    EXPECT_EQ(sha256_hex(peer().big_body()), peer().big_sha256());
    temp_dir dir;
    const program_result r = curl({"-o", dir / "big", "-w", "%{http_code} %{size_download}", peer().base_url() + "/big.bin"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "200 8388608");
    EXPECT_EQ(sha256_hex(read_file(dir / "big")), peer().big_sha256());
}

TEST_F(peers_nginx, page_html_is_latin1_with_its_charset) {
    const response r = split(curl({"-D", "-", peer().base_url() + "/page.html"}).out);
    EXPECT_EQ(header(r.head, "Content-Type"), "text/html; charset=iso-8859-1");
    EXPECT_EQ(r.body, nginx_peer::page_body());
    EXPECT_NE(r.body.find("Caf\xe9"), std::string::npos);
}

TEST_F(peers_nginx, gzip_is_applied_when_asked_for_text_types_only) {
    for (const char* path : {"/hello.txt", "/data.json", "/page.html"}) {
        const response r = split(curl({"-D", "-", "-H", "Accept-Encoding: gzip", peer().base_url() + path}).out);
        EXPECT_EQ(header(r.head, "Content-Encoding"), "gzip") << path;
        ASSERT_GE(r.body.size(), 2u);
        EXPECT_EQ(r.body.substr(0, 2), "\x1f\x8b") << path;
        EXPECT_EQ(gunzip(r.body), read_file(peer().www_dir() + path)) << path;
    }
    const response plain = split(curl({"-D", "-", peer().base_url() + "/hello.txt"}).out);
    EXPECT_EQ(header(plain.head, "Content-Encoding"), "");
    const program_result big = curl({"-o", "/dev/null", "-D", "-", "-H", "Accept-Encoding: gzip", peer().base_url() + "/big.bin"});
    EXPECT_EQ(header(big.out, "Content-Encoding"), "");
}

TEST_F(peers_nginx, chunked_location_answers_with_transfer_encoding_chunked) {
    const response r = split(curl({"-D", "-", "--raw", peer().base_url() + "/chunked/hello.txt"}).out);
    EXPECT_EQ(status_of(r.head), 200);
    EXPECT_EQ(header(r.head, "Transfer-Encoding"), "chunked");
    EXPECT_EQ(header(r.head, "Content-Length"), "");
    EXPECT_EQ(r.body, "d\r\nHello, world!\r\n0\r\n\r\n");

    temp_dir dir;
    const program_result big = curl({"-D", dir / "head", "-o", dir / "big", peer().base_url() + "/chunked/big.bin"});
    ASSERT_EQ(big.exit_code, 0) << big.err;
    EXPECT_EQ(header(read_file(dir / "head"), "Transfer-Encoding"), "chunked");
    EXPECT_EQ(sha256_hex(read_file(dir / "big")), peer().big_sha256());
}

TEST_F(peers_nginx, redirects_answer_each_code_with_a_relative_location) {
    for (int code : {301, 302, 303, 307, 308}) {
        const std::string path = "/redirect/" + std::to_string(code);
        const response r = split(curl({"-D", "-", peer().base_url() + path}).out);
        EXPECT_EQ(status_of(r.head), code);
        EXPECT_EQ(header(r.head, "Location"), "/hello.txt") << code;
        // A POST gets the same answer (303 turns it into a GET client-side).
        const response post = split(curl({"-D", "-", "-d", "x=1", peer().base_url() + path}).out);
        EXPECT_EQ(status_of(post.head), code);
    }
    const response followed = split(curl({"-D", "-", "-L", peer().base_url() + "/redirect/chain"}).out);
    EXPECT_EQ(status_of(followed.head), 200);
    EXPECT_EQ(followed.body, "Hello, world!");
    const response absolute = split(curl({"-D", "-", peer().base_url() + "/redirect/absolute"}).out);
    EXPECT_EQ(header(absolute.head, "Location"), peer().base_url() + "/hello.txt");
}

TEST_F(peers_nginx, loop_redirects_to_itself) {
    const response r = split(curl({"-D", "-", peer().base_url() + "/loop"}).out);
    EXPECT_EQ(status_of(r.head), 302);
    EXPECT_EQ(header(r.head, "Location"), "/loop");
    const program_result followed = curl({"-L", "--max-redirs", "5", "-o", "/dev/null", peer().base_url() + "/loop"});
    EXPECT_EQ(followed.exit_code, 47);  // CURLE_TOO_MANY_REDIRECTS
}

TEST_F(peers_nginx, cross_origin_redirects_lead_to_the_other_ports) {
    const response https = split(curl({"-D", "-", peer().base_url() + "/to-https"}).out);
    EXPECT_EQ(header(https.head, "Location"), peer().tls_base_url() + "/hello.txt");
    const response other = split(curl({"-D", "-", peer().base_url() + "/to-other-port"}).out);
    EXPECT_EQ(header(other.head, "Location"), peer().keepalive_base_url() + "/hello.txt");
    const response back = split(curl({"-D", "-", "--cacert", peer().ca_file(), peer().tls_base_url() + "/to-http"}).out);
    EXPECT_EQ(header(back.head, "Location"), peer().base_url() + "/hello.txt");
    for (const char* path : {"/to-https", "/to-other-port"}) {
        const program_result r = curl({"-L", "--cacert", peer().ca_file(), peer().base_url() + path});
        EXPECT_EQ(r.out, "Hello, world!") << path << ": " << r.err;
    }
}

TEST_F(peers_nginx, echo_reflects_method_headers_and_body) {
    const program_result r = curl({"-X", "PUT", "-H", "Content-Type: application/json", "-u", "user:pass", "-b",
                                   "a=1; b=2", "--data-binary", R"({"k":"v"})",
                                   peer().base_url() + "/echo/some/path?x=1&y=two"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["method"], "PUT");
    EXPECT_EQ(j["path"], "/echo/some/path");
    EXPECT_EQ(j["query"], "x=1&y=two");
    EXPECT_EQ(j["args"]["y"][0], "two");
    EXPECT_EQ(j["body"], R"({"k":"v"})");
    std::map<std::string, std::string> headers;
    for (auto& h : j["headers"]) headers[h[0].get<std::string>()] = h[1].get<std::string>();
    EXPECT_EQ(headers["Content-Type"], "application/json");
    EXPECT_EQ(headers["Authorization"], "Basic dXNlcjpwYXNz");
    EXPECT_EQ(headers["Cookie"], "a=1; b=2");
    EXPECT_EQ(headers["Host"], "127.0.0.1:" + std::to_string(peer().port()));
}

TEST_F(peers_nginx, echo_sees_a_chunked_upload_as_chunked) {
    temp_dir dir;
    std::string data(200000, 'x');
    write_file(dir / "upload", data);
    const program_result r = curl({"-H", "Transfer-Encoding: chunked", "--data-binary", "@" + (dir / "upload"),
                                   peer().base_url() + "/echo"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["method"], "POST");
    EXPECT_EQ(j["body"].get<std::string>().size(), data.size());
    EXPECT_TRUE(j["chunks"].is_number());  // nginx forwarded it chunked
    EXPECT_GE(j["chunks"].get<int>(), 1);
    // Straight to the echo peer: the client's exact chunks.
    raw_client c(peer().echo_port());
    c.send("POST /direct HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    const std::string reply = c.read_response();
    const auto d = nlohmann::json::parse(reply.substr(reply.find("\r\n\r\n") + 4));
    EXPECT_EQ(d["chunks"], 2);
    EXPECT_EQ(d["body"], "abcde");
    EXPECT_EQ(d["version"], "HTTP/1.1");
    // The echo peer keeps the connection alive.
    c.send(get_request("/again"));
    EXPECT_EQ(status_of(c.read_response()), 200);
}

TEST_F(peers_nginx, set_cookie_and_cookies_round_trip) {
    const response r = split(curl({"-D", "-", peer().base_url() + "/set-cookie"}).out);
    EXPECT_EQ(header_values(r.head, "Set-Cookie"), nginx_peer::set_cookie_headers());
    EXPECT_EQ(split(curl({"-D", "-", "-b", "a=1; b=2", peer().base_url() + "/cookies"}).out).body, "a=1; b=2");
    EXPECT_EQ(split(curl({"-D", "-", peer().base_url() + "/cookies"}).out).body, "");
    // curl's own jar, through a redirect that sets a cookie.
    temp_dir dir;
    const program_result jar = curl({"-L", "-c", dir / "jar", "-b", dir / "jar", peer().base_url() + "/set-cookie-redirect"});
    EXPECT_EQ(jar.out, "redirected=1");
}

TEST_F(peers_nginx, status_locations_return_their_code) {
    for (int code : {200, 204, 404, 500, 503}) {
        const response r = split(curl({"-D", "-", peer().base_url() + "/status/" + std::to_string(code)}).out);
        EXPECT_EQ(status_of(r.head), code);
    }
    EXPECT_EQ(status_of(split(curl({"-D", "-", peer().base_url() + "/no-such-file"}).out).head), 404);
}

TEST_F(peers_nginx, keepalive_port_closes_after_two_requests) {
    const std::size_t before = peer().access_entries().size();
    raw_client c(peer().keepalive_port());
    c.send(get_request("/hello.txt"));
    const std::string first = c.read_response();
    EXPECT_EQ(header(first, "Connection"), "keep-alive");
    c.send(get_request("/hello.txt"));
    const std::string second = c.read_response();
    EXPECT_EQ(status_of(second), 200);
    EXPECT_EQ(header(second, "Connection"), "close");
    int error = -1;
    EXPECT_EQ(c.read_all(&error), "");
    EXPECT_EQ(error, 0);  // EOF
    const auto entries = peer().access_entries(before + 2);
    ASSERT_GE(entries.size(), before + 2);
    const access_entry& a = entries[entries.size() - 2];
    const access_entry& b = entries.back();
    EXPECT_EQ(a.connection, b.connection);
    EXPECT_EQ(a.connection_requests, 1u);
    EXPECT_EQ(b.connection_requests, 2u);
    EXPECT_EQ(b.port, peer().keepalive_port());
    EXPECT_EQ(b.uri, "/hello.txt");
    EXPECT_EQ(b.status, 200);
}

TEST_F(peers_nginx, keepalive_port_closes_an_idle_connection_after_1s) {
    raw_client c(peer().keepalive_port());
    c.send(get_request("/hello.txt"));
    EXPECT_EQ(status_of(c.read_response()), 200);
    const auto start = std::chrono::steady_clock::now();
    int error = -1;
    EXPECT_EQ(c.read_all(&error), "");
    EXPECT_EQ(error, 0);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 500ms);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(peers_nginx, main_port_keeps_connections_alive_and_logs_them) {
    const std::size_t before = peer().access_entries().size();
    const program_result r = curl({peer().base_url() + "/hello.txt", peer().base_url() + "/data.json"});
    EXPECT_EQ(r.out, "Hello, world!" + nginx_peer::data_json());
    const auto entries = peer().access_entries(before + 2);
    ASSERT_GE(entries.size(), before + 2);
    EXPECT_EQ(entries[entries.size() - 2].connection, entries.back().connection);
    EXPECT_EQ(entries.back().connection_requests, entries[entries.size() - 2].connection_requests + 1);
    EXPECT_EQ(entries.back().method, "GET");
    EXPECT_EQ(entries.back().body_bytes, nginx_peer::data_json().size());
}

TEST_F(peers_nginx, slow_stalls_after_its_head) {
    raw_client c(peer().port(), 5000ms);
    c.send(get_request("/slow?delay=2"));
    std::string head;
    char ch;
    while (head.find("\r\n\r\n") == std::string::npos && ::recv(c.fd, &ch, 1, 0) == 1) head += ch;
    EXPECT_EQ(status_of(head), 200);
    EXPECT_EQ(header(head, "Content-Length"), "13");
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(c.read_exactly(13), "Hello, world!");
    EXPECT_GE(std::chrono::steady_clock::now() - start, 1s);
    // And curl's own read timeout fires on it.
    const program_result r = curl({"--max-time", "1", peer().base_url() + "/slow?delay=5&stage=head"});
    EXPECT_EQ(r.exit_code, 28);  // CURLE_OPERATION_TIMEDOUT
}

TEST_F(peers_nginx, tls_verifies_with_the_ca_and_fails_without_it) {
    const program_result ok = curl({"--cacert", peer().ca_file(), peer().tls_base_url() + "/hello.txt"});
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_EQ(ok.out, "Hello, world!");
    const program_result by_name = curl({"--cacert", peer().ca_file(), peer().tls_base_url_by_name() + "/hello.txt"});
    EXPECT_EQ(by_name.out, "Hello, world!") << by_name.err;
    // Without the CA (the system store only): CURLE_PEER_FAILED_VERIFICATION.
    EXPECT_EQ(curl({peer().tls_base_url() + "/hello.txt"}).exit_code, 60);
    const program_result wrong = curl({"--cacert", peer().ca_file(), peer().wrong_name_tls_base_url() + "/hello.txt"});
    EXPECT_EQ(wrong.exit_code, 60);
    EXPECT_NE(wrong.err.find("127.0.0.1"), std::string::npos) << wrong.err;
    EXPECT_EQ(curl({"--cacert", peer().ca_file(), peer().untrusted_tls_base_url() + "/hello.txt"}).exit_code, 60);
    // The untrusted server is fine for a client that trusts its own CA.
    EXPECT_EQ(curl({"--cacert", peer().untrusted_ca_file(), peer().untrusted_tls_base_url() + "/hello.txt"}).out,
              "Hello, world!");
    // ALPN picks http/1.1; the access log shows the SNI the client sent
    // (none for an address, RFC 6066) and the TLS version.
    const program_result verbose = curl({"-v", "-o", "/dev/null", "--cacert", peer().ca_file(),
                                         peer().tls_base_url_by_name() + "/data.json?by-name"});
    EXPECT_NE(verbose.err.find("ALPN: server accepted http/1.1"), std::string::npos) << verbose.err;
    const std::optional<access_entry> named = peer().last_access("/data.json?by-name");
    ASSERT_TRUE(named.has_value());
    EXPECT_EQ(named->sni, "localhost");
    EXPECT_EQ(named->tls_protocol, "TLSv1.3");
    EXPECT_EQ(named->port, peer().tls_port());
    curl({"-o", "/dev/null", "--cacert", peer().ca_file(), peer().tls_base_url() + "/page.html?by-address"});
    const std::optional<access_entry> by_address = peer().last_access("/page.html?by-address");
    ASSERT_TRUE(by_address.has_value());
    EXPECT_EQ(by_address->sni, "-");
    EXPECT_EQ(by_address->port, peer().tls_port());
    // Gzip and chunking hold over TLS too.
    const response g = split(curl({"-D", "-", "--raw", "-H", "Accept-Encoding: gzip", "--cacert", peer().ca_file(),
                                   peer().tls_base_url() + "/hello.txt"}).out);
    EXPECT_EQ(header(g.head, "Content-Encoding"), "gzip");
    EXPECT_EQ(header(g.head, "Transfer-Encoding"), "chunked");
}

TEST(peers_nginx_lifecycle, stop_and_destructor_leave_nothing_behind) {
    std::string dir;
    pid_t pid;
    std::uint16_t port;
    {
        nginx_peer peer(nginx_options{.big_size = 1000, .access_log = false});
        dir = peer.dir();
        pid = peer.pid();
        port = peer.port();
        EXPECT_TRUE(alive(pid));
        EXPECT_EQ(curl({peer.base_url() + "/hello.txt"}).out, "Hello, world!");
        EXPECT_EQ(peer.big_body().size(), 1000u);
        EXPECT_EQ(peer.access_log(), "");
        // nginx started without complaint (master_process off, our paths).
        for (const char* level : {"[emerg]", "[alert]", "[crit]", "[error]", "[warn]"})
            EXPECT_EQ(peer.error_log().find(level), std::string::npos) << peer.error_log();
        peer.stop();
        EXPECT_FALSE(alive(pid));
        EXPECT_EQ(connect_loopback(port), -1);
    }
    EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(peers_nginx_shared, shared_nginx_is_one_peer_for_the_program) {
    nginx_peer& a = shared_nginx();
    EXPECT_EQ(&a, &shared_nginx());
    EXPECT_EQ(curl({a.base_url() + "/hello.txt"}).out, "Hello, world!");
    EXPECT_EQ(a.access_entries(1).back().sni, "-");
}

// ----------------------------------------------------------------- python

TEST(peers_python_http, answers_http_1_0_and_closes_every_connection) {
    python_http_peer peer;
    raw_client c(peer.port());
    c.send(get_request("/hello.txt"));
    int error = -1;
    const std::string all = c.read_all(&error);  // EOF without our closing
    EXPECT_EQ(error, 0);
    EXPECT_EQ(all.substr(0, 17), "HTTP/1.0 200 OK\r\n");
    EXPECT_EQ(header(all, "Content-Length"), "13");
    EXPECT_EQ(all.substr(all.find("\r\n\r\n") + 4), "Hello, world!");

    peer.add_file("data.bin", std::string("\0\1\2", 3));
    const response r = split(curl({"-D", "-", peer.base_url() + "/data.bin"}).out);
    EXPECT_EQ(r.head.substr(0, 12), "HTTP/1.0 200");
    EXPECT_EQ(r.body, std::string("\0\1\2", 3));
    EXPECT_NE(peer.log().find("GET /data.bin"), std::string::npos);
}

TEST(peers_python_http, destructor_stops_it_and_removes_its_folder) {
    std::string dir;
    pid_t pid;
    std::uint16_t port;
    {
        python_http_peer peer;
        dir = peer.dir();
        pid = peer.pid();
        port = peer.port();
        EXPECT_TRUE(alive(pid));
    }
    EXPECT_FALSE(alive(pid));
    EXPECT_EQ(connect_loopback(port), -1);
    EXPECT_FALSE(std::filesystem::exists(dir));
}

// --------------------------------------------------------------- scripted

// One request over a raw socket; everything the peer sent until it closed.
std::string send_and_read_all(scripted_peer& peer, const std::string& request, int* error = nullptr) {
    raw_client c(peer.port());
    c.send(request);
    return c.read_all(error);
}

TEST(peers_scripted, each_malformed_case_is_sent_byte_for_byte) {
    struct named {
        const char* name;
        std::vector<script> scripts;
        std::string expected;
    };
    const std::vector<named> cases = {
        {"close_mid_body", canned::close_mid_body(), canned::bytes::close_mid_body()},
        {"short_body", canned::short_body(), canned::bytes::short_body()},
        {"malformed_status_line", canned::malformed_status_line(), canned::bytes::malformed_status_line()},
        {"malformed_header", canned::malformed_header(), canned::bytes::malformed_header()},
        {"oversized_header", canned::oversized_header(), canned::bytes::oversized_header()},
        {"bad_chunked", canned::bad_chunked(), canned::bytes::bad_chunked()},
        {"chunk_overrun", canned::chunk_overrun(), canned::bytes::chunk_overrun()},
    };
    for (const named& c : cases) {
        scripted_peer peer(c.scripts);
        int error = -1;
        const std::string request = get_request("/" + std::string(c.name));
        EXPECT_EQ(send_and_read_all(peer, request, &error), c.expected) << c.name;
        EXPECT_EQ(error, 0) << c.name;  // a clean FIN
        ASSERT_TRUE(peer.wait_until_finished()) << c.name;
        EXPECT_EQ(peer.received(0), request) << c.name;
        EXPECT_EQ(peer.outcome(0), "done") << c.name;
    }
    EXPECT_EQ(canned::bytes::oversized_header().find("\r\n\r\n") -
                  canned::bytes::oversized_header().find("X-Oversized"),
              9013u);  // "X-Oversized: " and 9000 bytes
}

TEST(peers_scripted, curl_rejects_the_malformed_cases) {
    // A well-kept client agrees that these are broken.
    auto curl_exit = [](std::vector<script> s) {
        scripted_peer peer(std::move(s));
        return curl({"-o", "/dev/null", peer.base_url() + "/"}).exit_code;
    };
    EXPECT_EQ(curl_exit(canned::short_body()), 18);      // CURLE_PARTIAL_FILE
    EXPECT_EQ(curl_exit(canned::close_mid_body()), 18);
    EXPECT_EQ(curl_exit(canned::bad_chunked()), 56);     // CURLE_RECV_ERROR
    EXPECT_NE(curl_exit(canned::malformed_status_line()), 0);
}

TEST(peers_scripted, reset_mid_body_sends_an_rst) {
    scripted_peer peer(canned::reset_mid_body());
    int error = -1;
    EXPECT_EQ(send_and_read_all(peer, get_request("/"), &error), canned::bytes::short_body());
    EXPECT_EQ(error, ECONNRESET);
}

// Inflates a gzip member, counting (and checking) the zeros without keeping
// them; zlib checks the CRC-32 and the length at the end.
std::uint64_t inflated_zeros(const std::string& gz) {
    z_stream z{};
    EXPECT_EQ(inflateInit2(&z, 16 + 15), Z_OK);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
    z.avail_in = static_cast<uInt>(gz.size());
    std::vector<unsigned char> buf(1 << 20);
    const std::vector<unsigned char> zeros(buf.size(), 0);
    std::uint64_t total = 0;
    int rc = Z_OK;
    while (rc == Z_OK) {
        z.next_out = buf.data();
        z.avail_out = static_cast<uInt>(buf.size());
        rc = inflate(&z, Z_NO_FLUSH);
        const std::size_t n = buf.size() - z.avail_out;
        total += n;
        EXPECT_EQ(std::memcmp(buf.data(), zeros.data(), n), 0);
    }
    inflateEnd(&z);
    EXPECT_EQ(rc, Z_STREAM_END);
    return total;
}

TEST(peers_scripted, gzip_bomb_is_small_and_inflates_to_2_gib_of_zeros) {
    // Inflating all 2 GiB takes zlib about 10 s: inflate 128 MiB made the
    // same way (the repeated piece, the rest, the final block, the trailer),
    // and check that the 2 GiB member is the same piece repeated further
    // with a trailer that holds 2 GiB's CRC-32 and length.
    constexpr std::uint64_t small = std::uint64_t(128) << 20;
    EXPECT_EQ(inflated_zeros(gzip_of_zeros(small)), small);
    EXPECT_EQ(inflated_zeros(gzip_of_zeros(small + 12345)), small + 12345);
    EXPECT_EQ(gunzip(gzip_of_zeros(0)), "");

    const std::uint64_t size = std::uint64_t(2) << 30;
    const std::string& body = gzip_of_zeros(size);
    EXPECT_LT(body.size(), 4u << 20);
    const std::string& part = gzip_of_zeros(small);
    const std::size_t piece = (part.size() - 10 - 8 - 2) / 128;  // 2: the empty final block
    ASSERT_EQ(body.size(), 10 + 2048 * piece + 2 + 8);
    EXPECT_EQ(body.compare(0, 10 + 128 * piece, part, 0, 10 + 128 * piece), 0);
    for (std::size_t i = 0; i < 2048; ++i)
        ASSERT_EQ(body.compare(10 + i * piece, piece, part, 10, piece), 0) << i;
    EXPECT_EQ(body.compare(10 + 2048 * piece, 2, part, 10 + 128 * piece, 2), 0);
    const std::string zeros(1 << 20, '\0');
    uLong crc = crc32(0, nullptr, 0);
    for (int i = 0; i < 2048; ++i) crc = crc32(crc, reinterpret_cast<const Bytef*>(zeros.data()), 1 << 20);
    std::string trailer;
    for (std::uint64_t v : {std::uint64_t(crc), std::uint64_t(0x80000000)})
        for (int i = 0; i < 4; ++i) trailer += static_cast<char>((v >> (8 * i)) & 0xff);
    EXPECT_EQ(body.substr(body.size() - 8), trailer);
    if (std::getenv("CORIO_PEERS_FULL_BOMB") != nullptr) {
        EXPECT_EQ(inflated_zeros(body), size);
    }

    scripted_peer peer(canned::gzip_bomb());
    EXPECT_EQ(send_and_read_all(peer, get_request("/bomb")), canned::bytes::gzip_bomb_head(size) + body);
}

TEST(peers_scripted, stall_after_head_holds_the_body_back) {
    scripted_peer peer(canned::stall_after_head(1000ms));
    raw_client c(peer.port());
    c.send(get_request("/"));
    EXPECT_EQ(c.read_exactly(canned::bytes::stall_head().size()), canned::bytes::stall_head());
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(c.read_exactly(13), "Hello, world!");
    EXPECT_GE(std::chrono::steady_clock::now() - start, 800ms);
}

TEST(peers_scripted, destructor_ends_a_stalled_script_quickly) {
    const auto start = std::chrono::steady_clock::now();
    {
        scripted_peer peer(canned::stall_after_head(30s));
        raw_client c(peer.port());
        c.send(get_request("/"));
        EXPECT_EQ(c.read_exactly(canned::bytes::stall_head().size()), canned::bytes::stall_head());
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(peers_scripted, stale_keepalive_closes_on_the_second_request) {
    for (bool reset : {false, true}) {
        scripted_peer peer(reset ? canned::stale_keepalive_reset() : canned::stale_keepalive());
        {
            raw_client c(peer.port());
            c.send(get_request("/1"));
            EXPECT_EQ(c.read_response(), http_response(200, "OK", "first"));
            c.send(get_request("/2"));
            int error = -1;
            EXPECT_EQ(c.read_all(&error), "");
            EXPECT_EQ(error, reset ? ECONNRESET : 0);
        }
        raw_client retry(peer.port());
        retry.send(get_request("/2"));
        EXPECT_EQ(retry.read_response(), http_response(200, "OK", "second"));
        retry.send(get_request("/3"));
        EXPECT_EQ(retry.read_response(), http_response(200, "OK", "third"));
        ASSERT_TRUE(peer.wait_for_connections(2));
        EXPECT_EQ(peer.received(0), get_request("/1") + get_request("/2"));
        EXPECT_EQ(peer.received(1), get_request("/2") + get_request("/3"));
    }
}

TEST(peers_scripted, reads_whole_requests_with_bodies_and_records_them) {
    scripted_peer peer(canned::keepalive_responses(3));
    raw_client c(peer.port());
    const std::string a = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
    const std::string b = "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: t\r\n\r\n";
    const std::string g = get_request("/c");
    c.send(a);
    EXPECT_EQ(c.read_response(), http_response(200, "OK", "response 1"));
    c.send(b);
    EXPECT_EQ(c.read_response(), http_response(200, "OK", "response 2"));
    c.send(g);
    EXPECT_EQ(c.read_response(), http_response(200, "OK", "response 3"));
    int error = -1;
    EXPECT_EQ(c.read_all(&error), "");  // the script ended: FIN
    EXPECT_EQ(error, 0);
    ::shutdown(c.fd, SHUT_WR);
    ASSERT_TRUE(peer.wait_until_finished());
    EXPECT_EQ(peer.received(0), a + b + g);
    EXPECT_EQ(peer.outcome(0), "done");
    EXPECT_EQ(peer.connection_count(), 1u);
}

TEST(peers_scripted, answer_serves_every_request_and_records_the_bytes) {
    scripted_peer peer(canned::answer("ok"));
    const std::string upload = "PUT /u HTTP/1.1\r\nhost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n";
    {
        raw_client c(peer.port());
        for (int i = 0; i < 3; ++i) {
            c.send(upload);
            EXPECT_EQ(c.read_response(), http_response(200, "OK", "ok"));
        }
    }
    raw_client other(peer.port());
    other.send(get_request("/"));
    EXPECT_EQ(other.read_response(), http_response(200, "OK", "ok"));
    ASSERT_TRUE(peer.wait_for_connections(2));
    EXPECT_EQ(peer.received(0), upload + upload + upload);
    EXPECT_EQ(peer.received_all().size(), 2u);
}

// A non-blocking connect's result within `limit`: 0, an errno, or -1 if it
// is still pending.
int connect_result(std::uint16_t port, std::chrono::milliseconds limit) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int result = 0;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        result = errno;
        if (errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            if (::poll(&p, 1, static_cast<int>(limit.count())) == 1) {
                socklen_t len = sizeof result;
                ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &result, &len);
            } else {
                result = -1;
            }
        }
    }
    ::close(fd);
    return result;
}

TEST(peers_scripted, refusing_port_refuses_and_unaccepting_peer_hangs) {
    refusing_port refusing;
    EXPECT_EQ(connect_result(refusing.port(), 1000ms), ECONNREFUSED);
    EXPECT_EQ(curl({refusing.base_url() + "/"}).exit_code, 7);  // CURLE_COULDNT_CONNECT
    unaccepting_peer hanging;
    EXPECT_EQ(connect_result(hanging.port(), 300ms), -1);
    EXPECT_EQ(curl({"--connect-timeout", "1", hanging.base_url() + "/"}).exit_code, 28);
}

TEST(peers_scripted, a_client_that_closes_early_is_recorded) {
    scripted_peer peer({{steps::read_request(), steps::send("x")}}, scripted_peer_options{.io_timeout = 500ms});
    {
        raw_client c(peer.port());
        c.send("GET / HTTP/1.1\r\n");  // half a head
    }
    ASSERT_TRUE(peer.wait_for_connections(1));
    ASSERT_TRUE(peer.wait_until_finished());
    EXPECT_EQ(peer.outcome(0).substr(0, 22), "read_head: client clos");
    EXPECT_EQ(peer.received(0), "GET / HTTP/1.1\r\n");
}

}  // namespace
