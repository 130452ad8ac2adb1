// web::application and router through a served application: path parts and
// their regexes, 404 and 405 with Allow, HEAD on a GET route, the query,
// middlewares (outermost first), sub-applications, handlers giving a string,
// web exceptions, and a 500 that hides its message.
#include "web_fixture.hpp"

using namespace web_test;

namespace {

corio::task<raw_response> get(std::uint16_t port, std::string target, std::string method = "GET") {
    std::string raw = co_await exchange(port, method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    co_return parse_response(raw);
}

}  // namespace

TEST(web_routing, parts_are_matched_and_percent_decoded) {
    web::application app;
    app.router().add_get("/users/{id}", [](web::request& req) -> corio::task<web::response> {
        co_return web::response::text("user " + std::string(req.match_info("id")));
    });
    app.router().add_get(R"(/files/{name:[a-z]+\.txt})", [](web::request& req) -> corio::task<web::response> {
        co_return web::response::text("file " + std::string(req.match_info("name")));
    });
    serve(app, [](std::uint16_t port) -> corio::task<> {
        raw_response a = co_await get(port, "/users/ada%20l");
        EXPECT_EQ(a.status, 200);
        EXPECT_EQ(a.body, "user ada l");
        raw_response b = co_await get(port, "/files/notes.txt");
        EXPECT_EQ(b.body, "file notes.txt");
        raw_response c = co_await get(port, "/files/NOTES.txt");  // the regex says lower case
        EXPECT_EQ(c.status, 404);
        raw_response d = co_await get(port, "/users/");  // a part matches one character or more
        EXPECT_EQ(d.status, 404);
    });
}

TEST(web_routing, other_method_gets_405_with_allow_and_unknown_path_404) {
    web::application app;
    auto ok = [](web::request&) -> corio::task<web::response> { co_return web::response::text("ok"); };
    app.router().add_get("/thing", ok);
    app.router().add_post("/thing", ok);
    serve(app, [](std::uint16_t port) -> corio::task<> {
        raw_response r = co_await get(port, "/thing", "DELETE");
        EXPECT_EQ(r.status, 405);
        EXPECT_TRUE(r.header("Allow: GET, HEAD, POST")) << r.head;
        raw_response missing = co_await get(port, "/nothing");
        EXPECT_EQ(missing.status, 404);
        EXPECT_EQ(missing.body, "404: Not Found");
    });
}

TEST(web_routing, head_on_a_get_route_has_the_length_and_no_body) {
    web::application app;
    app.router().add_get("/", [](web::request&) -> corio::task<web::response> { co_return web::response::text("Hello, world!"); });
    serve(app, [](std::uint16_t port) -> corio::task<> {
        std::string raw = co_await exchange(port, "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        EXPECT_NE(raw.find("Content-Length: 13\r\n"), std::string::npos) << raw;
        EXPECT_TRUE(raw.ends_with("\r\n\r\n")) << raw;  // nothing after the head
    });
}

TEST(web_routing, query_keeps_order_and_repeats) {
    web::application app;
    app.router().add_get("/q", [](web::request& req) -> corio::task<web::response> {
        std::string out(req.query().get("name").value_or("-"));
        for (std::string_view tag : req.query().get_all("tag")) (out += ",") += tag;
        out += req.query().contains("flag") ? " flag" : " noflag";
        co_return web::response::text(out);
    });
    serve(app, [](std::uint16_t port) -> corio::task<> {
        raw_response r = co_await get(port, "/q?tag=a&name=J%C3%BCrgen+K&tag=b%26c&flag");
        EXPECT_EQ(r.body, "Jürgen K,a,b&c flag");
    });
}

TEST(web_routing, middlewares_run_outermost_first_and_see_404s) {
    web::application app;
    auto trace = std::make_shared<std::string>();
    app.middlewares().push_back([trace](web::request& req, web::handler next) -> corio::task<web::response> {
        *trace += "a<";
        web::response r = co_await next(req);
        *trace += ">a";
        r.headers().set("X-Outer", "yes");
        co_return r;
    });
    app.middlewares().push_back([trace](web::request& req, web::handler next) -> corio::task<web::response> {
        *trace += "b<";
        try {
            web::response r = co_await next(req);
            *trace += ">b";
            co_return r;
        } catch (const web::http_not_found&) {
            *trace += "404";
        }
        co_return web::response::text("custom not found", 404);
    });
    app.router().add_get("/", [trace](web::request&) -> corio::task<web::response> {
        *trace += "h";
        co_return web::response::text("x");
    });
    serve(app, [trace](std::uint16_t port) -> corio::task<> {
        raw_response r = co_await get(port, "/");
        EXPECT_EQ(*trace, "a<b<h>b>a");
        EXPECT_TRUE(r.header("X-Outer: yes"));
        trace->clear();
        raw_response missing = co_await get(port, "/missing");
        EXPECT_EQ(missing.status, 404);
        EXPECT_EQ(missing.body, "custom not found");
        EXPECT_EQ(*trace, "a<b<404>a");
    });
}

TEST(web_routing, subapp_answers_under_its_prefix_behind_parent_middlewares) {
    web::application app;
    auto trace = std::make_shared<std::string>();
    app.middlewares().push_back([trace](web::request& req, web::handler next) -> corio::task<web::response> {
        *trace += "parent ";
        co_return co_await next(req);
    });
    web::application api;
    api.middlewares().push_back([trace](web::request& req, web::handler next) -> corio::task<web::response> {
        *trace += "sub ";
        co_return co_await next(req);
    });
    api.router().add_get("/items/{id}", [](web::request& req) -> corio::task<web::response> {
        co_return web::json_response({{"id", std::string(req.match_info("id"))}});
    });
    app.add_subapp("/api", std::move(api));
    serve(app, [trace](std::uint16_t port) -> corio::task<> {
        raw_response r = co_await get(port, "/api/items/7");
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, R"({"id":"7"})");
        EXPECT_TRUE(r.header("Content-Type: application/json; charset=utf-8"));
        EXPECT_EQ(*trace, "parent sub ");
        raw_response outside = co_await get(port, "/items/7");
        EXPECT_EQ(outside.status, 404);
    });
}

TEST(web_routing, a_string_handler_answers_text_plain) {
    web::application app;
    app.router().add_get("/", [](web::request&) -> corio::task<std::string> { co_return "Hello from Quart style"; });
    serve(app, [](std::uint16_t port) -> corio::task<> {
        raw_response r = co_await get(port, "/");
        EXPECT_EQ(r.body, "Hello from Quart style");
        EXPECT_TRUE(r.header("Content-Type: text/plain; charset=utf-8"));
    });
}

TEST(web_routing, web_exceptions_become_their_status) {
    web::application app;
    app.router().add_get("/found", [](web::request&) -> corio::task<web::response> { throw web::http_found("/elsewhere"); });
    app.router().add_get("/bad", [](web::request&) -> corio::task<web::response> { throw web::http_bad_request("id must be a number"); });
    app.router().add_get("/gone", [](web::request&) -> corio::task<web::response> { throw web::http_gone(); });
    serve(app, [](std::uint16_t port) -> corio::task<> {
        raw_response found = co_await get(port, "/found");
        EXPECT_EQ(found.status, 302);
        EXPECT_TRUE(found.header("Location: /elsewhere")) << found.head;
        raw_response bad = co_await get(port, "/bad");
        EXPECT_EQ(bad.status, 400);
        EXPECT_EQ(bad.body, "id must be a number");
        raw_response gone = co_await get(port, "/gone");
        EXPECT_EQ(gone.status, 410);
        EXPECT_EQ(gone.body, "410: Gone");
    });
}

TEST(web_routing, other_exceptions_are_500_without_their_message) {
    web::application app;
    app.router().add_get("/", [](web::request&) -> corio::task<web::response> {
        throw std::runtime_error("secret database password in a message");
    });
    // A header value with CR LF set by a handler is refused where it is set: a 500, the header never sent.
    app.router().add_get("/smuggle", [](web::request&) -> corio::task<web::response> {
        web::response r = web::response::text("x");
        r.headers().add("X-Evil", "a\r\nSet-Cookie: stolen=1");
        co_return r;
    });
    serve(app, [](std::uint16_t port) -> corio::task<> {
        raw_response r = co_await get(port, "/");
        EXPECT_EQ(r.status, 500);
        EXPECT_EQ(r.body.find("secret"), std::string::npos);
        raw_response s = co_await get(port, "/smuggle");
        EXPECT_EQ(s.status, 500);
        EXPECT_EQ(s.head.find("stolen"), std::string::npos);
        // The server goes on serving.
        raw_response again = co_await get(port, "/");
        EXPECT_EQ(again.status, 500);
    });
}

TEST(web_routing, bad_patterns_are_refused_when_added) {
    web::application app;
    auto h = [](web::request&) -> corio::task<web::response> { co_return web::response(); };
    EXPECT_THROW(app.router().add_get("no-slash", h), std::invalid_argument);
    EXPECT_THROW(app.router().add_get("/{1x}", h), std::invalid_argument);
    EXPECT_THROW(app.router().add_get("/{a}/{a}", h), std::invalid_argument);
    EXPECT_THROW(app.router().add_get("/{a:[}", h), std::invalid_argument);
    EXPECT_THROW(app.router().add_route("BAD METHOD", "/", h), std::invalid_argument);
    try {
        app.router().add_get("/{a", h);
        ADD_FAILURE();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("/{a"), std::string::npos) << e.what();
    }
}

