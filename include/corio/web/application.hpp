// corio/web/application.hpp: `web::application` (aiohttp's web.Application):
// routes, sub-applications, middlewares, lifecycle hooks and cleanup contexts.
//
//   corio::web::application app;
//   app.router().add_get("/", index);
//   app.middlewares().push_back([](corio::web::request& req, corio::web::handler next) -> corio::task<corio::web::response> {
//       auto resp = co_await next(req);
//       resp.headers().set("X-Served-By", "corio");
//       co_return resp;
//   });
//   app.cleanup_ctx([](corio::web::application& app) -> corio::context_manager<void> {
//       app.state<std::string>("db") = "open";   // open a pool here...
//       co_yield {};
//       app.state<std::string>("db") = "closed"; // ...and close it here
//   });
//
// Order: middlewares run outermost first (the first added sees the request
// first and the response last); a sub-application's routes answer under its
// prefix, behind the parent's middlewares and then its own. At startup
// (app_runner::setup) the on_startup hooks run in order, then each
// cleanup_ctx is entered in order (the parent's before its sub-applications');
// at cleanup the on_shutdown hooks run, then the cleanup contexts are exited
// in reverse, then the on_cleanup hooks. A cleanup context that failed to
// enter makes setup throw after the ones already entered are exited.
// An application is frozen by the first runner that sets it up: adding
// routes, middlewares or hooks afterwards throws std::logic_error. Copying
// an unfrozen application copies its routes and hooks (each worker of
// run_app's `workers` runs its own copy on its own loop).
#pragma once

#include <any>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include <corio/context/exit_stack.hpp>
#include <corio/task.hpp>
#include <corio/web/request.hpp>
#include <corio/web/response.hpp>
#include <corio/web/router.hpp>

namespace corio::web {

/// `(request&, handler next) -> task<response>`.
using middleware = std::function<task<response>(request&, handler)>;
/// `(application&) -> task<>`.
using app_hook = std::function<task<>(application&)>;

struct application_options {
    /// The largest request body read() and friends accept (413 beyond).
    std::size_t client_max_size = 1024 * 1024;
};

class application {
public:
    application();
    explicit application(application_options options);
    application(const application& other);
    application& operator=(const application& other);
    application(application&&) noexcept;
    application& operator=(application&&) noexcept;
    ~application();

    web::router& router();
    const web::router& router() const noexcept { return router_; }
    std::vector<middleware>& middlewares();
    const std::vector<middleware>& middlewares() const noexcept { return middlewares_; }

    /// f: `(application&) -> task<>`.
    template <class F>
    void on_startup(F f) {
        check_unfrozen("application::on_startup");
        on_startup_.emplace_back(std::move(f));
    }
    template <class F>
    void on_shutdown(F f) {
        check_unfrozen("application::on_shutdown");
        on_shutdown_.emplace_back(std::move(f));
    }
    template <class F>
    void on_cleanup(F f) {
        check_unfrozen("application::on_cleanup");
        on_cleanup_.emplace_back(std::move(f));
    }
    /// f: `(application&)` giving an async context manager (a
    /// context_manager<void> typically), entered at startup, exited at cleanup.
    template <class F>
    void cleanup_ctx(F f) {
        check_unfrozen("application::cleanup_ctx");
        cleanup_ctx_.emplace_back([f = std::move(f)](application& app, exit_stack& stack) -> task<> {
            auto manager = f(app);
            co_await stack.enter(std::move(manager));
        });
    }

    /// Serves `sub`'s routes under `prefix` ("/api"); gives the stored copy.
    application& add_subapp(std::string prefix, application sub);

    std::size_t client_max_size() const noexcept { return options_.client_max_size; }
    void set_client_max_size(std::size_t bytes);

    /// Application state (aiohttp's app["key"]), as request::state.
    template <class T>
    T& state(std::string_view key) {
        auto it = state_.find(key);
        if (it == state_.end()) it = state_.emplace(std::string(key), std::any(T())).first;
        if (T* value = std::any_cast<T>(&it->second)) return *value;
        throw std::logic_error("application::state '" + std::string(key) + "': it holds " +
                               it->second.type().name() + ", not " + typeid(T).name());
    }

    bool frozen() const noexcept { return frozen_; }

    struct subapp {
        std::string prefix;
        std::unique_ptr<application> app;
    };
    const std::vector<subapp>& subapps() const noexcept { return subapps_; }

    // Used by app_runner.
    using cleanup_entry = std::function<task<>(application&, exit_stack&)>;
    const std::vector<app_hook>& startup_hooks() const noexcept { return on_startup_; }
    const std::vector<app_hook>& shutdown_hooks() const noexcept { return on_shutdown_; }
    const std::vector<app_hook>& cleanup_hooks() const noexcept { return on_cleanup_; }
    const std::vector<cleanup_entry>& cleanup_contexts() const noexcept { return cleanup_ctx_; }
    void freeze() noexcept;

private:
    void check_unfrozen(const char* operation) const;

    application_options options_;
    web::router router_;
    std::vector<middleware> middlewares_;
    std::vector<app_hook> on_startup_, on_shutdown_, on_cleanup_;
    std::vector<cleanup_entry> cleanup_ctx_;
    std::vector<subapp> subapps_;
    std::map<std::string, std::any, std::less<>> state_;
    bool frozen_ = false;
};

}  // namespace corio::web
