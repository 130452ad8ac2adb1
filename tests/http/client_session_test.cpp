// client_session against real peers corio did not write (nginx, python3's
// http.server and an echo server, a scripted raw-socket peer for malformed
// responses), on both backends: every rule of docs/reference.md's "HTTP
// client", the failures issue 14 lists, and no connection, slot or
// descriptor leaked on any path.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <corio/corio.hpp>
#include <corio/http/client_session.hpp>

#include "../net/net_test_support.hpp"
#include "peers/nginx.hpp"
#include "peers/python_http.hpp"
#include "peers/scripted_peer.hpp"

using namespace std::chrono_literals;
using namespace corio::http;
using corio_net_test::backend_test;
using corio_test::open_fd_count;
namespace peers = corio_http_peers;

namespace {

// One nginx (and its python echo upstream) for the whole suite: starting one
// makes certificates, which takes a while.
peers::nginx_peer* nginx = nullptr;

class client_session_test : public backend_test {
public:
    static void SetUpTestSuite() {
        if (nginx == nullptr) nginx = new peers::nginx_peer();
    }
    static void TearDownTestSuite() {
        delete nginx;
        nginx = nullptr;
    }
};
CORIO_NET_ON_BOTH_BACKENDS(client_session_test);

std::string url(const std::string& path) { return nginx->base_url() + path; }

// The value of a header in the echo peer's JSON description of a request.
std::string echoed_header(const nlohmann::json& echo, std::string_view name) {
    for (const auto& field : echo["headers"])
        if (iequals(field[0].get<std::string>(), name)) return field[1].get<std::string>();
    return "(absent)";
}

session_options trusting_test_ca() {
    session_options o;
    o.tls = corio::tls_context::client();
    o.tls->load_verify_file(nginx->ca_file());
    return o;
}

corio::task<std::string> fetch_text(client_session& session, std::string u) {
    std::string text;
    co_await corio::with(session.get(u), [&](response& r) -> corio::task<> { text = co_await r.text(); });
    co_return text;
}

}  // namespace

// ---------------------------------------------------------------- basics

TEST_P(client_session_test, a_get_gives_status_headers_and_body) {
    const int fds = open_fd_count();
    run([]() -> corio::task<> {
        co_await corio::with(client_session(), [](client_session& session) -> corio::task<> {
            co_await corio::with(session.get(url("/hello.txt")), [](response& r) -> corio::task<> {
                EXPECT_EQ(r.status(), 200);
                EXPECT_EQ(r.reason(), "OK");
                EXPECT_TRUE(r.ok());
                EXPECT_EQ(r.version(), (http_version{1, 1}));
                EXPECT_EQ(r.content_type(), "text/plain");
                EXPECT_EQ(r.url(), url("/hello.txt"));
                EXPECT_TRUE(r.headers().contains("server"));
                EXPECT_EQ(co_await r.text(), "Hello, world!");
            });
        });
    }());
    EXPECT_EQ(open_fd_count(), fds);
}

TEST_P(client_session_test, many_urls_at_once_through_one_session_with_gather) {
    run([]() -> corio::task<> {
        co_await corio::with(client_session(), [](client_session& session) -> corio::task<> {
            std::vector<corio::task<std::string>> fetches;
            for (int i = 0; i < 50; ++i) fetches.push_back(fetch_text(session, url("/hello.txt")));
            std::vector<std::string> pages = co_await corio::gather(std::move(fetches));
            EXPECT_EQ(pages.size(), 50u);
            for (const auto& p : pages) EXPECT_EQ(p, "Hello, world!");
            EXPECT_EQ(session.connections_in_use(), 0u);
            EXPECT_GE(session.connections_idle(), 1u);
        });
    }());
}

TEST_P(client_session_test, a_kept_alive_connection_serves_the_next_request) {
    // Unique URIs per run (the suite shares one nginx and its log).
    static int run_number = 0;
    const std::string tag = std::to_string(++run_number) + "-" + corio::to_string(GetParam());
    const std::string first_uri = "/hello.txt?first-" + tag, second_uri = "/hello.txt?second-" + tag;
    run([&]() -> corio::task<> {
        co_await corio::with(client_session(), [&](client_session& session) -> corio::task<> {
            EXPECT_EQ(co_await fetch_text(session, url(first_uri)), "Hello, world!");
            EXPECT_EQ(session.connections_idle(), 1u);
            EXPECT_EQ(co_await fetch_text(session, url(second_uri)), "Hello, world!");
        });
    }());
    // nginx logs a request after answering it: wait (bounded) for both lines.
    std::uint64_t first = 0, second = 0;
    for (int i = 0; i < 200 && (first == 0 || second == 0); ++i) {
        for (const auto& e : nginx->access_entries()) {
            if (e.uri == first_uri) first = e.connection;
            if (e.uri == second_uri) second = e.connection;
        }
        if (first == 0 || second == 0) std::this_thread::sleep_for(10ms);
    }
    EXPECT_NE(first, 0u);
    EXPECT_EQ(first, second) << "the second request did not reuse the connection";
}

