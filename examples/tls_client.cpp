// tls_client: a TLS client with asyncio's streams: the same stream calls as
// plain TCP, with connect_options::tls (Python's ssl= argument). The server's
// certificate chain and host name are always verified; a failure is a
// corio::tls_error (Python's ssl.SSLCertVerificationError) naming the host
// and the reason.
//
// The Python original (the HOST PORT form):
//
//     async def head(host, port):
//         ctx = ssl.create_default_context()        # the system's CAs
//         ctx.set_alpn_protocols(['http/1.1'])
//         reader, writer = await asyncio.open_connection(host, port, ssl=ctx)
//         ssl_object = writer.get_extra_info('ssl_object')
//         print('connected with', ssl_object.version(), ssl_object.selected_alpn_protocol())
//         writer.write(f'HEAD / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n'.encode())
//         print((await reader.readline()).decode().rstrip())
//         writer.close()
//         await writer.wait_closed()
//
// Usage: `tls_client HOST [PORT]` (PORT 443 by default) sends an HTTP/1.1
// HEAD request to a real server and prints the status line. With no
// argument, as `make demo` runs it, it needs no network beyond loopback: it
// makes a self-signed certificate for localhost and 127.0.0.1 with the
// openssl command (in a temporary directory, on a worker thread: to_thread),
// serves TLS with it in-process, connects trusting that certificate, then
// shows the two verification failures: a certificate no system CA signed,
// and a host name the certificate does not carry.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

extern char** environ;

// ---------------------------------------------------------------- HOST PORT

corio::task<> head(std::string host, std::uint16_t port) {
    corio::tls_context context = corio::tls_context::client();  // ssl.create_default_context()
    context.set_alpn({"http/1.1"});
    corio::connect_options options;
    options.tls = context;
    options.connect_timeout = 10s;
    options.tls_handshake_timeout = 10s;
    const std::string host_header = port == 443 ? host : host + ":" + std::to_string(port);
    auto request = [&host_header](corio::stream& s) -> corio::task<> {
        std::printf("connected to %s with %s, ALPN \"%s\"\n", s.peer_address().to_string().c_str(),
                    s.tls_version().c_str(), s.alpn_protocol().c_str());
        co_await s.write_all("HEAD / HTTP/1.1\r\nHost: " + host_header +
                             "\r\nUser-Agent: corio-tls-client\r\nConnection: close\r\n\r\n");
        std::string status = co_await s.readline();
        while (!status.empty() && (status.back() == '\n' || status.back() == '\r')) status.pop_back();
        std::printf("%s\n", status.c_str());
    };  // with's exit sends close_notify and closes
    co_await corio::with(corio::open_connection(host, port, options), request);
}

// ---------------------------------------------------------------- no arguments

// A temporary directory, removed with what it holds.
struct temp_dir {
    std::string path;
    temp_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "corio-tls-client-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
        path = pattern;
    }
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
};

