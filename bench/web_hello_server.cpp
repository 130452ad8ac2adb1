// bench/web_hello_server.cpp: corio::web under load (bench/compare_web.py).
//   corio_web_server PORT [WORKERS]     (backend: CORIO_BACKEND=io_uring|epoll)
// GET /hello: the 13-byte "Hello, world\n" as text/plain (the hello-world
// handler of issue 15); GET /json: a 10-field object encoded per request;
// GET /sleep: the Django-style view, sleep(1s) then a small JSON answer.
// No access log (nginx's is off too). Stops on SIGINT/SIGTERM, gracefully.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <corio/corio.hpp>

namespace web = corio::web;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s PORT [WORKERS]\n", argv[0]);
        return 2;
    }
    web::application app;
    app.router().add_get("/hello", [](web::request&) -> corio::task<web::response> {
        co_return web::response::text("Hello, world\n");
    });
    app.router().add_get("/json", [](web::request&) -> corio::task<web::response> {
        nlohmann::json o = {{"id", 12345},        {"name", "Ada Lovelace"}, {"email", "ada@example.com"},
                            {"active", true},     {"score", 98.5},          {"tags", {"math", "engines"}},
                            {"city", "London"},   {"born", 1815},           {"title", "Countess"},
                            {"notes", "first program"}};
        co_return web::json_response(o);
    });
    app.router().add_get("/sleep", [](web::request&) -> corio::task<web::response> {
        co_await corio::sleep(1s);
        co_return web::json_response({{"message", "Hello, Async Django!"}});
    });
    web::run_app_options o;
    o.host = "127.0.0.1";
    o.port = static_cast<std::uint16_t>(std::atoi(argv[1]));
    o.workers = argc > 2 ? static_cast<std::size_t>(std::atoi(argv[2])) : 1;
    o.access_log = false;
    o.print_banner = true;
    o.shutdown_timeout = 2s;
    return web::run_app(app, o);
}