TEST_P(client_session_test, awaited_without_with_the_response_holds_its_connection_until_read) {
    run([]() -> corio::task<> {
        client_session session;
        response r = co_await session.get(url("/big.bin"));
        EXPECT_EQ(session.connections_in_use(), 1u);
        EXPECT_EQ((co_await r.read()).size(), 8u << 20);
        EXPECT_EQ(session.connections_in_use(), 0u);
        EXPECT_EQ(session.connections_idle(), 1u);
        response unread = co_await session.get(url("/big.bin"));
        unread.release();  // body not read: the connection is closed, not pooled
        EXPECT_EQ(session.connections_in_use(), 0u);
        EXPECT_EQ(session.connections_idle(), 0u);
        // A body that came whole with the head frees its connection at once.
        response small = co_await session.get(url("/hello.txt"));
        EXPECT_EQ(session.connections_in_use(), 0u);
        EXPECT_EQ(session.connections_idle(), 1u);
        EXPECT_EQ(co_await small.read(), "Hello, world!");
        co_await session.close();
    }());
}

TEST_P(client_session_test, a_relative_url_is_joined_to_base_url_and_params_are_encoded_in_order) {
    run([]() -> corio::task<> {
        session_options o;
        o.base_url = nginx->base_url() + "/echo/";
        co_await corio::with(client_session(std::move(o)), [](client_session& session) -> corio::task<> {
            request_options ro;
            ro.params = {{"q", "a b&c"}, {"x", "1"}};
            response r = co_await session.get("items?keep=yes", std::move(ro));
            nlohmann::json echo = co_await r.json();
            EXPECT_EQ(echo["path"], "/echo/items");
            EXPECT_EQ(echo["query"], "keep=yes&q=a%20b%26c&x=1");
        });
    }());
}

// ---------------------------------------------------------------- bodies

TEST_P(client_session_test, json_form_bytes_and_streamed_bodies_are_sent_as_aiohttp_sends_them) {
    run([]() -> corio::task<> {
        co_await corio::with(client_session(), [](client_session& session) -> corio::task<> {
            request_options j;
            j.json = nlohmann::json{{"a", 1}, {"b", "x"}};
            nlohmann::json echo = co_await (co_await session.post(url("/echo"), std::move(j))).json();
            EXPECT_EQ(echo["method"], "POST");
            EXPECT_EQ(nlohmann::json::parse(echo["body"].get<std::string>()), (nlohmann::json{{"a", 1}, {"b", "x"}}));
            EXPECT_EQ(echoed_header(echo, "Content-Type"), "application/json");

            request_options f;
            f.form = query_params{{"a", "1"}, {"b", "x y&z"}};
            echo = co_await (co_await session.put(url("/echo"), std::move(f))).json();
            EXPECT_EQ(echo["body"], "a=1&b=x+y%26z");
            EXPECT_EQ(echoed_header(echo, "Content-Type"), "application/x-www-form-urlencoded");

            request_options d;
            d.data = std::string("raw\0bytes", 9);
            echo = co_await (co_await session.patch(url("/echo"), std::move(d))).json();
            EXPECT_EQ(echo["body_base64"], "cmF3AGJ5dGVz");
            EXPECT_EQ(echoed_header(echo, "Content-Length"), "9");

            auto chunks = []() -> corio::async_generator<std::string> {
                for (int i = 0; i < 3; ++i) {
                    co_await corio::sleep(1ms);
                    co_yield "part" + std::to_string(i) + ";";
                }
            };
            request_options s;
            s.body = chunks();
            // Straight to the echo peer: nginx re-chunks what it forwards, so
            // two chunks arriving together would reach the echo as one.
            echo = co_await (co_await session.post(nginx->echo_base_url() + "/echo", std::move(s))).json();
            EXPECT_EQ(echo["body"], "part0;part1;part2;");
            EXPECT_EQ(echo["chunks"], 3);
        });
    }());
}

