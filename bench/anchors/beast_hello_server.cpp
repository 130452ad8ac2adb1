// bench/anchors/beast_hello_server.cpp: the C++ anchor of the web benchmark,
// Boost.Beast's HTTP server on Asio with C++20 coroutines, one thread, as
// Beast's own example (http_server_awaitable) writes it: a keep-alive loop per
// connection, one flat_buffer, http::read then http::write.
//   beast_hello_server PORT
// GET /hello: "Hello, world\n" text/plain; GET /json: the 10-field object
// (nlohmann::json, as corio); anything else 404.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

asio::awaitable<void> session(tcp::socket socket) {
    beast::flat_buffer buffer;
    for (;;) {
        http::request<http::string_body> req;
        auto [ec, n] = co_await http::async_read(socket, buffer, req, asio::as_tuple(asio::use_awaitable));
        (void)n;
        if (ec) break;
        http::response<http::string_body> res{http::status::ok, req.version()};
        res.set(http::field::server, "beast");
        if (req.target() == "/hello") {
            res.set(http::field::content_type, "text/plain; charset=utf-8");
            res.body() = "Hello, world\n";
        } else if (req.target() == "/json") {
            nlohmann::json o = {{"id", 12345},      {"name", "Ada Lovelace"}, {"email", "ada@example.com"},
                                {"active", true},   {"score", 98.5},          {"tags", {"math", "engines"}},
                                {"city", "London"}, {"born", 1815},           {"title", "Countess"},
                                {"notes", "first program"}};
            res.set(http::field::content_type, "application/json");
            res.body() = o.dump();
        } else {
            res.result(http::status::not_found);
            res.body() = "not found";
        }
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        auto [wec, wn] = co_await http::async_write(socket, res, asio::as_tuple(asio::use_awaitable));
        (void)wn;
        if (wec || !res.keep_alive()) break;
    }
    beast::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> listen(tcp::acceptor& acceptor) {
    for (;;) {
        tcp::socket s = co_await acceptor.async_accept(asio::use_awaitable);
        s.set_option(tcp::no_delay(true));
        asio::co_spawn(acceptor.get_executor(), session(std::move(s)), asio::detached);
    }
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    asio::io_context ioc(1);
    tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::atoi(argv[1]))});
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](auto, auto) { ioc.stop(); });
    asio::co_spawn(ioc, listen(acceptor), asio::detached);
    std::printf("ready\n");
    std::fflush(stdout);
    ioc.run();
    return 0;
}
