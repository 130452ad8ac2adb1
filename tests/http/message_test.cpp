// corio/http/message.hpp: heads written byte for byte, keep-alive by HTTP/1.0
// and HTTP/1.1 rules, and body framing per RFC 9112 6.3, including the
// combinations request smuggling is made of.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "corio/http/message.hpp"

namespace http = corio::http;
using http::body_framing;
using http::body_kind;

TEST(HttpMessage, SerializeRequestHead) {
    http::request_head head{"POST", "/submit?a=1", 11, {{"Host", "example.com"}, {"Content-Length", "3"}}};
    std::string out = "previous";
    http::serialize(head, out);
    EXPECT_EQ(out, "previousPOST /submit?a=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\n\r\n");
    http::request_head old{"GET", "/", 10, {}};
    EXPECT_EQ(http::serialize(old), "GET / HTTP/1.0\r\n\r\n");
}

TEST(HttpMessage, SerializeResponseHead) {
    http::response_head head{11, 404, "", {{"Content-Length", "0"}}};
    EXPECT_EQ(http::serialize(head), "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    head.reason = "Nope";
    EXPECT_EQ(http::serialize(head), "HTTP/1.1 404 Nope\r\nContent-Length: 0\r\n\r\n");
    http::response_head odd{10, 299, "", {}};
    EXPECT_EQ(http::serialize(odd), "HTTP/1.0 299 \r\n\r\n");
}

TEST(HttpMessage, SerializeRefusesWhatWouldBreakTheLine) {
    EXPECT_THROW(http::serialize(http::request_head{"GE T", "/", 11, {}}), std::invalid_argument);
    EXPECT_THROW(http::serialize(http::request_head{"GET", "/a b", 11, {}}), std::invalid_argument);
    EXPECT_THROW(http::serialize(http::request_head{"GET", "/\r\nX: 1", 11, {}}), std::invalid_argument);
    EXPECT_THROW(http::serialize(http::request_head{"GET", "", 11, {}}), std::invalid_argument);
    EXPECT_THROW(http::serialize(http::request_head{"GET", "/", 20, {}}), std::invalid_argument);
    EXPECT_THROW(http::serialize(http::response_head{11, 99, "", {}}), std::invalid_argument);
    EXPECT_THROW(http::serialize(http::response_head{11, 1000, "", {}}), std::invalid_argument);
    EXPECT_THROW(http::serialize(http::response_head{11, 200, "OK\r\nX: 1", {}}), std::invalid_argument);
    try {
        http::serialize(http::request_head{"GET", "/", 9, {}});
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()), "http::serialize version 9: corio writes HTTP/1.0 (10) and HTTP/1.1 (11) only");
    }
}

TEST(HttpMessage, KeepAliveHttp11DefaultsToOpen) {
    EXPECT_TRUE(http::keep_alive(http::response_head{11, 200, "OK", {}}));
    EXPECT_FALSE(http::keep_alive(http::response_head{11, 200, "OK", {{"Connection", "close"}}}));
    EXPECT_FALSE(http::keep_alive(http::response_head{11, 200, "OK", {{"connection", "CLOSE"}}}));
    EXPECT_FALSE(http::keep_alive(http::response_head{11, 200, "OK", {{"Connection", "Upgrade, close"}}}));
    EXPECT_TRUE(http::keep_alive(http::response_head{11, 200, "OK", {{"Connection", "keep-alive"}}}));
    EXPECT_TRUE(http::keep_alive(http::request_head{"GET", "/", 11, {}}));
    EXPECT_FALSE(http::keep_alive(http::request_head{"GET", "/", 11, {{"Connection", "close"}}}));
}

TEST(HttpMessage, KeepAliveHttp10OnlyWhenAsked) {
    EXPECT_FALSE(http::keep_alive(http::response_head{10, 200, "OK", {}}));
    EXPECT_TRUE(http::keep_alive(http::response_head{10, 200, "OK", {{"Connection", "Keep-Alive"}}}));
    EXPECT_FALSE(http::keep_alive(http::response_head{10, 200, "OK", {{"Connection", "keep-alive, close"}}}));
    EXPECT_FALSE(http::keep_alive(http::request_head{"GET", "/", 10, {}}));
    EXPECT_TRUE(http::keep_alive(http::request_head{"GET", "/", 10, {{"Connection", "keep-alive"}}}));
    // "close" in a second Connection field still wins.
    EXPECT_FALSE(http::keep_alive(
        http::request_head{"GET", "/", 10, {{"Connection", "keep-alive"}, {"Connection", "close"}}}));
}

TEST(HttpMessage, ResponseFraming) {
    auto framing = [](int status, http::headers h, std::string_view method = "GET") {
        return http::response_framing(http::response_head{11, status, "", std::move(h)}, method);
    };
    EXPECT_EQ(framing(200, {{"Content-Length", "20"}}), (body_framing{body_kind::content_length, 20}));
    EXPECT_EQ(framing(200, {{"Content-Length", "0"}}), (body_framing{body_kind::content_length, 0}));
    EXPECT_EQ(framing(200, {{"Transfer-Encoding", "chunked"}}), (body_framing{body_kind::chunked, 0}));
    EXPECT_EQ(framing(200, {{"Transfer-Encoding", "gzip, chunked"}}), (body_framing{body_kind::chunked, 0}));
    // Codings that do not end in chunked: the body ends with the connection.
    EXPECT_EQ(framing(200, {{"Transfer-Encoding", "chunked, gzip"}}), (body_framing{body_kind::until_close, 0}));
    EXPECT_EQ(framing(200, {}), (body_framing{body_kind::until_close, 0}));
    // No body whatever the fields say.
    EXPECT_EQ(framing(200, {{"Content-Length", "20"}}, "HEAD"), body_framing{});
    EXPECT_EQ(framing(100, {}), body_framing{});
    EXPECT_EQ(framing(101, {}), body_framing{});
    EXPECT_EQ(framing(204, {{"Content-Length", "5"}}), body_framing{});
    EXPECT_EQ(framing(304, {{"Transfer-Encoding", "chunked"}}), body_framing{});
    EXPECT_EQ(framing(200, {}, "CONNECT"), body_framing{});
    // Equal repeated lengths are one length (RFC 9110 8.6) for a response.
    EXPECT_EQ(framing(200, {{"Content-Length", "7"}, {"Content-Length", "7"}}),
              (body_framing{body_kind::content_length, 7}));
    EXPECT_EQ(framing(200, {{"Content-Length", "7, 7"}}), (body_framing{body_kind::content_length, 7}));
}

