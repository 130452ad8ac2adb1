// The HTTP/1.1 server protocol against real clients corio did not write
// (curl; python3's http.client; raw bytes for what no polite client sends):
// keep-alive and pipelining in order, HTTP/1.0, Expect: 100-continue,
// chunked uploads, bodies read as JSON, forms and multipart, streamed
// responses, and every bad input of API.md section 11 with its status and
// the connection closed; slowloris and idle keep-alive bounded; a client
// that leaves cancels its handler; handler_timeout answers 503.
#include "web_fixture.hpp"

#include <atomic>

using namespace web_test;

namespace {

web::application echo_app() {
    web::application app;
    app.router().add_get("/", [](web::request&) -> corio::task<web::response> { co_return web::response::text("Hello, world!"); });
    app.router().add_get("/n/{n}", [](web::request& req) -> corio::task<web::response> {
        co_return web::response::text("n=" + std::string(req.match_info("n")));
    });
    app.router().add_post("/echo", [](web::request& req) -> corio::task<web::response> {
        std::string body = co_await req.read();
        co_return web::response::text(std::to_string(body.size()) + ":" + body.substr(0, 32));
    });
    app.router().add_post("/json", [](web::request& req) -> corio::task<web::response> {
        nlohmann::json in = co_await req.json();
        co_return web::json_response({{"got", in["name"]}, {"twice", in["n"].get<int>() * 2}});
    });
    app.router().add_post("/form", [](web::request& req) -> corio::task<web::response> {
        web::multi_dict form = co_await req.post();
        std::string out;
        for (const auto& [k, v] : form) out += k + "=" + v + ";";
        co_return web::response::text(out);
    });
    app.router().add_get("/stream", [](web::request& req) -> corio::task<web::response> {
        web::stream_response out;
        out.set_content_type("text/plain");
        co_await out.prepare(req);
        for (int i = 0; i < 5; ++i) {
            co_await out.write("line " + std::to_string(i) + "\n");
            co_await corio::sleep(5ms);
        }
        co_await out.write_eof();
        co_return out;
    });
    return app;
}

int count(const std::string& haystack, std::string_view needle) {
    int n = 0;
    for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
    return n;
}

}  // namespace

TEST(web_protocol, pipelined_requests_are_answered_in_order) {
    web::application app = echo_app();
    serve(app, [](std::uint16_t port) -> corio::task<> {
        std::string batch;
        for (int i = 0; i < 10; ++i) batch += "GET /n/" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
        batch += "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
        batch += "GET /n/last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        const std::string raw = co_await exchange(port, batch);
        std::size_t at = 0;
        for (int i = 0; i < 10; ++i) {
            raw_response r = parse_response(raw, at);
            EXPECT_EQ(r.body, "n=" + std::to_string(i));
            at = r.end;
        }
        raw_response echo = parse_response(raw, at);
        EXPECT_EQ(echo.body, "5:hello");
        raw_response last = parse_response(raw, echo.end);
        EXPECT_EQ(last.body, "n=last");
        EXPECT_TRUE(last.header("Connection: close"));
    });
}

TEST(web_protocol, python_http_client_keeps_the_connection_alive) {
    web::application app = echo_app();
    serve(app, [](std::uint16_t port) -> corio::task<> {
        const std::string script =
            "import http.client, sys\n"
            "c = http.client.HTTPConnection('127.0.0.1', " + std::to_string(port) + ")\n"
            "out = []\n"
            "for i in range(3):\n"
            "    c.request('GET', '/n/%d' % i)\n"
            "    r = c.getresponse(); out.append(r.read().decode())\n"
            "c.request('POST', '/json', body='{\"name\": \"ada\", \"n\": 21}', headers={'Content-Type': 'application/json'})\n"
            "r = c.getresponse(); out.append(r.read().decode())\n"
            "print(' '.join(out), c.sock is not None)\n";
        program_result r = co_await run(cmd("python3", "-c", script));
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(r.out, "n=0 n=1 n=2 {\"got\":\"ada\",\"twice\":42} True\n");
    });
}