TEST_P(client_session_test, gzip_and_chunked_bodies_are_decoded) {
    run([]() -> corio::task<> {
        co_await corio::with(client_session(), [](client_session& session) -> corio::task<> {
            response gz = co_await session.get(url("/page.html"));
            EXPECT_EQ(gz.headers().get("Content-Encoding").value_or(""), "gzip");
            EXPECT_EQ(co_await gz.read(), peers::nginx_peer::page_body());
            response chunked = co_await session.get(url("/chunked/hello.txt"));
            EXPECT_FALSE(chunked.content_length().has_value());
            EXPECT_EQ(co_await chunked.read(), "Hello, world!");
        });
        session_options raw;
        raw.auto_decompress = false;
        co_await corio::with(client_session(std::move(raw)), [](client_session& session) -> corio::task<> {
            request_options o;
            o.headers.add("Accept-Encoding", "gzip");
            response gz = co_await session.get(url("/page.html"), std::move(o));
            const std::string body = co_await gz.read();
            EXPECT_EQ(body.substr(0, 2), "\x1f\x8b");  // gzip magic: left as it came
        });
    }());
}

TEST_P(client_session_test, text_converts_a_declared_charset_and_json_checks_the_type) {
    run([]() -> corio::task<> {
        co_await corio::with(client_session(), [](client_session& session) -> corio::task<> {
            response page = co_await session.get(url("/page.html"));
            EXPECT_EQ(page.charset().value_or(""), "iso-8859-1");
            EXPECT_EQ(co_await page.text(), "<html><body>Caf\xc3\xa9 na\xc3\xafve \xc2\xa9 corio</body></html>\n");
            response data = co_await session.get(url("/data.json"));
            nlohmann::json j = co_await data.json();
            EXPECT_EQ(j["n"], 42);
            response text = co_await session.get(url("/hello.txt"));
            EXPECT_THROW((void)co_await text.json(), content_type_error);
        });
    }());
}