TEST(HttpMessage, ResponseFramingRefusesSmuggling) {
    auto framing = [](http::headers h) { return http::response_framing(http::response_head{11, 200, "", std::move(h)}); };
    auto expect_error = [&](http::headers h, http::protocol_error::kind kind, std::string what) {
        try {
            framing(std::move(h));
            ADD_FAILURE() << "accepted: " << what;
        } catch (const http::protocol_error& e) {
            EXPECT_EQ(e.error_kind(), kind);
            EXPECT_EQ(std::string(e.what()), what);
        }
    };
    expect_error({{"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}}, http::protocol_error::kind::bad_framing,
                 "both Transfer-Encoding and Content-Length (request smuggling)");
    expect_error({{"Content-Length", "5"}, {"Content-Length", "6"}}, http::protocol_error::kind::bad_framing,
                 "several differing Content-Length values (5 and 6)");
    expect_error({{"Content-Length", "5, 6"}}, http::protocol_error::kind::bad_framing,
                 "several differing Content-Length values (5 and 6)");
    expect_error({{"Content-Length", "-1"}}, http::protocol_error::kind::bad_header,
                 "bad Content-Length \"-1\" (not a decimal number)");
    expect_error({{"Content-Length", "+5"}}, http::protocol_error::kind::bad_header,
                 "bad Content-Length \"+5\" (not a decimal number)");
    expect_error({{"Content-Length", "0x10"}}, http::protocol_error::kind::bad_header,
                 "bad Content-Length \"0x10\" (not a decimal number)");
    expect_error({{"Content-Length", ""}}, http::protocol_error::kind::bad_header,
                 "bad Content-Length \"\" (not a decimal number)");
    expect_error({{"Content-Length", "5,"}}, http::protocol_error::kind::bad_header,
                 "bad Content-Length \"5,\" (not a decimal number)");
    expect_error({{"Content-Length", "99999999999999999999999"}}, http::protocol_error::kind::bad_header,
                 "bad Content-Length \"99999999999999999999999\" (not a decimal number)");
    expect_error({{"Transfer-Encoding", "chunked\xff"}}, http::protocol_error::kind::bad_header,
                 "bad Transfer-Encoding \"chunked\\xff\" (not a list of codings)");
    expect_error({{"Transfer-Encoding", "chunked;x=1"}}, http::protocol_error::kind::bad_header,
                 "bad Transfer-Encoding \"chunked;x=1\" (not a list of codings)");
    expect_error({{"Transfer-Encoding", "gzip;q=1, chunked"}}, http::protocol_error::kind::bad_header,
                 "bad Transfer-Encoding \"gzip;q=1, chunked\" (not a list of codings)");
    // Even on a 204: a peer that sends both is not trusted with the connection.
    EXPECT_THROW(http::response_framing(http::response_head{
                     11, 204, "", {{"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}}}),
                 http::protocol_error);
}

TEST(HttpMessage, RequestFraming) {
    auto framing = [](http::headers h) { return http::request_framing(http::request_head{"POST", "/", 11, std::move(h)}); };
    EXPECT_EQ(framing({}), body_framing{});
    EXPECT_EQ(framing({{"Content-Length", "12"}}), (body_framing{body_kind::content_length, 12}));
    EXPECT_EQ(framing({{"Transfer-Encoding", "chunked"}}), (body_framing{body_kind::chunked, 0}));
    // A server cannot know where a request ends otherwise: refused (RFC 9112 6.3).
    EXPECT_THROW(framing({{"Transfer-Encoding", "gzip"}}), http::protocol_error);
    EXPECT_THROW(framing({{"Transfer-Encoding", "chunked, chunked"}}), http::protocol_error);
    EXPECT_THROW(framing({{"Transfer-Encoding", "chunked"}, {"Content-Length", "3"}}), http::protocol_error);
    // Several lengths in a request, even equal: refused as aiohttp.web and nginx do.
    try {
        framing({{"Content-Length", "3"}, {"Content-Length", "3"}});
        FAIL();
    } catch (const http::protocol_error& e) {
        EXPECT_EQ(e.error_kind(), http::protocol_error::kind::bad_framing);
        EXPECT_EQ(e.status(), 400);
        EXPECT_EQ(std::string(e.what()), "several Content-Length values in a request (request smuggling)");
    }
    EXPECT_THROW(framing({{"Content-Length", "3, 3"}}), http::protocol_error);
}

TEST(HttpMessage, ListElementsAndReasonPhrases) {
    std::vector<std::string> seen;
    http::for_each_list_element(" gzip ,, chunked\t,", [&](std::string_view e) { seen.emplace_back(e); });
    EXPECT_EQ(seen, (std::vector<std::string>{"gzip", "chunked"}));
    EXPECT_EQ(http::reason_phrase(200), "OK");
    EXPECT_EQ(http::reason_phrase(431), "Request Header Fields Too Large");
    EXPECT_EQ(http::reason_phrase(299), "");
}