TEST(web_routing, request_state_and_app_state) {
    web::application app;
    app.state<int>("answer") = 42;
    app.middlewares().push_back([](web::request& req, web::handler next) -> corio::task<web::response> {
        req.state<std::string>("user") = "ada";
        co_return co_await next(req);
    });
    app.router().add_get("/", [](web::request& req) -> corio::task<web::response> {
        EXPECT_THROW(req.state<int>("user"), std::logic_error);
        co_return web::response::text(req.state<std::string>("user") + " " + std::to_string(req.app().state<int>("answer")));
    });
    serve(app, [](std::uint16_t port) -> corio::task<> {
        raw_response r = co_await get(port, "/");
        EXPECT_EQ(r.body, "ada 42");
    });
}

TEST(web_routing, cookies_are_read_and_set) {
    web::application app;
    app.router().add_get("/", [](web::request& req) -> corio::task<web::response> {
        web::response r = web::response::text(std::string(req.cookies().get("session").value_or("none")) + " " +
                                              std::string(req.cookies().get("theme").value_or("none")));
        web::cookie_options o;
        o.httponly = true;
        o.max_age = std::chrono::seconds(60);
        o.samesite = "Lax";
        r.set_cookie("session", "abc123", o);
        r.set_cookie("note", "a b;c");  // quoted: a space and ';' cannot go bare
        r.del_cookie("theme");
        EXPECT_THROW(r.set_cookie("bad name", "x"), std::invalid_argument);
        EXPECT_THROW(r.set_cookie("ok", "line\nbreak"), std::invalid_argument);
        co_return r;
    });
    serve(app, [](std::uint16_t port) -> corio::task<> {
        raw_response r = parse_response(co_await exchange(
            port, "GET / HTTP/1.1\r\nHost: x\r\nCookie: session=old; theme=\"dark\"\r\nConnection: close\r\n\r\n"));
        EXPECT_EQ(r.body, "old dark");
        EXPECT_TRUE(r.header("Set-Cookie: session=abc123; Max-Age=60; Path=/; SameSite=Lax; HttpOnly")) << r.head;
        EXPECT_TRUE(r.header("Set-Cookie: note=\"a b;c\"; Path=/")) << r.head;
        EXPECT_NE(r.head.find("Set-Cookie: theme=; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"), std::string::npos)
            << r.head;
    });
}
