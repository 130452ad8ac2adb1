// app_runner, tcp_site, unix_site and run_app (corio/web/app_runner.hpp):
// the lifecycle around the connections that src/web/connection.cpp serves.
#include <corio/web/app_runner.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <thread>

#include <corio/context/with.hpp>
#include <corio/detail/socket.hpp>
#include <corio/net/server.hpp>
#include <corio/run.hpp>
#include <corio/runtime/signal.hpp>
#include <corio/tasks/shield.hpp>
#include <corio/time/timeout.hpp>

#include "server_state.hpp"

namespace corio::web {

namespace detail {

task<> site_state::stop() {
    if (!started) co_return;
    started = false;
    shutting_down = true;
    server->stop_accepting();  // a new connection is refused from now on
    // Idle keep-alive connections close now; a request in flight is
    // answered (its connection then closes) within shutdown_timeout.
    for (connection_state* c = first; c != nullptr; c = c->next)
        if (c->idle) c->end_now();
    auto in_flight = [this](timeout_scope&) -> task<> {
        while (connections > 0) {
            connection_ended.clear();
            co_await connection_ended.wait();
        }
    };
    auto bounded = corio::with(corio::move_on_after(runner->settings.shutdown_timeout), in_flight);
    co_await std::move(bounded);
    // What is still running is cancelled; its exits run before close returns.
    server->close();
    co_await server->wait_closed();
    std::erase(runner->sites, this);
}

namespace {

// Runs each app's hooks of one kind, the parent's before its sub-applications';
// every hook runs even when one fails; the first failure is rethrown.
task<> run_hooks(application& app, const std::vector<app_hook>& (application::*which)() const noexcept,
                 std::exception_ptr& first_failure) {
    for (const app_hook& hook : (app.*which)()) {
        try {
            co_await hook(app);
        } catch (...) {
            if (!first_failure) first_failure = std::current_exception();
        }
    }
    for (const application::subapp& sub : app.subapps()) co_await run_hooks(*sub.app, which, first_failure);
}

task<> enter_cleanup_contexts(application& app, exit_stack& stack) {
    for (const application::cleanup_entry& entry : app.cleanup_contexts()) co_await entry(app, stack);
    for (const application::subapp& sub : app.subapps()) co_await enter_cleanup_contexts(*sub.app, stack);
}

}  // namespace
}  // namespace detail

// ---- app_runner

app_runner::app_runner(application& app, server_settings settings) : state_(std::make_unique<detail::runner_state>()) {
    state_->app = &app;
    state_->settings = std::move(settings);
}
app_runner::app_runner(app_runner&&) noexcept = default;
app_runner::~app_runner() = default;

task<app_runner&> app_runner::aenter() {
    co_await setup();
    co_return *this;
}

task<> app_runner::aexit(std::exception_ptr) { co_await cleanup(); }

task<> app_runner::setup() {
    if (!state_) throw std::logic_error("app_runner::setup: the runner is empty (moved from)");
    detail::runner_state& st = *state_;
    if (st.set_up) throw std::logic_error("app_runner::setup: the runner was already set up");
    if (st.app->frozen())
        throw std::logic_error("app_runner::setup: the application is already run by another runner (copy it for a second one)");
    st.table.emplace(*st.app);  // checks every route: a bad one throws before anything starts
    st.app->freeze();
    st.set_up = true;
    std::exception_ptr failure;
    co_await detail::run_hooks(*st.app, &application::startup_hooks, failure);
    if (!failure) {
        try {
            co_await detail::enter_cleanup_contexts(*st.app, st.cleanup_contexts);
        } catch (...) {
            failure = std::current_exception();
        }
    }
    if (failure) {
        // What was entered is exited (in reverse) before the error goes on.
        st.cleaned_up = true;
        try {
            co_await st.cleanup_contexts.aclose();
        } catch (...) {
        }
        std::rethrow_exception(failure);
    }
}

task<> app_runner::cleanup() {
    if (!state_) co_return;
    detail::runner_state& st = *state_;
    if (!st.set_up || st.cleaned_up) co_return;
    st.cleaned_up = true;
    std::exception_ptr failure;
    while (!st.sites.empty()) {
        detail::site_state* site = st.sites.back();
        co_await site->stop();
        std::erase(st.sites, site);
    }
    co_await detail::run_hooks(*st.app, &application::shutdown_hooks, failure);
    try {
        co_await st.cleanup_contexts.aclose();
    } catch (...) {
        if (!failure) failure = std::current_exception();
    }
    co_await detail::run_hooks(*st.app, &application::cleanup_hooks, failure);
    if (failure) std::rethrow_exception(failure);
}

application& app_runner::app() const noexcept { return *state_->app; }
const server_settings& app_runner::settings() const noexcept { return state_->settings; }

std::vector<address> app_runner::addresses() const {
    std::vector<address> out;
    for (const detail::site_state* site : state_->sites)
        if (site->server)
            for (const address& a : site->server->addresses()) out.push_back(a);
    return out;
}

// ---- sites

namespace {

std::unique_ptr<detail::site_state> make_site(app_runner& runner, site_options options) {
    auto st = std::make_unique<detail::site_state>();
    st->runner = &runner.state();
    st->options = std::move(options);
    return st;
}

server_options server_options_of(const site_options& o) {
    server_options so;
    so.backlog = o.backlog;
    so.reuse_port = o.reuse_port;
    so.tls = o.tls;
    return so;
}

task<> start_site(detail::site_state* st, const char* operation) {
    if (!st) throw std::logic_error(std::string(operation) + ": the site is empty (moved from)");
    if (st->started || st->server) throw std::logic_error(std::string(operation) + ": the site was already started");
    if (!st->runner->set_up || st->runner->cleaned_up)
        throw std::logic_error(std::string(operation) + ": the runner is not set up (enter app_runner first)");
    auto serve = [st](corio::stream& s) -> task<> { co_await detail::serve_connection(s, *st); };
    const server_options so = server_options_of(st->options);
    if (st->unix_path.empty()) {
        corio::server srv = co_await corio::start_server(serve, st->host, st->port, so);
        st->server.emplace(std::move(srv));
    } else {
        corio::server srv = co_await corio::start_unix_server(serve, st->unix_path, so);
        st->server.emplace(std::move(srv));
    }
    st->started = true;
    st->runner->sites.push_back(st);
}

}  // namespace

tcp_site::tcp_site(app_runner& runner, std::string host, std::uint16_t port, site_options options)
    : state_(make_site(runner, std::move(options))) {
    state_->host = std::move(host);
    state_->port = port;
}
tcp_site::tcp_site(tcp_site&&) noexcept = default;
tcp_site::~tcp_site() {
    if (state_ && state_->started) std::erase(state_->runner->sites, state_.get());
}

task<tcp_site&> tcp_site::aenter() {
    co_await start();
    co_return *this;
}
task<> tcp_site::aexit(std::exception_ptr) { co_await stop(); }
task<> tcp_site::start() { co_await start_site(state_.get(), "tcp_site::start"); }
task<> tcp_site::stop() {
    if (state_) co_await state_->stop();
}

std::uint16_t tcp_site::port() const {
    if (!state_ || !state_->server) throw std::logic_error("tcp_site::port: the site is not started");
    return state_->server->port();
}

std::string tcp_site::name() const {
    const std::string scheme = state_->options.tls ? "https" : "http";
    const std::string host = state_->host.empty() ? "0.0.0.0" : state_->host;
    return scheme + "://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
           std::to_string(state_->server ? state_->server->port() : state_->port);
}

unix_site::unix_site(app_runner& runner, std::string path, site_options options)
    : path_(path), state_(make_site(runner, std::move(options))) {
    state_->unix_path = std::move(path);
}
unix_site::unix_site(unix_site&&) noexcept = default;
unix_site::~unix_site() {
    if (state_ && state_->started) std::erase(state_->runner->sites, state_.get());
}
task<unix_site&> unix_site::aenter() {
    co_await start();
    co_return *this;
}
task<> unix_site::aexit(std::exception_ptr) { co_await stop(); }
task<> unix_site::start() { co_await start_site(state_.get(), "unix_site::start"); }
task<> unix_site::stop() {
    if (state_) co_await state_->stop();
}

// ---- run_app

namespace {

server_settings settings_of(const run_app_options& o) {
    server_settings s;
    s.shutdown_timeout = o.shutdown_timeout;
    s.keepalive_timeout = o.keepalive_timeout;
    s.header_timeout = o.header_timeout;
    s.handler_timeout = o.handler_timeout;
    s.access_log = o.access_log;
    return s;
}

// What the workers share: where to listen once the first has bound, and the
// eventfds that tell each to stop.
struct workers_shared {
    std::vector<int> stop_fds;
    void stop_all() const noexcept {
        for (int fd : stop_fds) {
            const std::uint64_t one = 1;
            (void)!::write(fd, &one, sizeof one);
        }
    }
};

// One worker: its runner and site on this thread's loop, until its eventfd is written.
task<> serve_until_stopped(application& app, const run_app_options& o, std::uint16_t port, int stop_fd,
                           std::function<void(std::uint16_t)> on_listening) {
    app_runner runner(app, settings_of(o));
    auto with_runner = [&](app_runner& r) -> task<> {
        site_options so;
        so.tls = o.tls;
        so.reuse_port = o.reuse_port || o.workers > 1;
        tcp_site site(r, o.host, port, so);
        auto with_site = [&](tcp_site& s) -> task<> {
            if (on_listening) on_listening(s.port());
            co_await corio::detail::wait_ready(stop_fd, POLLIN, "web::run_app");
        };
        co_await corio::with(site, with_site);
    };
    co_await corio::with(runner, with_runner);
}

}  // namespace

int run_app(application& app, run_app_options options) {
    if (options.workers == 0) throw std::invalid_argument("web::run_app: workers must be at least 1");
    // Each further worker runs its own copy, made before the first runner freezes `app`.
    std::vector<application> copies;
    for (std::size_t i = 1; i < options.workers; ++i) copies.push_back(app);
    workers_shared shared;
    for (std::size_t i = 0; i < options.workers; ++i) {
        const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0) {
            for (int f : shared.stop_fds) ::close(f);
            throw std::system_error(errno, std::generic_category(), "web::run_app: eventfd");
        }
        shared.stop_fds.push_back(fd);
    }
    std::vector<std::thread> threads;
    std::vector<std::exception_ptr> worker_errors(options.workers);
    int status = 0;

