// examples/web_json_api.cpp: a small JSON API as aiohttp.web writes it: a
// path parameter, a POST with a JSON body, a middleware, a static folder, a
// streamed response, and a "database" opened in cleanup_ctx at startup and
// closed at shutdown (where a pool lives), all behind a graceful shutdown.
//
//   async def get_item(request):
//       item = request.app["db"].get(int(request.match_info["id"]))
//       if item is None: raise web.HTTPNotFound()
//       return web.json_response(item)
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <corio/corio.hpp>

namespace web = corio::web;
using namespace std::chrono_literals;

using table = std::map<int, nlohmann::json>;

// The "database": opened at startup, closed at cleanup, in app.state.
corio::context_manager<void> database(web::application& app) {
    std::printf("database: open\n");
    std::fflush(stdout);
    app.state<table>("db") = {{1, {{"id", 1}, {"name", "ada"}}}};
    co_yield {};
    std::printf("database: closed with %zu items\n", app.state<table>("db").size());
    std::fflush(stdout);
}

int main() {
    web::application app;
    app.cleanup_ctx(database);
    app.middlewares().push_back([](web::request& req, web::handler next) -> corio::task<web::response> {
        web::response resp = co_await next(req);
        resp.headers().set("X-Api", "corio");
        co_return resp;
    });
    app.router().add_get("/items/{id:\\d+}", [](web::request& req) -> corio::task<web::response> {
        table& db = req.app().state<table>("db");
        auto it = db.find(std::stoi(std::string(req.match_info("id"))));
        if (it == db.end()) throw web::http_not_found("no such item");
        co_return web::json_response(it->second);
    });
    app.router().add_post("/items", [](web::request& req) -> corio::task<web::response> {
        nlohmann::json body = co_await req.json();
        if (!body.contains("name") || !body["name"].is_string()) throw web::http_bad_request("name: a string is required");
        table& db = req.app().state<table>("db");
        const int id = static_cast<int>(db.size()) + 1;
        db[id] = {{"id", id}, {"name", body["name"]}};
        co_return web::json_response(db[id], 201);
    });
    app.router().add_get("/countdown", [](web::request& req) -> corio::task<web::response> {
        web::stream_response out;
        out.set_content_type("text/plain; charset=utf-8");
        co_await out.prepare(req);
        for (int i = 3; i > 0; --i) {
            co_await out.write(std::to_string(i) + "...\n");
            co_await corio::sleep(100ms);
        }
        co_await out.write("liftoff\n");
        co_await out.write_eof();
        co_return out;
    });
    std::filesystem::create_directories("public");
    std::ofstream("public/hello.txt") << "a static file\n";
    app.router().add_static("/static", "public");

    const char* port = std::getenv("CORIO_EXAMPLE_PORT");
    web::run_app_options options;
    options.host = "127.0.0.1";
    options.port = static_cast<std::uint16_t>(port ? std::atoi(port) : 8080);
    options.access_log = false;
    options.print_banner = false;
    return web::run_app(app, options);
}
