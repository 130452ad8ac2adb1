// examples/web_async_views.cpp: the async views Python tutorials show, as
// corio::web serves them (API.md section 11):
//
//   async def view(request):                       # Django
//       await asyncio.sleep(1)
//       return JsonResponse({"message": "Hello, Async Django!"})
//
//   @app.route('/quart')                           # Quart
//   async def hello():
//       return 'Hello from Quart-style corio'
//
// A server program: run_app serves until SIGINT or SIGTERM, then shuts down
// gracefully and returns 0. make demo starts it on CORIO_EXAMPLE_PORT and
// checks it with curl (examples/expected/web_async_views.client.sh).
#include <cstdlib>
#include <string>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

int main() {
    corio::web::application app;
    app.router().add_get("/", [](corio::web::request&) -> corio::task<corio::web::response> {
        co_await corio::sleep(1s);
        co_return corio::web::json_response({{"message", "Hello, Async Django!"}});
    });
    app.router().add_get("/quart", [](corio::web::request&) -> corio::task<std::string> {
        co_return "Hello from Quart-style corio";
    });
    app.router().add_get("/users/{id}", [](corio::web::request& req) -> corio::task<corio::web::response> {
        co_return corio::web::response::text("user " + std::string(req.match_info("id")));
    });
    const char* port = std::getenv("CORIO_EXAMPLE_PORT");
    corio::web::run_app_options options;
    options.host = "127.0.0.1";
    options.port = static_cast<std::uint16_t>(port ? std::atoi(port) : 8080);
    options.access_log = false;  // the demo compares stdout; a server keeps it on
    return corio::web::run_app(app, options);
}