    auto main_worker = [&]() -> task<int> {
        auto stop = [&shared] { shared.stop_all(); };
        add_signal_handler(SIGINT, stop);
        add_signal_handler(SIGTERM, stop);
        auto listening = [&](std::uint16_t port) {
            if (options.print_banner) {
                const std::string host = options.host.empty() ? "0.0.0.0" : options.host;
                std::printf("======== Running on %s://%s:%u ========\n(Press CTRL+C to quit)\n",
                            options.tls ? "https" : "http", host.c_str(), static_cast<unsigned>(port));
                std::fflush(stdout);
            }
            // The other workers listen on the port the first one got.
            for (std::size_t i = 1; i < options.workers; ++i) {
                threads.emplace_back([&, i, port] {
                    try {
                        corio::run(serve_until_stopped(copies[i - 1], options, port, shared.stop_fds[i], nullptr));
                    } catch (...) {
                        worker_errors[i] = std::current_exception();
                        shared.stop_all();
                    }
                });
            }
        };
        try {
            co_await serve_until_stopped(app, options, options.port, shared.stop_fds[0], listening);
        } catch (...) {
            shared.stop_all();
            throw;
        }
        remove_signal_handler(SIGINT);
        remove_signal_handler(SIGTERM);
        co_return 0;
    };
    try {
        status = corio::run(main_worker());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "corio::web::run_app: %s\n", e.what());
        status = 1;
    }
    shared.stop_all();
    for (std::thread& t : threads) t.join();
    for (int fd : shared.stop_fds) ::close(fd);
    for (const std::exception_ptr& e : worker_errors) {
        if (!e) continue;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            std::fprintf(stderr, "corio::web::run_app: a worker failed: %s\n", x.what());
        }
        status = 1;
    }
    return status;
}

}  // namespace corio::web