TEST_P(client_session_test, a_big_body_streams_through_content_without_being_held_whole) {
    run([]() -> corio::task<> {
        co_await corio::with(client_session(), [](client_session& session) -> corio::task<> {
            response r = co_await session.get(url("/big.bin"));
            EXPECT_EQ(r.content_length().value_or(0), 8u << 20);
            std::string all;
            std::size_t pieces = 0;
            auto chunks = r.content().iter_chunked(100'000);
            while (auto piece = co_await chunks.next()) {
                EXPECT_LE(piece->size(), 100'000u);
                all += *piece;
                ++pieces;
            }
            EXPECT_GE(pieces, 84u);
            EXPECT_EQ(peers::sha256_hex(all), nginx->big_sha256());
            EXPECT_TRUE(r.content().at_eof());
            EXPECT_EQ(session.connections_idle(), 1u);  // read to the end: pooled
        });
    }());
}

TEST_P(client_session_test, readline_and_read_exactly_read_the_stream) {
    run([]() -> corio::task<> {
        co_await corio::with(client_session(), [](client_session& session) -> corio::task<> {
            request_options o;
            o.data = std::string("line one\nline two\nrest");
            response r = co_await session.post(url("/echo"), std::move(o));
            EXPECT_EQ(co_await r.content().read_exactly(1), "{");
            std::string line = co_await r.content().readline();
            EXPECT_EQ(line.back(), '}');  // the echo's JSON is one line without '\n'
            EXPECT_EQ(co_await r.content().readline(), "");
            EXPECT_THROW((void)co_await r.content().read_exactly(1), corio::incomplete_read_error);
        });
    }());
}

// ---------------------------------------------------------------- redirects

TEST_P(client_session_test, redirects_are_followed_with_history_and_the_method_rules) {
    run([]() -> corio::task<> {
        co_await corio::with(client_session(), [](client_session& session) -> corio::task<> {
            for (int code : {301, 302, 303, 307, 308}) {
                response r = co_await session.get(url("/redirect/" + std::to_string(code)));
                EXPECT_EQ(r.status(), 200) << code;
                EXPECT_EQ(r.url(), url("/hello.txt"));
                EXPECT_EQ(r.history().size(), 1u);
                if (r.history().size() == 1) {
                    EXPECT_EQ(r.history()[0].status(), code);
                    EXPECT_EQ(r.history()[0].url(), url("/redirect/" + std::to_string(code)));
                }
                EXPECT_EQ(co_await r.text(), "Hello, world!");
            }
            for (int code : {301, 302, 303}) {  // POST becomes GET without a body
                request_options o;
                o.data = std::string("payload");
                response r = co_await session.post(url("/redirect/" + std::to_string(code)), std::move(o));
                EXPECT_EQ(r.method(), "GET") << code;
                EXPECT_EQ(r.status(), 200);
            }
            for (int code : {307, 308}) {  // the method stays (nginx refuses POST to a file)
                request_options o;
                o.data = std::string("payload");
                response r = co_await session.post(url("/redirect/" + std::to_string(code)), std::move(o));
                EXPECT_EQ(r.method(), "POST") << code;
                EXPECT_EQ(r.status(), 405);
            }
            response chain = co_await session.get(url("/redirect/chain"));
            EXPECT_EQ(chain.history().size(), 2u);
            request_options no_follow;
            no_follow.allow_redirects = false;
            response raw = co_await session.get(url("/redirect/302"), std::move(no_follow));
            EXPECT_EQ(raw.status(), 302);
            EXPECT_TRUE(raw.history().empty());
        });
    }());
}

TEST_P(client_session_test, a_redirect_loop_ends_with_too_many_redirects) {
    run([]() -> corio::task<> {
        co_await corio::with(client_session(), [](client_session& session) -> corio::task<> {
            request_options o;
            o.max_redirects = 3;
            try {
                (void)co_await session.get(url("/loop"), std::move(o));
                ADD_FAILURE() << "no exception";
            } catch (const too_many_redirects& e) {
                EXPECT_NE(std::string(e.what()).find("GET " + url("/loop") + ": more than 3 redirects"), std::string::npos)
                    << e.what();
                EXPECT_GE(e.status(), 300);
            }
            EXPECT_EQ(session.connections_in_use(), 0u);
        });
    }());
}

TEST_P(client_session_test, authorization_is_dropped_when_a_redirect_leaves_the_origin) {
    run([]() -> corio::task<> {
        // Same origin: kept. The scripted peer redirects to itself, then records.
        peers::scripted_peer same({{peers::steps::read_request(),
                                    peers::steps::send("HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n"),
                                    peers::steps::read_request(),
                                    peers::steps::send(peers::http_response(200, "OK", "done"))}});
        // Another origin (the echo peer): dropped.
        const std::string away = "HTTP/1.1 302 Found\r\nLocation: " + nginx->echo_base_url() +
                                 "/echo\r\nContent-Length: 0\r\n\r\n";
        peers::scripted_peer other({{peers::steps::read_request(), peers::steps::send(away), peers::steps::close()}});
        co_await corio::with(client_session(), [&](client_session& session) -> corio::task<> {
            request_options a;
            a.auth = basic_auth{"user", "pass"};
            response r = co_await session.get(same.base_url() + "/start", std::move(a));
            EXPECT_EQ(co_await r.text(), "done");
            const std::string second = same.received(0).substr(same.received(0).find("GET /next"));
            EXPECT_NE(second.find("Authorization: Basic dXNlcjpwYXNz"), std::string::npos) << second;

            request_options b;
            b.auth = basic_auth{"user", "pass"};
            response echoed = co_await session.get(other.base_url() + "/start", std::move(b));
            nlohmann::json echo = co_await echoed.json();
            EXPECT_EQ(echoed_header(echo, "Authorization"), "(absent)");
            EXPECT_NE(other.received(0).find("Authorization: Basic dXNlcjpwYXNz"), std::string::npos);
        });
    }());
}

// ---------------------------------------------------------------- cookies, auth, headers

TEST_P(client_session_test, cookies_set_by_the_server_are_sent_back) {
    run([]() -> corio::task<> {
        co_await corio::with(client_session(), [](client_session& session) -> corio::task<> {
            response set = co_await session.get(url("/set-cookie"));
            (void)co_await set.read();
            EXPECT_GE(session.cookie_jar().size(), 1u);
            response echo = co_await session.get(url("/cookies"));
            const std::string sent = co_await echo.text();
            EXPECT_NE(sent.find("="), std::string::npos) << sent;
            EXPECT_EQ(sent, session.cookie_jar().header_for("127.0.0.1", "/cookies", false));
        });
        session_options off;
        off.cookie_jar = false;
        co_await corio::with(client_session(std::move(off)), [](client_session& session) -> corio::task<> {
            (void)co_await (co_await session.get(url("/set-cookie"))).read();
            EXPECT_EQ(session.cookie_jar().size(), 0u);
        });
    }());
}

TEST_P(client_session_test, headers_user_agent_and_basic_auth_are_sent) {
    run([]() -> corio::task<> {
        session_options so;
        so.headers.add("X-Session", "s");
        so.headers.add("X-Both", "session");
        co_await corio::with(client_session(std::move(so)), [](client_session& session) -> corio::task<> {
            request_options o;
            o.headers.add("X-Both", "request");
            o.auth = basic_auth{"user", "pass"};
            nlohmann::json echo = co_await (co_await session.get(url("/echo"), std::move(o))).json();
            EXPECT_EQ(echoed_header(echo, "X-Session"), "s");
            EXPECT_EQ(echoed_header(echo, "X-Both"), "request");
            EXPECT_EQ(echoed_header(echo, "Authorization"), "Basic dXNlcjpwYXNz");
            EXPECT_EQ(echoed_header(echo, "User-Agent"), "corio/0.1.0");
            EXPECT_EQ(echoed_header(echo, "Accept-Encoding"), "gzip, deflate, br");
        });
    }());
}

TEST_P(client_session_test, raise_for_status_throws_client_response_error) {
    run([]() -> corio::task<> {
        co_await corio::with(client_session(), [](client_session& session) -> corio::task<> {
            response r = co_await session.get(url("/status/404"));
            EXPECT_FALSE(r.ok());
            EXPECT_THROW(r.raise_for_status(), client_response_error);
            request_options o;
            o.raise_for_status = true;
            try {
                (void)co_await session.get(url("/status/500"), std::move(o));
                ADD_FAILURE() << "no exception";
            } catch (const client_response_error& e) {
                EXPECT_EQ(e.status(), 500);
                EXPECT_NE(std::string(e.what()).find("GET " + url("/status/500")), std::string::npos) << e.what();
            }
            EXPECT_EQ(session.connections_in_use(), 0u);
        });
    }());
}

// ---------------------------------------------------------------- HTTPS

TEST_P(client_session_test, https_verifies_the_server_against_the_trusted_cas) {
    run([]() -> corio::task<> {
        co_await corio::with(client_session(trusting_test_ca()), [](client_session& session) -> corio::task<> {
            EXPECT_EQ(co_await fetch_text(session, nginx->tls_base_url() + "/hello.txt"), "Hello, world!");
            EXPECT_EQ(co_await fetch_text(session, nginx->tls_base_url_by_name() + "/hello.txt"), "Hello, world!");
            for (const std::string& bad : {nginx->untrusted_tls_base_url(), nginx->wrong_name_tls_base_url()}) {
                try {
                    (void)co_await session.get(bad + "/hello.txt");
                    ADD_FAILURE() << "no exception for " << bad;
                } catch (const client_connector_certificate_error& e) {
                    EXPECT_NE(std::string(e.what()).find("127.0.0.1"), std::string::npos) << e.what();
                    EXPECT_NE(std::string(e.what()).find("certificate verify failed"), std::string::npos) << e.what();
                }
            }
        });
        // The system's CAs alone do not know the test CA.
        co_await corio::with(client_session(), [](client_session& session) -> corio::task<> {
            EXPECT_THROW((void)co_await session.get(nginx->tls_base_url() + "/hello.txt"),
                         client_connector_certificate_error);
        });
    }());
}

// ---------------------------------------------------------------- HTTP/1.0

TEST_P(client_session_test, an_http_1_0_server_without_keep_alive) {
    peers::python_http_peer python;
    run([&]() -> corio::task<> {
        co_await corio::with(client_session(), [&](client_session& session) -> corio::task<> {
            for (int i = 0; i < 3; ++i) {
                response r = co_await session.get(python.base_url() + "/hello.txt");
                EXPECT_EQ(r.version(), (http_version{1, 0}));
                EXPECT_EQ(co_await r.text(), "Hello, world!");
                EXPECT_EQ(session.connections_idle(), 0u);  // the server closes: never pooled
            }
        });
    }());
}

// ---------------------------------------------------------------- failures

namespace {

// Runs one GET against `peer` and gives what it threw ("" if nothing).
template <class Error>
corio::task<std::string> failure_of(client_session& session, std::string u, bool read_body = true) {
    try {
        response r = co_await session.get(u);
        if (read_body) (void)co_await r.read();
    } catch (const Error& e) {
        co_return std::string(e.what());
    }
    co_return std::string();
}

}  // namespace

TEST_P(client_session_test, malformed_responses_are_client_response_errors_with_status_400) {
    const int fds = open_fd_count();
    run([]() -> corio::task<> {
        co_await corio::with(client_session(), [](client_session& session) -> corio::task<> {
            peers::scripted_peer status_line(peers::canned::malformed_status_line());
            std::string e = co_await failure_of<client_response_error>(session, status_line.base_url() + "/");
            EXPECT_NE(e.find("GET " + status_line.base_url() + "/"), std::string::npos) << e;
            peers::scripted_peer header(peers::canned::malformed_header());
            EXPECT_NE(co_await failure_of<client_response_error>(session, header.base_url() + "/"), "");
            peers::scripted_peer oversized(peers::canned::oversized_header());
            e = co_await failure_of<client_response_error>(session, oversized.base_url() + "/");
            EXPECT_NE(e.find("8190"), std::string::npos) << e;
            EXPECT_EQ(session.connections_in_use() + session.connections_idle(), 0u);
        });
    }());
    EXPECT_EQ(open_fd_count(), fds);
}

TEST_P(client_session_test, bodies_cut_short_or_badly_framed_are_client_payload_errors) {
    const int fds = open_fd_count();
    run([]() -> corio::task<> {
        co_await corio::with(client_session(), [](client_session& session) -> corio::task<> {
            peers::scripted_peer short_body(peers::canned::short_body());
            std::string e = co_await failure_of<client_payload_error>(session, short_body.base_url() + "/");
            EXPECT_NE(e.find("GET " + short_body.base_url() + "/"), std::string::npos) << e;
            peers::scripted_peer mid(peers::canned::close_mid_body());
            EXPECT_NE(co_await failure_of<client_payload_error>(session, mid.base_url() + "/"), "");
            peers::scripted_peer reset(peers::canned::reset_mid_body());
            EXPECT_NE(co_await failure_of<client_payload_error>(session, reset.base_url() + "/"), "");
            peers::scripted_peer chunked(peers::canned::bad_chunked());
            EXPECT_NE(co_await failure_of<client_payload_error>(session, chunked.base_url() + "/"), "");
            EXPECT_EQ(session.connections_in_use() + session.connections_idle(), 0u);
        });
    }());
    EXPECT_EQ(open_fd_count(), fds);
}

TEST_P(client_session_test, a_gzip_bomb_stops_at_max_decompressed_size) {
    run([]() -> corio::task<> {
        session_options o;
        o.max_decompressed_size = 1 << 20;
        co_await corio::with(client_session(std::move(o)), [](client_session& session) -> corio::task<> {
            peers::scripted_peer bomb(peers::canned::gzip_bomb(std::uint64_t(64) << 20));
            const std::string e = co_await failure_of<client_payload_error>(session, bomb.base_url() + "/");
            EXPECT_NE(e.find("1048576"), std::string::npos) << e;
            EXPECT_EQ(session.connections_in_use(), 0u);
        });
    }());
}

TEST_P(client_session_test, refused_connections_and_bad_urls_are_named) {
    run([]() -> corio::task<> {
        co_await corio::with(client_session(), [](client_session& session) -> corio::task<> {
            peers::scripted_peer closed({{peers::steps::close()}});
            const std::string gone = closed.base_url() + "/x";
            closed.stop();  // the port now refuses
            try {
                (void)co_await session.get(gone);
                ADD_FAILURE() << "no exception";
            } catch (const client_connector_error& e) {
                EXPECT_EQ(e.os_error(), ECONNREFUSED);
                EXPECT_NE(std::string(e.what()).find("GET " + gone), std::string::npos) << e.what();
            }
            EXPECT_THROW((void)co_await session.get("ftp://example.com/"), invalid_url);
            EXPECT_THROW((void)co_await session.get("http://exa mple.com:99999/"), invalid_url);
            EXPECT_THROW((void)co_await session.get("/relative/without/base"), invalid_url);
            EXPECT_EQ(session.connections_in_use(), 0u);
        });
    }());
}

TEST_P(client_session_test, a_stalled_server_hits_sock_read_and_total_timeouts_named_in_the_error) {
    run([]() -> corio::task<> {
        session_options o;
        o.timeout.sock_read = 200ms;
        co_await corio::with(client_session(std::move(o)), [](client_session& session) -> corio::task<> {
            peers::scripted_peer before(peers::canned::stall_before_head(5s));
            std::string e = co_await failure_of<corio::timeout_error>(session, before.base_url() + "/");
            EXPECT_NE(e.find("sock_read timeout (200 ms)"), std::string::npos) << e;
            peers::scripted_peer after(peers::canned::stall_after_head(5s));
            e = co_await failure_of<corio::timeout_error>(session, after.base_url() + "/");
            EXPECT_NE(e.find("sock_read timeout (200 ms)"), std::string::npos) << e;
            EXPECT_NE(e.find("GET " + after.base_url() + "/"), std::string::npos) << e;
            request_options total;
            total.timeout = client_timeout{300ms, std::nullopt, std::nullopt, std::nullopt};
            try {
                (void)co_await (co_await session.get(url("/slow?delay=3&stage=head"), std::move(total))).read();
                ADD_FAILURE() << "no exception";
            } catch (const corio::timeout_error& t) {
                EXPECT_NE(std::string(t.what()).find("total timeout (300 ms)"), std::string::npos) << t.what();
            }
            EXPECT_EQ(session.connections_in_use(), 0u);
        });
    }());
}

TEST_P(client_session_test, a_kept_alive_connection_the_server_closed_is_retried_once_for_get) {
    run([]() -> corio::task<> {
        for (auto scripts : {peers::canned::stale_keepalive(), peers::canned::stale_keepalive_reset()}) {
            peers::scripted_peer peer(std::move(scripts));
            co_await corio::with(client_session(), [&](client_session& session) -> corio::task<> {
                EXPECT_EQ(co_await fetch_text(session, peer.base_url() + "/1"), "first");
                co_await corio::sleep(20ms);  // the peer closes (or resets) that connection
                EXPECT_EQ(co_await fetch_text(session, peer.base_url() + "/2"), "second");
                EXPECT_EQ(peer.connection_count(), 2u);
            });
        }
    }());
}

TEST_P(client_session_test, a_request_cancelled_mid_body_leaves_the_pool_consistent) {
    const int fds = open_fd_count();
    run([]() -> corio::task<> {
        co_await corio::with(client_session(), [](client_session& session) -> corio::task<> {
            auto h = corio::spawn([&]() -> corio::task<> {
                response r = co_await session.get(url("/slow?delay=5&stage=body"));
                (void)co_await r.read();
            });
            for (int i = 0; i < 200 && session.connections_in_use() == 0; ++i) co_await corio::sleep(5ms);
            co_await corio::sleep(50ms);
            h.cancel();
            EXPECT_THROW(co_await h, corio::cancelled_error);
            EXPECT_EQ(session.connections_in_use(), 0u);
            EXPECT_EQ(session.connections_idle(), 0u);  // mid-body: closed, never pooled
            EXPECT_EQ(co_await fetch_text(session, url("/hello.txt")), "Hello, world!");
        });
    }());
    EXPECT_EQ(open_fd_count(), fds);
}

TEST_P(client_session_test, the_limit_bounds_connections_in_use) {
    run([]() -> corio::task<> {
        session_options o;
        o.limit = 2;
        co_await corio::with(client_session(std::move(o)), [](client_session& session) -> corio::task<> {
            std::size_t most = 0;
            auto fetch = [&]() -> corio::task<> {
                co_await corio::with(session.get(url("/slow?delay=0.05&stage=body")), [&](response& r) -> corio::task<> {
                    most = std::max(most, session.connections_in_use());
                    (void)co_await r.read();
                });
            };
            std::vector<corio::task<>> all;
            for (int i = 0; i < 6; ++i) all.push_back(fetch());
            co_await corio::gather(std::move(all));
            EXPECT_EQ(most, 2u);
        });
    }());
}

TEST_P(client_session_test, a_closed_session_refuses_requests_and_an_unclosed_one_is_reported_in_debug_mode) {
    run([]() -> corio::task<> {
        client_session session;
        co_await session.close();
        EXPECT_THROW((void)co_await session.get(url("/hello.txt")), client_error);
    }());
    testing::internal::CaptureStderr();
    run([]() -> corio::task<> {
        client_session forgotten;
        (void)co_await (co_await forgotten.get(url("/hello.txt"))).read();
    }(), /*debug=*/true);
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("unclosed client session (made at"), std::string::npos) << err;
    EXPECT_NE(err.find("client_session_test.cpp"), std::string::npos) << err;
}

TEST_P(client_session_test, a_server_that_never_accepts_hits_the_connect_timeout) {
    peers::unaccepting_peer stuck;
    run([&]() -> corio::task<> {
        session_options o;
        o.timeout.connect = 300ms;
        co_await corio::with(client_session(std::move(o)), [&](client_session& session) -> corio::task<> {
            const std::string e = co_await failure_of<corio::timeout_error>(session, stuck.base_url() + "/");
            EXPECT_NE(e.find("connect timeout (300 ms) passed"), std::string::npos) << e;
            EXPECT_NE(e.find("GET " + stuck.base_url() + "/"), std::string::npos) << e;
            EXPECT_EQ(session.connections_in_use(), 0u);
        });
    }());
}

TEST_P(client_session_test, a_name_that_does_not_resolve_is_a_client_connector_error) {
    // No network here: the lookup fails at once or at the resolver's own
    // timeout; the total timeout bounds the test either way.
    run([]() -> corio::task<> {
        session_options o;
        o.timeout.total = 20s;
        co_await corio::with(client_session(std::move(o)), [](client_session& session) -> corio::task<> {
            try {
                (void)co_await session.get("http://no-such-host.invalid/");
                ADD_FAILURE() << "no exception";
            } catch (const client_connector_error& e) {
                EXPECT_NE(std::string(e.what()).find("GET http://no-such-host.invalid/"), std::string::npos) << e.what();
            } catch (const corio::timeout_error& e) {
                ADD_FAILURE() << "the lookup outlasted 20 s: " << e.what();
            }
            EXPECT_EQ(session.connections_in_use(), 0u);
        });
    }());
}

TEST_P(client_session_test, cancellation_at_every_wait_leaves_no_slot_or_connection_behind) {
    const int fds = open_fd_count();
    run([]() -> corio::task<> {
        session_options o;
        o.limit = 1;
        co_await corio::with(client_session(std::move(o)), [](client_session& session) -> corio::task<> {
            // 1. Waiting for a pool slot (the one slot is held).
            response held = co_await session.get(url("/big.bin"));
            auto waiting = corio::spawn([&]() -> corio::task<> { (void)co_await session.get(url("/hello.txt")); });
            co_await corio::sleep(10ms);
            waiting.cancel();
            EXPECT_THROW(co_await waiting, corio::cancelled_error);
            held.release();
            EXPECT_EQ(session.connections_in_use(), 0u);

            // 2. Waiting for the response head (the server stalls before it).
            auto head = corio::spawn([&]() -> corio::task<> {
                (void)co_await session.get(url("/slow?delay=5&stage=head"));
            });
            for (int i = 0; i < 200 && session.connections_in_use() == 0; ++i) co_await corio::sleep(5ms);
            co_await corio::sleep(30ms);
            head.cancel();
            EXPECT_THROW(co_await head, corio::cancelled_error);
            EXPECT_EQ(session.connections_in_use(), 0u);
            EXPECT_EQ(session.connections_idle(), 0u);  // mid-request: closed

            // 3. Inside a with whose body is cancelled while the response is open.
            auto body = corio::spawn([&]() -> corio::task<> {
                co_await corio::with(session.get(url("/big.bin")), [](response& r) -> corio::task<> {
                    (void)co_await r.content().read(1000);
                    co_await corio::sleep(10s);
                });
            });
            for (int i = 0; i < 200 && session.connections_in_use() == 0; ++i) co_await corio::sleep(5ms);
            co_await corio::sleep(20ms);
            body.cancel();
            EXPECT_THROW(co_await body, corio::cancelled_error);
            EXPECT_EQ(session.connections_in_use(), 0u);
            EXPECT_EQ(session.connections_idle(), 0u);

            // The session still works, on its one slot.
            EXPECT_EQ(co_await fetch_text(session, url("/hello.txt")), "Hello, world!");
        });
    }());
    EXPECT_EQ(open_fd_count(), fds);
}

TEST_P(client_session_test, one_connection_attempt_past_sock_connect_is_a_timeout_naming_it) {
    peers::unaccepting_peer stuck;
    run([&]() -> corio::task<> {
        session_options o;
        o.timeout.sock_connect = 300ms;
        co_await corio::with(client_session(std::move(o)), [&](client_session& session) -> corio::task<> {
            const std::string e = co_await failure_of<corio::timeout_error>(session, stuck.base_url() + "/");
            EXPECT_NE(e.find("sock_connect timeout (300 ms) passed"), std::string::npos) << e;
            EXPECT_NE(e.find("GET " + stuck.base_url() + "/"), std::string::npos) << e;
            EXPECT_EQ(session.connections_in_use(), 0u);
        });
    }());
}
