// web::application (corio/web/application.hpp): the description of an app;
// running it is app_runner's work.
#include <corio/web/application.hpp>

#include <stdexcept>

namespace corio::web {

application::application() = default;
application::application(application_options options) : options_(options) {}
application::application(application&&) noexcept = default;
application& application::operator=(application&&) noexcept = default;
application::~application() = default;

application::application(const application& other)
    : options_(other.options_),
      router_(other.router_),
      middlewares_(other.middlewares_),
      on_startup_(other.on_startup_),
      on_shutdown_(other.on_shutdown_),
      on_cleanup_(other.on_cleanup_),
      cleanup_ctx_(other.cleanup_ctx_),
      state_(other.state_) {
    if (other.frozen_) throw std::logic_error("application: a frozen (running) application cannot be copied");
    for (const subapp& s : other.subapps_) subapps_.push_back(subapp{s.prefix, std::make_unique<application>(*s.app)});
}

application& application::operator=(const application& other) {
    if (this != &other) {
        application copy(other);
        *this = std::move(copy);
    }
    return *this;
}

void application::check_unfrozen(const char* operation) const {
    if (frozen_)
        throw std::logic_error(std::string(operation) +
                               ": the application is running (frozen): add routes, middlewares and hooks before "
                               "its runner's setup");
}

web::router& application::router() {
    check_unfrozen("application::router");
    return router_;
}

std::vector<middleware>& application::middlewares() {
    check_unfrozen("application::middlewares");
    return middlewares_;
}

application& application::add_subapp(std::string prefix, application sub) {
    check_unfrozen("application::add_subapp");
    if (prefix.empty() || prefix.front() != '/' || prefix == "/")
        throw std::invalid_argument("application::add_subapp '" + prefix + "': the prefix must start with '/' and not be '/'");
    while (prefix.back() == '/') prefix.pop_back();
    subapps_.push_back(subapp{std::move(prefix), std::make_unique<application>(std::move(sub))});
    return *subapps_.back().app;
}

void application::set_client_max_size(std::size_t bytes) {
    check_unfrozen("application::set_client_max_size");
    options_.client_max_size = bytes;
}

void application::freeze() noexcept {
    frozen_ = true;
    for (subapp& s : subapps_) s.app->freeze();
}

}  // namespace corio::web
