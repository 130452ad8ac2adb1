// echo_server: asyncio's TCP echo server. Each connection's handler runs as a
// child of the server; a handler that throws closes only its own connection;
// max_connections leaves the connections beyond it waiting in the kernel's
// backlog; Ctrl-C (SIGINT) or SIGTERM closes the server, cancelling the
// handlers, whose exits run, as asyncio.run does on KeyboardInterrupt.
//
// The Python original:
//
//     async def handle_echo(reader, writer):
//         async for line in reader:
//             if line == b'boom\n':
//                 raise RuntimeError('a client said boom')   # ends this connection only
//             writer.write(line)
//             await writer.drain()
//         writer.close()
//         await writer.wait_closed()
//
//     async def main(port):
//         server = await asyncio.start_server(handle_echo, '127.0.0.1', port)
//         print('serving on', server.sockets[0].getsockname())
//         async with server:
//             await server.serve_forever()
//
//     asyncio.run(main(8888))    # Ctrl-C: CancelledError in main, the server closes
//
// (max_connections has no asyncio counterpart: Python servers use a
// Semaphore in the handler, which still accepts every connection.)
//
// Usage: `echo_server PORT` serves 127.0.0.1:PORT until Ctrl-C or SIGTERM
// (try `echo_client 127.0.0.1 PORT`, or `nc 127.0.0.1 PORT`). With no
// argument, as `make demo` runs it, it serves on a port the kernel picks and
// runs three clients against itself in-process, then exits.
#include <signal.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

struct echo_stats {
    bool log_peers = false;  // standalone: print who comes and goes
    int connections = 0;
    int lines = 0;
};

// handle_echo: the stream is the handler's (taken by value); leaving the
// handler by any path, an exception included, closes it.
corio::task<> handle_echo(corio::stream s, echo_stats* stats) {
    ++stats->connections;
    const std::string peer = s.peer_address().to_string();
    if (stats->log_peers) std::printf("%s connected\n", peer.c_str());
    // async for line in reader: for_each also closes the generator when the
    // body throws.
    auto echo_line = [&s, &peer, stats](std::string_view line) -> corio::task<> {
        if (line == "boom\n") {
            if (stats->log_peers) std::printf("%s said boom: the handler throws\n", peer.c_str());
            throw std::runtime_error("a client said boom");
        }
        ++stats->lines;
        s.write(line);       // writer.write(line): buffered, never waits
        co_await s.drain();  // await writer.drain(): waits only above the high-water mark
    };
    co_await corio::for_each(s.lines(), std::move(echo_line));
    co_await s.close();  // flushes what is buffered, sends FIN, closes
    if (stats->log_peers) std::printf("%s disconnected\n", peer.c_str());
}

// ---------------------------------------------------------------- standalone

corio::task<int> serve(std::uint16_t port) {
    echo_stats stats;
    stats.log_peers = true;
    auto handler = [st = &stats](corio::stream s) { return handle_echo(std::move(s), st); };
    corio::server_options options;
    options.max_connections = 100;
    corio::server srv = co_await corio::start_server(handler, "127.0.0.1", port, options);
    std::printf("serving on %s (Ctrl-C to stop)\n", srv.addresses().front().to_string().c_str());
    bool interrupted = false;
    try {
        auto forever = [](corio::server& s) { return s.serve_forever(); };
        co_await corio::with(srv, forever);  // the exit closes the server and waits for its handlers
    } catch (const corio::cancelled_error&) {
        interrupted = true;  // Ctrl-C: with()'s exit has closed the server already
    }
    std::printf("server closed: %d connections, %d lines echoed\n", stats.connections, stats.lines);
    if (interrupted) throw corio::cancelled_error{};  // let run() end as the signal says
    co_return 0;
}

// ---------------------------------------------------------------- self-check

// One line there and back; "EOF" when the server closed the connection.
corio::task<std::string> ask(corio::stream& s, std::string line) {
    co_await s.write_all(line);
    std::string reply = co_await s.readline();
    if (reply.empty()) co_return "EOF";
    if (reply.back() == '\n') reply.pop_back();
    co_return "\"" + reply + "\"";
}

corio::task<> three_clients(corio::server& srv, std::uint16_t port) {
    // async with open_connection(...) as alice, open_connection(...) as bob:
    auto alice_and_bob = [&srv, port](corio::stream& alice, corio::stream& bob) -> corio::task<> {
        std::printf("alice sends \"hello\", gets back %s\n", (co_await ask(alice, "hello\n")).c_str());
        std::printf("bob sends \"hi there\", gets back %s\n", (co_await ask(bob, "hi there\n")).c_str());

        // A third connection while two handlers run: the kernel completes it,
        // but the server does not accept it until a handler ends.
        corio::stream carol = co_await corio::open_connection("127.0.0.1", port);
        carol.write("anyone there?\n");
        std::string reply;
        auto wait_for_reply = [&carol, &reply](corio::timeout_scope&) -> corio::task<> {
            reply = co_await carol.readline();
        };
        auto patience = corio::move_on_after(200ms);
        co_await corio::with(patience, wait_for_reply);
        std::printf("carol sends \"anyone there?\": %s within 200 ms (the server has %zu connections, its maximum)\n",
                    reply.empty() ? "no reply" : "a reply", srv.connections());

        co_await alice.close();  // alice's handler reads EOF and ends: carol's turn
        reply = co_await carol.readline();  // the cancelled readline lost nothing
        reply.pop_back();
        std::printf("alice leaves; carol is accepted and gets back \"%s\"\n", reply.c_str());

        std::printf("bob sends \"boom\", gets back %s: his handler threw, his connection was closed\n",
                    (co_await ask(bob, "boom\n")).c_str());
        std::printf("carol sends \"still there?\", gets back %s: the server goes on\n",
                    (co_await ask(carol, "still there?\n")).c_str());
        co_await carol.close();
    };  // with's exit closes alice (again: harmless) and bob
    co_await corio::with(corio::open_connection("127.0.0.1", port), corio::open_connection("127.0.0.1", port),
                         alice_and_bob);
}

corio::task<int> self_check() {
    echo_stats stats;
    auto handler = [st = &stats](corio::stream s) { return handle_echo(std::move(s), st); };
    corio::server_options options;
    options.max_connections = 2;
    corio::server srv = co_await corio::start_server(handler, "127.0.0.1", 0, options);
    const std::uint16_t port = srv.port();
    std::printf("serving on 127.0.0.1 (port 0: the kernel picked one), max_connections = 2\n");
    auto clients = [port](corio::server& s) { return three_clients(s, port); };
    co_await corio::with(srv, clients);  // exit: close, cancel the handlers left, wait for them
    std::printf("server closed: %d connections, %d lines echoed\n", stats.connections, stats.lines);
    co_return 0;
}

corio::task<int> amain(int argc, char** argv) {
    if (argc < 2) co_return co_await self_check();
    const int port = std::atoi(argv[1]);
    if (port <= 0 || port > 65535) {
        std::fprintf(stderr, "usage: %s [PORT]\n", argv[0]);
        co_return 2;
    }
    co_return co_await serve(static_cast<std::uint16_t>(port));
}

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // a log: each line as it happens
    corio::run_options options;
    options.shutdown_signals = {SIGINT, SIGTERM};
    return corio::run(amain(argc, argv), options);
}
