// corio/web/router.hpp: the routes of an application (aiohttp's UrlDispatcher).
//
//   app.router().add_get("/users/{id}", get_user);             // GET, and HEAD with no body
//   app.router().add_post("/users", create_user);
//   app.router().add_get(R"(/files/{name:\w+\.txt})", get_file);  // a part with its own regex
//   app.router().add_route("*", "/any", handler);               // every method
//   app.router().add_static("/static", "./public");
//
// A handler is a callable `(request&) -> task<response>`, or `-> task<std::string>`
// for a text/plain answer (as Quart). It is stored by value for the life of
// the application. Paths are matched against the percent-decoded path: a
// `{name}` part matches one or more characters other than '/', a
// `{name:regex}` part what the regex matches (std::regex, ECMAScript, whole
// part). Routes are tried in the order they were added; a path without parts
// is found by a hash lookup. A path some route matches with another method
// gets 405 with Allow listing the methods it has; no match at all gets 404.
// A bad pattern throws std::invalid_argument naming it when added.
// Static folders: GET and HEAD of prefix/<file>; a file outside the folder
// (`..`, `%2e%2e`, a symlink out), a folder, or a missing file is 404.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <corio/task.hpp>
#include <corio/web/request.hpp>
#include <corio/web/response.hpp>

namespace corio::web {

/// A request handler: `(request&) -> task<response>`.
using handler = std::function<task<response>(request&)>;

namespace detail {
// A handler giving task<std::string> answers with text/plain, as Quart.
template <class F>
handler to_handler(F f) {
    using result = std::invoke_result_t<F&, request&>;
    if constexpr (std::is_same_v<result, task<response>>) {
        return handler(std::move(f));
    } else {
        static_assert(std::is_same_v<result, task<std::string>>,
                      "corio::web: a handler is a callable (corio::web::request&) -> corio::task<corio::web::response> "
                      "(or corio::task<std::string> for a text/plain answer)");
        return handler([f = std::move(f)](request& req) mutable -> task<response> {
            std::string text = co_await f(req);
            co_return response::text(std::move(text));
        });
    }
}
}  // namespace detail

class router {
public:
    struct route {
        std::string method;  // upper case; "*" for every method
        std::string path;
        web::handler handler;
    };
    struct static_route {
        std::string prefix;
        std::filesystem::path folder;
    };

    /// GET, and HEAD answered by the same handler without a body.
    template <class F>
    void add_get(std::string path, F f) {
        add(std::string("GET"), std::move(path), detail::to_handler(std::move(f)));
    }
    template <class F>
    void add_post(std::string path, F f) {
        add(std::string("POST"), std::move(path), detail::to_handler(std::move(f)));
    }
    template <class F>
    void add_put(std::string path, F f) {
        add(std::string("PUT"), std::move(path), detail::to_handler(std::move(f)));
    }
    template <class F>
    void add_patch(std::string path, F f) {
        add(std::string("PATCH"), std::move(path), detail::to_handler(std::move(f)));
    }
    template <class F>
    void add_delete(std::string path, F f) {
        add(std::string("DELETE"), std::move(path), detail::to_handler(std::move(f)));
    }
    template <class F>
    void add_head(std::string path, F f) {
        add(std::string("HEAD"), std::move(path), detail::to_handler(std::move(f)));
    }
    /// `method` a token ("*" for any).
    template <class F>
    void add_route(std::string method, std::string path, F f) {
        add(std::move(method), std::move(path), detail::to_handler(std::move(f)));
    }
    /// Serves the files under `folder` at `prefix`/... (GET and HEAD).
    void add_static(std::string prefix, std::filesystem::path folder);

    const std::vector<route>& routes() const noexcept { return routes_; }
    const std::vector<static_route>& static_routes() const noexcept { return statics_; }

private:
    void add(std::string method, std::string path, web::handler h);
    std::vector<route> routes_;
    std::vector<static_route> statics_;
};

}  // namespace corio::web
