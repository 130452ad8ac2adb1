// echo_client: asyncio's TCP echo client: open a connection, write lines,
// drain, read the replies line by line until the server closes, and see a
// refused connection as an exception.
//
// The Python original:
//
//     async def tcp_echo_client(host, port):
//         reader, writer = await asyncio.open_connection(host, port)
//         writer.write(b'Hello, World!\n')
//         await writer.drain()
//         print('first reply:', await reader.readline())
//         for message in [b'corio speaks asyncio\n', b'bye\n']:
//             writer.write(message)              # buffered: no await
//         await writer.drain()                   # back-pressure
//         writer.write_eof()                     # "no more": the server ends its loop
//         async for line in reader:              # until the server closes
//             print('reply:', line)
//         writer.close()
//         await writer.wait_closed()
//
//     try:
//         await asyncio.open_connection(host, closed_port)
//     except ConnectionRefusedError as e:
//         print('connecting again after the server closed:', e.strerror)
//
// Usage: `echo_client HOST PORT` talks to a running echo server (such as
// `echo_server PORT`). With no argument, as `make demo` runs it, it starts
// its own echo server in-process on a port the kernel picks.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>

#include <corio/corio.hpp>

// Prints a line without its '\n'.
void print_reply(const char* what, std::string line) {
    if (!line.empty() && line.back() == '\n') line.pop_back();
    std::printf("%s: \"%s\"\n", what, line.c_str());
}

corio::task<> talk(std::string host, std::uint16_t port) {
    // async with open_connection(host, port) as s: (the exit closes it)
    auto conversation = [](corio::stream& s) -> corio::task<> {
        s.write("Hello, World!\n");
        co_await s.drain();
        print_reply("first reply", co_await s.readline());

        s.write("corio speaks asyncio\n");  // buffered: no await
        s.write("bye\n");
        co_await s.drain();      // returns at once under the 64 KiB high-water mark
        co_await s.write_eof();  // the server reads EOF, ends its loop and closes
        auto lines = s.lines();  // async for line in reader:
        while (auto line = co_await lines.next()) print_reply("reply", std::string(*line));
        std::printf("the server closed the connection\n");
    };
    co_await corio::with(corio::open_connection(std::move(host), port), conversation);
}

// ---------------------------------------------------------------- no arguments

// An echo server's handler, as examples/echo_server.cpp has it.
corio::task<> echo(corio::stream s) {
    while (true) {
        std::string line = co_await s.readline();
        if (line.empty()) break;  // EOF
        co_await s.write_all(line);
    }
    co_await s.close();
}

corio::task<int> demo() {
    auto handler = [](corio::stream s) { return echo(std::move(s)); };
    corio::server srv = co_await corio::start_server(handler, "127.0.0.1", 0);
    const std::uint16_t port = srv.port();
    std::printf("talking to an in-process echo server on 127.0.0.1 (port 0: the kernel picked one)\n");
    auto client = [port](corio::server&) { return talk("127.0.0.1", port); };
    co_await corio::with(srv, client);  // the exit closes the server

    // Nobody listens on that port any more.
    try {
        corio::stream s = co_await corio::open_connection("127.0.0.1", port);
        std::printf("connected?\n");
    } catch (const std::system_error& e) {
        // e.what(): "open_connection to 127.0.0.1:PORT: Connection refused"
        std::printf("connecting again after the server closed: %s\n", e.code().message().c_str());
    }
    co_return 0;
}

corio::task<int> amain(int argc, char** argv) {
    if (argc < 2) co_return co_await demo();
    const int port = argc > 2 ? std::atoi(argv[2]) : 0;
    if (port <= 0 || port > 65535) {
        std::fprintf(stderr, "usage: %s [HOST PORT]\n", argv[0]);
        co_return 2;
    }
    try {
        co_await talk(argv[1], static_cast<std::uint16_t>(port));
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        co_return 1;
    }
    co_return 0;
}

int main(int argc, char** argv) { return corio::run(amain(argc, argv)); }
