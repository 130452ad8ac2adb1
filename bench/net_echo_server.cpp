// corio_echo_server: corio's echo server for the echo benchmarks
// (bench/compare_net.py), written as a user would write a fast one.
//
//   corio_echo_server --backend io_uring|epoll [--port N] [--tls CERT KEY]
//
// Listens on 127.0.0.1 (backlog 4096), prints `port N` on stdout once
// listening, echoes every connection until SIGTERM or SIGINT, then exits 0.
// With --tls, the same over TLS (corio::tls_context::server(CERT, KEY) in
// server_options::tls); a client that closes without close_notify is an
// ordinary end of its connection.
//
// One event loop. Each connection is one handler task written as in
// asyncio (`data = await reader.read(65536)`): read() what came (the
// stream's own buffer starts small and grows while receives fill it, so an
// idle connection holds little), write() it (the kernel takes it at once,
// almost always), and drain() only when the stream has buffered more than
// its high-water mark (a client that stops reading). A read_some into a
// 16 KiB buffer in the handler's frame was as fast but kept a page of that
// buffer resident per idle connection (5.6 KiB per connection against 3.7).
// TCP_NODELAY is on for every connection (corio's default, as asyncio's).
#include <sys/resource.h>

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include <corio/corio.hpp>
#include <corio/net/tls.hpp>

namespace {

corio::task<> echo(corio::stream s) {
    for (;;) {
        std::string data = co_await s.read(65536);
        if (data.empty()) co_return;  // EOF: the stream's destructor closes it
        s.write(data);
        if (s.write_buffer_size() > s.limits().high_water) co_await s.drain();
    }
}

corio::task<> amain(std::uint16_t port, std::optional<corio::tls_context> tls) {
    corio::server_options options;
    options.backlog = 4096;  // the kernel caps it at net.core.somaxconn
    options.tls = std::move(tls);  // the handshake runs before echo() is called
    corio::server srv = co_await corio::start_server(echo, "127.0.0.1", port, options);
    std::printf("port %u\n", static_cast<unsigned>(srv.port()));
    std::fflush(stdout);

    // SIGTERM/SIGINT close the server: it stops accepting, cancels the
    // handlers and serve_forever returns once they have ended.
    corio::add_signal_handler(SIGTERM, [&srv] { srv.close(); });
    corio::add_signal_handler(SIGINT, [&srv] { srv.close(); });
    co_await corio::with(srv, [](corio::server& s) { return s.serve_forever(); });
    corio::remove_signal_handler(SIGTERM);
    corio::remove_signal_handler(SIGINT);
}

int usage() {
    std::fprintf(stderr, "usage: corio_echo_server --backend io_uring|epoll [--port N] [--tls CERT KEY]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    corio::run_options options;
    long port = 0;
    const char* cert = nullptr;
    const char* key = nullptr;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--backend" && i + 1 < argc) {
            const std::string_view b = argv[++i];
            if (b == "io_uring") options.backend = corio::backend_kind::io_uring;
            else if (b == "epoll") options.backend = corio::backend_kind::epoll;
            else return usage();
        } else if (arg == "--port" && i + 1 < argc) {
            char* end = nullptr;
            port = std::strtol(argv[++i], &end, 10);
            if (*end != '\0' || port < 0 || port > 65535) return usage();
        } else if (arg == "--tls" && i + 2 < argc) {
            cert = argv[++i];
            key = argv[++i];
        } else {
            return usage();
        }
    }
    // Many idle connections need many descriptors.
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    try {
        std::optional<corio::tls_context> tls;
        if (cert != nullptr) tls = corio::tls_context::server(cert, key);
        corio::run(amain(static_cast<std::uint16_t>(port), std::move(tls)), options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "corio_echo_server: %s\n", e.what());
        return 1;
    }
    return 0;
}