TEST(web_protocol, http_1_0_is_answered_and_closed_unless_keep_alive_is_asked) {
    web::application app = echo_app();
    serve(app, [](std::uint16_t port) -> corio::task<> {
        raw_response plain = parse_response(co_await exchange(port, "GET / HTTP/1.0\r\n\r\n"));
        EXPECT_EQ(plain.status, 200);
        EXPECT_TRUE(plain.header("Connection: close"));
        const std::string two = co_await exchange(
            port, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /n/2 HTTP/1.0\r\n\r\n");
        raw_response first = parse_response(two);
        EXPECT_TRUE(first.header("Connection: keep-alive")) << first.head;
        EXPECT_EQ(parse_response(two, first.end).body, "n=2");
    });
}

TEST(web_protocol, curl_expect_100_continue_chunked_upload_json_forms_and_stream) {
    web::application app = echo_app();
    serve(app, [](std::uint16_t port) -> corio::task<> {
        const std::string big(200000, 'x');
        corio_http_peers::temp_dir dir("corio-web-test");
        corio_http_peers::write_file(dir / "big", big);
        program_result expect = co_await run(cmd("curl", "-sS", "-H", "Expect: 100-continue", "--data-binary",
                                               "@" + (dir / "big"), url(port, "/echo")));
        EXPECT_EQ(expect.out, "200000:" + big.substr(0, 32)) << expect.err;
        program_result chunked = co_await run(cmd("curl", "-sS", "-H", "Transfer-Encoding: chunked", "--data-binary",
                                                "@" + (dir / "big"), url(port, "/echo")));
        EXPECT_EQ(chunked.out, "200000:" + big.substr(0, 32)) << chunked.err;
        program_result form = co_await run(cmd("curl", "-sS", "--data", "a=1&b=x%20y", url(port, "/form")));
        EXPECT_EQ(form.out, "a=1;b=x y;");
        program_result multipart = co_await run(cmd("curl", "-sS", "-F", "name=ada", "-F", "file=@" + (dir / "big"), url(port, "/form")));
        EXPECT_EQ(multipart.out.substr(0, 20), "name=ada;file=xxxxxx");
        EXPECT_EQ(multipart.out.size(), std::string("name=ada;file=;").size() + big.size());
        program_result bad_json = co_await run(cmd("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--data",
                                                 "{not json", url(port, "/json")));
        EXPECT_EQ(bad_json.out, "400");
        program_result streamed = co_await run(cmd("curl", "-sS", "-D", "-", url(port, "/stream")));
        EXPECT_NE(streamed.out.find("Transfer-Encoding: chunked"), std::string::npos) << streamed.out;
        EXPECT_NE(streamed.out.find("line 0\nline 1\nline 2\nline 3\nline 4\n"), std::string::npos) << streamed.out;
        program_result old = co_await run(cmd("curl", "-sS", "--http1.0", url(port, "/stream")));
        EXPECT_EQ(old.out, "line 0\nline 1\nline 2\nline 3\nline 4\n");  // HTTP/1.0: ends with the close
    });
}

TEST(web_protocol, bad_heads_get_their_status_and_the_connection_closed) {
    web::application app = echo_app();
    serve(app, [](std::uint16_t port) -> corio::task<> {
        struct bad_case {
            std::string bytes;
            int status;
        };
        const std::vector<bad_case> cases = {
            {"GARBAGE\r\n\r\n", 400},
            {"GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400},
            {"GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
            {"GET / HTTP/1.1\r\nX-Big: " + std::string(9000, 'b') + "\r\n\r\n", 431},
            {[] {
                 std::string many = "GET / HTTP/1.1\r\n";
                 for (int i = 0; i < 100; ++i) many += "X-H" + std::to_string(i) + ": " + std::string(800, 'c') + "\r\n";
                 return many + "\r\n";
             }(),
             431},
            {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
            {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400},
            {"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        };
        for (const bad_case& c : cases) {
            // A second request behind the bad one must not be answered: the connection is closed.
            const std::string raw = co_await exchange(port, c.bytes + "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            raw_response r = parse_response(raw);
            EXPECT_EQ(r.status, c.status) << c.bytes.substr(0, 60) << " -> " << raw.substr(0, 200);
            EXPECT_EQ(count(raw, "HTTP/1.1 "), 1) << raw.substr(0, 300);
        }
        // Bad chunked framing inside a body the handler reads: 400, closed.
        const std::string raw = co_await exchange(
            port, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
                  "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ(parse_response(raw).status, 400) << raw;
        EXPECT_EQ(count(raw, "HTTP/1.1 "), 1) << raw;
        // And the server still serves.
        raw_response fine = parse_response(co_await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        EXPECT_EQ(fine.body, "Hello, world!");
    });
}

TEST(web_protocol, body_over_client_max_size_is_413) {
    web::application app = echo_app();
    app.set_client_max_size(1000);
    serve(app, [](std::uint16_t port) -> corio::task<> {
        raw_response declared = parse_response(co_await exchange(
            port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'a')));
        EXPECT_EQ(declared.status, 413);
        std::string chunked = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (int i = 0; i < 5; ++i) chunked += "3e8\r\n" + std::string(1000, 'b') + "\r\n";
        chunked += "0\r\n\r\n";
        raw_response streamed = parse_response(co_await exchange(port, chunked));
        EXPECT_EQ(streamed.status, 413);
        raw_response small = parse_response(co_await exchange(
            port, "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc"));
        EXPECT_EQ(small.body, "3:abc");
    });
}

TEST(web_protocol, a_head_not_complete_within_header_timeout_is_closed) {
    web::application app = echo_app();
    web::server_settings settings;
    settings.header_timeout = 300ms;
    serve(app, [](std::uint16_t port) -> corio::task<> {
        const auto started = std::chrono::steady_clock::now();
        // Slowloris: a head that never ends; the server closes it (exchange would wait 10 s).
        const std::string raw = co_await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1", 10000ms);
        const auto took = std::chrono::steady_clock::now() - started;
        EXPECT_EQ(raw, "");
        EXPECT_LT(took, 5000ms);
        EXPECT_GE(took, 250ms);
    }, settings);
}

TEST(web_protocol, an_idle_keep_alive_connection_is_closed_after_keepalive_timeout) {
    web::application app = echo_app();
    web::server_settings settings;
    settings.keepalive_timeout = 300ms;
    serve(app, [](std::uint16_t port) -> corio::task<> {
        const auto started = std::chrono::steady_clock::now();
        const std::string raw = co_await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 10000ms);
        EXPECT_EQ(parse_response(raw).body, "Hello, world!");
        EXPECT_LT(std::chrono::steady_clock::now() - started, 5000ms);
    }, settings);
}

TEST(web_protocol, a_client_that_leaves_cancels_its_handler_whose_exits_run) {
    web::application app;
    auto started = std::make_shared<corio::event>();
    auto exited = std::make_shared<corio::event>();
    app.router().add_get("/slow", [started, exited](web::request&) -> corio::task<web::response> {
        auto record_exit = [exited]() { exited->set(); };
        co_await corio::finally(record_exit);
        started->set();
        co_await corio::sleep(60s);
        co_return web::response::text("never");
    });
    serve(app, [started, exited](std::uint16_t port) -> corio::task<> {
        corio::stream s = co_await corio::open_connection("127.0.0.1", port);
        s.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
        co_await started->wait();
        co_await s.close();
        auto wait_exit = [&](corio::timeout_scope&) -> corio::task<> { co_await exited->wait(); };
        auto bounded = corio::with(corio::timeout(10s), wait_exit);
        co_await std::move(bounded);
        EXPECT_TRUE(exited->is_set());
    });
}

TEST(web_protocol, a_handler_over_handler_timeout_is_cancelled_and_answered_503) {
    web::application app;
    auto exited = std::make_shared<bool>(false);
    app.router().add_get("/hang", [exited](web::request&) -> corio::task<web::response> {
        auto record_exit = [exited]() { *exited = true; };
        co_await corio::finally(record_exit);
        co_await corio::sleep(60s);
        co_return web::response::text("never");
    });
    web::server_settings settings;
    settings.handler_timeout = 200ms;
    serve(app, [exited](std::uint16_t port) -> corio::task<> {
        raw_response r = parse_response(co_await exchange(port, "GET /hang HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        EXPECT_EQ(r.status, 503);
        EXPECT_TRUE(*exited);
    }, settings);
}

TEST(web_protocol, wrk_load_gets_no_errors) {
    if (!corio_http_peers::have_program("wrk")) GTEST_SKIP() << "wrk is not installed (scripts/install-deps.sh)";
    web::application app = echo_app();
    serve(app, [](std::uint16_t port) -> corio::task<> {
        // Bounded in time (2 s) and connections (50); every answer must be a 2xx.
        program_result r = co_await run(cmd("wrk", "-t1", "-c50", "-d2s", url(port, "/n/7")), 60000ms);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(r.out.find("requests in"), std::string::npos) << r.out;
        EXPECT_EQ(r.out.find("Socket errors"), std::string::npos) << r.out;
        EXPECT_EQ(r.out.find("Non-2xx"), std::string::npos) << r.out;
        // and the server still answers afterwards
        raw_response after = parse_response(co_await exchange(port, "GET /n/8 HTTP/1.1\r\nConnection: close\r\n\r\n"));
        EXPECT_EQ(after.body, "n=8");
    });
}
