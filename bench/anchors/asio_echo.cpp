// asio_echo: the echo server of the echo benchmarks (bench/compare_net.py)
// written with Boost.Asio C++20 coroutines, the C++ anchor corio is compared to.
//
//   asio_echo [--port N]     (0, the default: an ephemeral port)
//
// Listens on 127.0.0.1, prints `port N` on stdout once listening, echoes every
// connection until SIGTERM or SIGINT (asio::signal_set), then exits 0.
//
// One thread, io_context with concurrency hint 1. The code is Asio's own C++20
// coroutine echo example (example/cpp20/coroutines/echo_server.cpp): one
// awaitable per connection, started with co_spawn(detached), looping on
// async_read_some into a 1 KiB array in its frame and async_write of what was
// read, with use_awaitable; TCP_NODELAY is the one addition.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <utility>

#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

namespace {

awaitable<void> echo(tcp::socket socket) {
    try {
        char data[1024];
        for (;;) {
            std::size_t n = co_await socket.async_read_some(asio::buffer(data), use_awaitable);
            co_await asio::async_write(socket, asio::buffer(data, n), use_awaitable);
        }
    } catch (const std::exception&) {
        // The peer closed (eof) or reset the connection: this echo is over.
    }
}

awaitable<void> listener(tcp::acceptor acceptor) {
    auto executor = co_await asio::this_coro::executor;
    for (;;) {
        tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
        socket.set_option(tcp::no_delay(true));
        asio::co_spawn(executor, echo(std::move(socket)), asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    unsigned short port = 0;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = static_cast<unsigned short>(std::atoi(argv[++i]));
        } else {
            std::fprintf(stderr, "usage: asio_echo [--port N]\n");
            return 2;
        }
    }
    // Many idle connections need many descriptors.
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    try {
        asio::io_context ctx(1);
        tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
        acceptor.listen(4096);  // the kernel caps it at net.core.somaxconn
        std::printf("port %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
        std::fflush(stdout);

        asio::signal_set signals(ctx, SIGINT, SIGTERM);
        signals.async_wait([&](auto, auto) { ctx.stop(); });
        asio::co_spawn(ctx, listener(std::move(acceptor)), asio::detached);
        ctx.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "asio_echo: %s\n", e.what());
        return 1;
    }
    return 0;
}