// Blocking (it waits for openssl): run it with corio::to_thread.
void make_certificate(const std::string& cert, const std::string& key, const std::string& log) {
    const char* argv[] = {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec",
                          "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                          "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                          "-keyout", key.c_str(), "-out", cert.c_str(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid;
    const int error = ::posix_spawn(&pid, argv[0], &actions, nullptr, const_cast<char**>(argv), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) throw std::system_error(error, std::generic_category(), "cannot run /usr/bin/openssl");
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::string output;
        if (std::FILE* f = std::fopen(log.c_str(), "r")) {
            char buffer[4096];
            output.assign(buffer, std::fread(buffer, 1, sizeof buffer, f));
            std::fclose(f);
        }
        throw std::runtime_error("openssl req failed:\n" + output);
    }
}

// The message without the port the kernel picked, so that it reads the same each run.
std::string without_port(std::string text, std::uint16_t port) {
    const std::string p = ":" + std::to_string(port);
    for (std::size_t at; (at = text.find(p)) != std::string::npos;) text.replace(at, p.size(), ":PORT");
    return text;
}

corio::task<> echo_line(corio::stream s) {
    co_await s.write_all(co_await s.readline());
    co_await s.close();  // close_notify, then FIN
}

// Connects with `options` expecting a verification failure; prints it.
corio::task<> expect_failure(const char* what, std::uint16_t port, corio::connect_options options) {
    try {
        corio::stream s = co_await corio::open_connection("127.0.0.1", port, options);
        std::printf("%s: connected?\n", what);
    } catch (const corio::tls_error& e) {
        std::printf("%s: tls_error: %s\n", what, without_port(e.what(), port).c_str());
    }
}

corio::task<int> demo() {
    temp_dir dir;
    const std::string cert = dir.path + "/cert.pem";
    const std::string key = dir.path + "/key.pem";
    co_await corio::to_thread(make_certificate, cert, key, dir.path + "/openssl.log");
    std::printf("made a self-signed certificate for localhost and 127.0.0.1 with openssl req\n");

    corio::tls_context server_context = corio::tls_context::server(cert, key);
    server_context.set_alpn({"echo/1", "http/1.1"});  // in order of preference
    corio::server_options server_options;
    server_options.tls = server_context;
    auto handler = [](corio::stream s) { return echo_line(std::move(s)); };
    corio::server srv = co_await corio::start_server(handler, "127.0.0.1", 0, server_options);
    const std::uint16_t port = srv.port();
    std::printf("TLS echo server on 127.0.0.1 (port 0: the kernel picked one), ALPN echo/1 or http/1.1\n");

    auto clients = [port, &cert](corio::server&) -> corio::task<> {
        // Trust the self-signed certificate, as a private CA would be trusted.
        corio::tls_context trusting = corio::tls_context::client();
        trusting.load_verify_file(cert);
        trusting.set_alpn({"echo/1"});
        corio::connect_options options;
        options.tls = trusting;
        options.server_hostname = "localhost";  // the name checked against the certificate, and sent as SNI
        auto exchange = [](corio::stream& s) -> corio::task<> {
            std::printf("connected: is_tls() %s, %s, ALPN protocol \"%s\"\n", s.is_tls() ? "true" : "false",
                        s.tls_version().c_str(), s.alpn_protocol().c_str());
            co_await s.write_all("hello over TLS\n");
            std::string reply = co_await s.readline();
            reply.pop_back();
            std::printf("sent \"hello over TLS\", got back \"%s\"\n", reply.c_str());
            std::string after = co_await s.readline();
            std::printf("then %s (the server sent close_notify)\n", after.empty() ? "EOF" : "more?");
        };
        co_await corio::with(corio::open_connection("127.0.0.1", port, options), exchange);

        // ssl.create_default_context(): only the system's CAs, which did not sign it.
        corio::connect_options system_cas;
        system_cas.tls = corio::tls_context::client();
        system_cas.server_hostname = "localhost";
        co_await expect_failure("with the system's CAs only", port, system_cas);

        // Trusted, but for another name.
        corio::connect_options wrong_name;
        wrong_name.tls = trusting;
        wrong_name.server_hostname = "example.com";
        co_await expect_failure("trusting it, but expecting example.com", port, wrong_name);
    };
    co_await corio::with(srv, clients);
    std::printf("server closed\n");
    co_return 0;
}

corio::task<int> amain(int argc, char** argv) {
    if (argc < 2) co_return co_await demo();
    const int port = argc > 2 ? std::atoi(argv[2]) : 443;
    if (port <= 0 || port > 65535) {
        std::fprintf(stderr, "usage: %s [HOST [PORT]]\n", argv[0]);
        co_return 2;
    }
    try {
        co_await head(argv[1], static_cast<std::uint16_t>(port));
    } catch (const std::exception& e) {  // tls_error, std::system_error (resolve, connect)
        std::fprintf(stderr, "%s\n", e.what());
        co_return 1;
    }
    co_return 0;
}

int main(int argc, char** argv) { return corio::run(amain(argc, argv)); }
