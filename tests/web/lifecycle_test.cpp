// The lifecycle around the connections: on_startup, cleanup_ctx (entered in
// order, exited in reverse), on_shutdown and on_cleanup in API.md's order,
// also when setup fails; the graceful stop (a request in flight finishes, a
// new connection is refused, an idle one is closed, one over
// shutdown_timeout is cancelled with its exits run); unix_site; HTTPS
// through tls_context; run_app with workers = 2 stopped by SIGTERM.
#include "web_fixture.hpp"

#include <sys/wait.h>

#include <atomic>
#include <set>

using namespace web_test;

TEST(web_lifecycle, hooks_and_cleanup_contexts_run_in_order) {
    web::application app;
    auto trace = std::make_shared<std::vector<std::string>>();
    app.on_startup([trace](web::application&) -> corio::task<> {
        trace->push_back("startup");
        co_return;
    });
    app.cleanup_ctx([trace](web::application& a) -> corio::context_manager<void> {
        trace->push_back("enter pool");
        a.state<std::string>("pool") = "open";
        co_yield {};
        trace->push_back("exit pool");
    });
    app.cleanup_ctx([trace](web::application&) -> corio::context_manager<void> {
        trace->push_back("enter cache");
        co_yield {};
        trace->push_back("exit cache");
    });
    app.on_shutdown([trace](web::application&) -> corio::task<> {
        trace->push_back("shutdown");
        co_return;
    });
    app.on_cleanup([trace](web::application&) -> corio::task<> {
        trace->push_back("cleanup");
        co_return;
    });
    app.router().add_get("/", [](web::request& req) -> corio::task<web::response> {
        co_return web::response::text(req.app().state<std::string>("pool"));
    });
    serve(app, [trace](std::uint16_t port) -> corio::task<> {
        raw_response r = parse_response(co_await exchange(port, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
        EXPECT_EQ(r.body, "open");
        trace->push_back("served");
    });
    EXPECT_EQ(*trace, (std::vector<std::string>{"startup", "enter pool", "enter cache", "served", "shutdown",
                                                 "exit cache", "exit pool", "cleanup"}));
    EXPECT_THROW(app.router(), std::logic_error);  // frozen once run
}

TEST(web_lifecycle, a_cleanup_context_that_fails_to_enter_exits_the_entered_ones) {
    web::application app;
    auto trace = std::make_shared<std::vector<std::string>>();
    app.cleanup_ctx([trace](web::application&) -> corio::context_manager<void> {
        trace->push_back("enter a");
        co_yield {};
        trace->push_back("exit a");
    });
    app.cleanup_ctx([](web::application&) -> corio::context_manager<void> {
        throw std::runtime_error("database down");
        co_yield {};
    });
    auto main = [&]() -> corio::task<> {
        web::app_runner runner(app);
        auto body = [](web::app_runner&) -> corio::task<> { co_return; };
        co_await corio::with(runner, body);
    };
    EXPECT_THROW(corio::run(main()), std::runtime_error);
    EXPECT_EQ(*trace, (std::vector<std::string>{"enter a", "exit a"}));
}

TEST(web_lifecycle, graceful_stop_finishes_in_flight_refuses_new_and_cancels_past_the_timeout) {
    web::application app;
    auto slow_started = std::make_shared<corio::event>();
    auto hung_exited = std::make_shared<bool>(false);
    app.router().add_get("/slow", [slow_started](web::request&) -> corio::task<web::response> {
        slow_started->set();
        co_await corio::sleep(300ms);
        co_return web::response::text("finished");
    });
    app.router().add_get("/hang", [hung_exited](web::request&) -> corio::task<web::response> {
        auto record = [hung_exited] { *hung_exited = true; };
        co_await corio::finally(record);
        co_await corio::sleep(60s);
        co_return web::response::text("never");
    });
    auto main = [&]() -> corio::task<> {
        web::server_settings settings;
        settings.access_log = false;
        settings.shutdown_timeout = 1000ms;
        web::app_runner runner(app, settings);
        auto with_runner = [&](web::app_runner& r) -> corio::task<> {
            web::tcp_site site(r, "127.0.0.1", 0);
            co_await site.start();
            const std::uint16_t port = site.port();
            corio::stream idle = co_await corio::open_connection("127.0.0.1", port);
            corio::stream slow = co_await corio::open_connection("127.0.0.1", port);
            slow.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
            corio::stream hang = co_await corio::open_connection("127.0.0.1", port);
            hang.write("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
            co_await slow_started->wait();
            co_await corio::sleep(20ms);
            auto stopping = corio::spawn(site.stop());
            co_await corio::sleep(50ms);
            // New connections are refused once the listener is closed.
            bool refused = false;
            try {
                corio::stream late = co_await corio::open_connection("127.0.0.1", port);
                late.abort();
            } catch (const std::system_error&) {
                refused = true;
            }
            EXPECT_TRUE(refused);
            // The idle connection was closed; the slow request is answered.
            EXPECT_EQ(co_await idle.read(), "");
            std::string answer;
            for (std::string piece = co_await slow.read(); !piece.empty(); piece = co_await slow.read()) answer += piece;
            raw_response finished = parse_response(answer);
            EXPECT_EQ(finished.body, "finished");
            EXPECT_TRUE(finished.header("Connection: close"));
            co_await stopping;
            EXPECT_TRUE(*hung_exited);  // cancelled after shutdown_timeout, its exits run
            idle.abort();
            slow.abort();
            hang.abort();
        };
        co_await corio::with(runner, with_runner);
    };
    corio::run(main());
}

TEST(web_lifecycle, unix_site_serves_on_a_socket_path) {
    corio_http_peers::temp_dir dir("corio-web-unix");
    const std::string path = dir / "app.sock";
    web::application app;
    app.router().add_get("/", [](web::request&) -> corio::task<web::response> { co_return web::response::text("over unix"); });
    auto main = [&]() -> corio::task<> {
        web::server_settings settings;
        settings.access_log = false;
        web::app_runner runner(app, settings);
        auto with_runner = [&](web::app_runner& r) -> corio::task<> {
            web::unix_site site(r, path);
            auto with_site = [&](web::unix_site&) -> corio::task<> {
                program_result curl = co_await run(cmd("curl", "-sS", "--unix-socket", path, "http://localhost/"));
                EXPECT_EQ(curl.out, "over unix") << curl.err;
            };
            co_await corio::with(site, with_site);
        };
        co_await corio::with(runner, with_runner);
    };
    corio::run(main());
}

TEST(web_lifecycle, https_through_a_tls_context) {
    corio_http_peers::temp_dir dir("corio-web-tls");
    const std::string cert = dir / "cert.pem", key = dir / "key.pem";
    program_result made = run_program({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
                                       cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    web::application app;
    app.router().add_get("/", [](web::request&) -> corio::task<web::response> { co_return web::response::text("secure"); });
    auto main = [&]() -> corio::task<> {
        web::server_settings settings;
        settings.access_log = false;
        web::app_runner runner(app, settings);
        auto with_runner = [&](web::app_runner& r) -> corio::task<> {
            web::site_options options;
            options.tls = corio::tls_context::server(cert, key);
            web::tcp_site site(r, "127.0.0.1", 0, options);
            auto with_site = [&](web::tcp_site& s) -> corio::task<> {
                EXPECT_TRUE(s.name().starts_with("https://127.0.0.1:"));
                program_result curl = co_await run(cmd("curl", "-sS", "--cacert", cert, "https://127.0.0.1:" + std::to_string(s.port()) + "/"));
                EXPECT_EQ(curl.out, "secure") << curl.err;
            };
            co_await corio::with(site, with_site);
        };
        co_await corio::with(runner, with_runner);
    };
    corio::run(main());
}

TEST(web_lifecycle, run_app_with_two_workers_stops_on_sigterm_with_status_0) {
    const std::uint16_t port = corio_http_peers::free_ports(1).front();
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        web::application app;
        app.router().add_get("/", [](web::request&) -> corio::task<web::response> {
            co_return web::response::text("worker " + std::to_string(::gettid() == ::getpid() ? 0 : 1));
        });
        app.on_cleanup([](web::application&) -> corio::task<> {
            std::printf("cleanup ran\n");
            std::fflush(stdout);
            co_return;
        });
        web::run_app_options o;
        o.host = "127.0.0.1";
        o.port = port;
        o.workers = 2;
        o.access_log = false;
        o.print_banner = false;
        ::_exit(web::run_app(app, o));
    }
    bool answered = false;
    for (int i = 0; i < 100 && !answered; ++i) {
        program_result r = run_program({"curl", "-sS", "http://127.0.0.1:" + std::to_string(port) + "/"});
        answered = r.out.starts_with("worker ");
        if (!answered) std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(answered);
    // Both workers answer over a few connections (SO_REUSEPORT spreads them).
    std::set<std::string> seen;
    for (int i = 0; i < 40 && seen.size() < 2; ++i)
        seen.insert(run_program({"curl", "-sS", "http://127.0.0.1:" + std::to_string(port) + "/"}).out);
    EXPECT_EQ(seen.size(), 2u);
    ::kill(child, SIGTERM);
    int status = -1;
    for (int i = 0; i < 200; ++i) {
        if (::waitpid(child, &status, WNOHANG) == child) break;
        std::this_thread::sleep_for(50ms);
    }
    if (!WIFEXITED(status)) ::kill(child, SIGKILL);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}
