// corio/http/parser.hpp: responses and requests parsed from byte-exact input,
// in one piece and one byte at a time (same result), pipelined, chunked, cut
// short by the peer, and every malformed case the parser owns: bad status
// and request lines, bad headers, oversized lines, fields and heads, bad
// chunked framing, smuggling combinations.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "corio/http/parser.hpp"

namespace http = corio::http;
using kind = http::protocol_error::kind;

namespace {

// One parsed message: its head and body, or the error that stopped it.
template <class Head>
struct parsed {
    Head head;
    std::string body;
    http::body_framing framing;
    bool keep_alive = false;
    bool complete = false;
    std::string error;  // what() of the protocol_error
    kind error_kind{};
};

// Parses every message in `input`, feeding `step` bytes at a time (0: all
// at once), then reports the peer closing when `eof`.
template <class Head>
std::vector<parsed<Head>> parse_all(std::string_view input, std::size_t step, bool eof = true,
                                    http::parser_limits limits = http::parser_limits(), bool head_request = false) {
    std::vector<parsed<Head>> out;
    http::message_parser<Head> p(limits);
    if (head_request) p.skip_body();
    parsed<Head> current;
    std::string unused;  // bytes the parser gave back: the caller keeps them
    std::size_t offset = 0;
    auto take = [&](std::string_view bytes) {
        unused.append(bytes);
        while (!unused.empty()) {
            std::size_t used = p.feed(unused, [&](std::string_view piece) { current.body.append(piece); });
            unused.erase(0, used);
            if (p.done()) {
                current.head = p.head();
                current.framing = p.framing();
                current.keep_alive = p.keep_alive();
                current.complete = true;
                out.push_back(std::move(current));
                current = parsed<Head>();
                p.reset();
                if (head_request) p.skip_body();
                continue;
            }
            if (used == 0) break;
        }
    };
    try {
        while (offset < input.size()) {
            std::size_t n = step == 0 ? input.size() : std::min(step, input.size() - offset);
            take(input.substr(offset, n));
            offset += n;
        }
        if (eof) {
            if (p.finish_on_eof()) {
                current.head = p.head();
                current.framing = p.framing();
                current.complete = true;
                out.push_back(std::move(current));
            }
        }
    } catch (const http::protocol_error& e) {
        current.error = e.what();
        current.error_kind = e.error_kind();
        out.push_back(std::move(current));
    }
    return out;
}

auto parse_responses(std::string_view input, std::size_t step = 0, bool eof = true,
                     http::parser_limits limits = http::parser_limits()) {
    return parse_all<http::response_head>(input, step, eof, limits);
}

auto parse_requests(std::string_view input, std::size_t step = 0, bool eof = true,
                    http::parser_limits limits = http::parser_limits()) {
    return parse_all<http::request_head>(input, step, eof, limits);
}

// The single error of parsing `input` as responses, whole and byte by byte.
void expect_response_error(std::string_view input, kind k, const std::string& what,
                           http::parser_limits limits = http::parser_limits()) {
    for (std::size_t step : {std::size_t(0), std::size_t(1), std::size_t(7)}) {
        auto got = parse_responses(input, step, true, limits);
        ASSERT_FALSE(got.empty());
        if (step > 0 && what.find(" > ") != std::string::npos) {
            // Fed in pieces, a line too long is caught before it ends: the
            // same error, without the final length.
            EXPECT_EQ(got.back().error.substr(0, got.back().error.find('(')), what.substr(0, what.find('(')));
        } else {
            EXPECT_EQ(got.back().error, what) << "step " << step;
        }
        EXPECT_EQ(got.back().error_kind, k) << "step " << step;
    }
}

}  // namespace

TEST(HttpParser, ResponseWithContentLength) {
    std::string wire = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nX-A: 1\r\nx-a: 2\r\n\r\nHello, world!";
    for (std::size_t step : {0, 1, 2, 5}) {
        auto got = parse_responses(wire, step, false);
        ASSERT_EQ(got.size(), 1u) << step;
        const auto& r = got[0];
        EXPECT_TRUE(r.complete);
        EXPECT_EQ(r.head.version, 11);
        EXPECT_EQ(r.head.status, 200);
        EXPECT_EQ(r.head.reason, "OK");
        EXPECT_EQ(r.head.headers.get("content-type"), "text/plain");
        EXPECT_EQ(r.head.headers.get_all("X-A"), (std::vector<std::string_view>{"1", "2"}));
        EXPECT_EQ(r.body, "Hello, world!");
        EXPECT_EQ(r.framing, (http::body_framing{http::body_kind::content_length, 13}));
        EXPECT_TRUE(r.keep_alive);
    }
}

TEST(HttpParser, FeedStopsAtTheEndOfTheHeadThenAtTheEndOfTheMessage) {
    std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 204 No Content\r\n\r\n";
    http::response_parser p;
    std::size_t used = p.feed(wire);
    EXPECT_EQ(used, wire.find("abc"));
    EXPECT_TRUE(p.head_done());
    EXPECT_FALSE(p.done());
    EXPECT_EQ(p.head().headers.get("Content-Length"), "3");
    std::string body;
    used += p.feed(std::string_view(wire).substr(used), [&](std::string_view piece) { body += piece; });
    EXPECT_TRUE(p.done());
    EXPECT_EQ(body, "abc");
    EXPECT_EQ(p.body_size(), 3u);
    EXPECT_EQ(used, wire.find("HTTP/1.1 204"));
    p.reset();
    used += p.feed(std::string_view(wire).substr(used));
    EXPECT_TRUE(p.done());
    EXPECT_EQ(p.head().status, 204);
    EXPECT_EQ(used, wire.size());
    EXPECT_EQ(p.feed("more"), 0u);  // done: takes nothing more until reset
}

TEST(HttpParser, FeedWithoutSinkCollectsTheBody) {
    http::response_parser p;
    std::string_view wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    std::size_t used = p.feed(wire);
    used += p.feed(wire.substr(used));
    EXPECT_TRUE(p.done());
    EXPECT_EQ(p.body(), "abcde");
    EXPECT_EQ(used, wire.size());
}

TEST(HttpParser, ChunkedResponseWithExtensionsAndTrailers) {
    std::string wire =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;name=value\r\nHello\r\n"
        "1A\r\n, this is twenty-six bytes\r\n"
        "0\r\nX-Trailer: t\r\n\r\n";
    for (std::size_t step : {0, 1, 3}) {
        auto got = parse_responses(wire, step, false);
        ASSERT_EQ(got.size(), 1u);
        EXPECT_TRUE(got[0].complete) << got[0].error;
        EXPECT_EQ(got[0].body, "Hello, this is twenty-six bytes");
        EXPECT_EQ(got[0].framing.kind, http::body_kind::chunked);
        // Trailers are not headers (aiohttp ignores them too).
        EXPECT_FALSE(got[0].head.headers.contains("X-Trailer"));
    }
}

TEST(HttpParser, BodyUntilCloseAndHttp10) {
    std::string wire = "HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6\r\n\r\n<html>until the end</html>";
    for (std::size_t step : {0, 1}) {
        auto got = parse_responses(wire, step, true);
        ASSERT_EQ(got.size(), 1u);
        EXPECT_TRUE(got[0].complete) << got[0].error;
        EXPECT_EQ(got[0].head.version, 10);
        EXPECT_EQ(got[0].body, "<html>until the end</html>");
        EXPECT_EQ(got[0].framing.kind, http::body_kind::until_close);
    }
    // Without the close the message is not complete.
    auto open = parse_responses(wire, 0, false);
    EXPECT_TRUE(open.empty());
}

TEST(HttpParser, KeepAliveRules) {
    auto keep = [](std::string wire) {
        http::response_parser p;
        std::size_t used = p.feed(wire);
        p.feed(std::string_view(wire).substr(used));
        EXPECT_TRUE(p.head_done()) << wire;
        return p.keep_alive();
    };
    EXPECT_TRUE(keep("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    EXPECT_FALSE(keep("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
    EXPECT_FALSE(keep("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
    EXPECT_TRUE(keep("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"));
    // A body that ends with the close cannot be followed by anything.
    EXPECT_FALSE(keep("HTTP/1.1 200 OK\r\n\r\n"));
    EXPECT_FALSE(keep("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n"));
    // Requests.
    http::request_parser r;
    r.feed("GET / HTTP/1.0\r\nHost: a\r\n\r\n");
    EXPECT_TRUE(r.done());
    EXPECT_FALSE(r.keep_alive());
    r.reset();
    r.feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_TRUE(r.keep_alive());
    r.reset();
    r.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_TRUE(r.keep_alive());
    r.reset();
    r.feed("GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    EXPECT_FALSE(r.keep_alive());
}

TEST(HttpParser, NoBodyFor1xx204304AndHead) {
    auto got = parse_responses(
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        0, false);
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[0].head.status, 100);
    EXPECT_EQ(got[1].head.status, 204);
    EXPECT_EQ(got[1].body, "");
    EXPECT_EQ(got[2].head.status, 304);
    EXPECT_EQ(got[3].body, "ok");
    // The response to HEAD: its Content-Length describes a body not sent.
    auto head = parse_all<http::response_head>(
        "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 1,
        false, http::parser_limits(), true);
    ASSERT_EQ(head.size(), 2u);
    EXPECT_EQ(head[0].framing.kind, http::body_kind::none);
    EXPECT_EQ(head[0].head.headers.get("Content-Length"), "1000");
    EXPECT_TRUE(head[1].complete);
}

TEST(HttpParser, PipelinedResponsesOneByteAtATimeGiveTheSameResult) {
    std::string wire =
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
        "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nsecond\r\n0\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        "HTTP/1.1 301 Moved Permanently\r\nLocation: /x\r\nContent-Length: 5\r\n\r\nfifth"
        "HTTP/1.0 200 OK\r\n\r\nlast until close";
    auto whole = parse_responses(wire, 0);
    ASSERT_EQ(whole.size(), 5u);
    EXPECT_EQ(whole[0].body, "first");
    EXPECT_EQ(whole[1].head.status, 404);
    EXPECT_EQ(whole[1].body, "second");
    EXPECT_EQ(whole[2].body, "");
    EXPECT_EQ(whole[3].head.headers.get("Location"), "/x");
    EXPECT_EQ(whole[4].body, "last until close");
    for (std::size_t step = 1; step <= 13; ++step) {
        auto pieces = parse_responses(wire, step);
        ASSERT_EQ(pieces.size(), whole.size()) << "step " << step;
        for (std::size_t i = 0; i < whole.size(); ++i) {
            EXPECT_EQ(pieces[i].head.status, whole[i].head.status);
            EXPECT_EQ(pieces[i].head.headers, whole[i].head.headers);
            EXPECT_EQ(pieces[i].body, whole[i].body);
            EXPECT_EQ(pieces[i].framing, whole[i].framing);
            EXPECT_TRUE(pieces[i].complete);
        }
    }
}

TEST(HttpParser, Requests) {
    std::string wire =
        "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"
        "POST /submit HTTP/1.1\r\nHost: example.com\r\nContent-Length: 7\r\n\r\na=1&b=2"
        "PUT /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ndata\r\n0\r\n\r\n";
    for (std::size_t step : {0, 1, 4}) {
        auto got = parse_requests(wire, step);
        ASSERT_EQ(got.size(), 3u) << step;
        EXPECT_EQ(got[0].head.method, "GET");
        EXPECT_EQ(got[0].head.target, "/index.html?q=1");
        EXPECT_EQ(got[0].head.version, 11);
        EXPECT_EQ(got[0].framing.kind, http::body_kind::none);
        EXPECT_EQ(got[1].head.method, "POST");
        EXPECT_EQ(got[1].body, "a=1&b=2");
        EXPECT_EQ(got[2].body, "data");
        EXPECT_EQ(got[2].framing.kind, http::body_kind::chunked);
    }
}

TEST(HttpParser, MalformedStatusLine) {
    expect_response_error("HTTP/1.1 2x0 OK\r\n\r\n", kind::bad_start_line, "malformed status line \"HTTP/1.1 2x0 OK\"");
    expect_response_error("HTTP/2.0 200 OK\r\n\r\n", kind::bad_start_line, "malformed status line \"HTTP/2.0 200 OK\"");
    expect_response_error("ICY 200 OK\r\n\r\n", kind::bad_start_line, "malformed status line \"ICY 200 OK\"");
    expect_response_error("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", kind::bad_start_line,
                          "malformed status line \"HTTP/1.1 200 OK\"");
    expect_response_error(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15), kind::bad_start_line,
                          "malformed status line \"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03\"");
}

TEST(HttpParser, MalformedHeader) {
    expect_response_error("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", kind::bad_header,
                          "malformed header \"No colon here\"");
    expect_response_error("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", kind::bad_header, "malformed header \"Bad Name: x\"");
    expect_response_error("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", kind::bad_header, "malformed header \": empty name\"");
    expect_response_error(std::string("HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n", 30), kind::bad_header,
                          "malformed header \"X-A: a\\x00b\"");
    expect_response_error("HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", kind::bad_header, "malformed header \"X-A: a\"");
}

TEST(HttpParser, OversizedStatusLineFieldAndHead) {
    std::string long_reason(9000, 'r');
    expect_response_error("HTTP/1.1 200 " + long_reason + "\r\n\r\n", kind::line_too_long,
                          "status line too long (9013 > 8190 bytes)");
    std::string field = "X-Big: " + std::string(8993, 'v');  // 9000 bytes
    auto whole = parse_responses("HTTP/1.1 200 OK\r\n" + field + "\r\nContent-Length: 0\r\n\r\n", 0);
    ASSERT_EQ(whole.size(), 1u);
    EXPECT_EQ(whole[0].error, "header field too long (9000 > 8190 bytes)");
    EXPECT_EQ(whole[0].error_kind, kind::field_too_long);
    // Byte by byte it fails as soon as the line passes the limit, not at its end.
    auto pieces = parse_responses("HTTP/1.1 200 OK\r\n" + field, 1, false);
    ASSERT_EQ(pieces.size(), 1u);
    EXPECT_EQ(pieces[0].error, "header field too long (over 8190 bytes)");
    EXPECT_EQ(pieces[0].error_kind, kind::field_too_long);
    // Exactly at the limit is fine.
    std::string at_limit = "X-Big: " + std::string(8190 - 7, 'v');
    auto ok = parse_responses("HTTP/1.1 200 OK\r\n" + at_limit + "\r\nContent-Length: 0\r\n\r\n", 1);
    ASSERT_EQ(ok.size(), 1u);
    EXPECT_TRUE(ok[0].complete) << ok[0].error;
    // Smaller limits, and the whole head.
    http::parser_limits small;
    small.max_line_size = 20;
    small.max_field_size = 10;
    small.max_head_size = 60;
    expect_response_error("HTTP/1.1 200 A long reason\r\n\r\n", kind::line_too_long,
                          "status line too long (26 > 20 bytes)", small);
    expect_response_error("HTTP/1.1 200 OK\r\nX-A: 12345678\r\n\r\n", kind::field_too_long,
                          "header field too long (13 > 10 bytes)", small);
    expect_response_error("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\n\r\n",
                          kind::head_too_large, "head too large (over 60 bytes)", small);
    // A request line: 414 for a server.
    http::request_parser r(small);
    try {
        r.feed("GET /a/very/long/path HTTP/1.1\r\n\r\n");
        FAIL();
    } catch (const http::protocol_error& e) {
        EXPECT_EQ(std::string(e.what()), "request line too long (30 > 20 bytes)");
        EXPECT_EQ(e.status(), 414);
    }
    EXPECT_THROW(r.feed("x"), std::logic_error);  // spent until reset
    r.reset();
    r.feed("GET / HTTP/1.1\r\n\r\n");
    EXPECT_TRUE(r.done());
}

TEST(HttpParser, BadChunkedFraming) {
    std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    expect_response_error(head + "zz\r\nabc\r\n0\r\n\r\n", kind::bad_chunk,
                          "bad chunked framing: invalid chunk size \"zz\"");
    expect_response_error(head + "3\r\nabc\r\nq\r\n", kind::bad_chunk, "bad chunked framing: invalid chunk size \"q\"");
    expect_response_error(head + "3\r\nabcdef\r\n0\r\n\r\n", kind::bad_chunk,
                          "bad chunked framing: missing CRLF after the chunk data");
    expect_response_error(head + "3;\x01\r\nabc\r\n0\r\n\r\n", kind::bad_chunk,
                          "bad chunked framing: malformed chunk extension \"3;\\x01\"");
    expect_response_error(head + "ffffffffffffffffff\r\n", kind::bad_chunk,
                          "bad chunked framing: invalid chunk size \"ffffffffffffffffff\"");
    // Chunk-extension abuse: a chunk header that never ends is bounded.
    expect_response_error(head + "3;" + std::string(10000, 'x'), kind::bad_chunk,
                          "bad chunked framing: chunk header or trailer line too long (over 8190 bytes)");
    expect_response_error(head + "3;" + std::string(10000, 'x') + "\r\nabc\r\n0\r\n\r\n", kind::bad_chunk,
                          "bad chunked framing: chunk header or trailer line too long (over 8190 bytes)");
    // Trailers are bounded as a head is.
    std::string trailers;
    for (int i = 0; i < 10000; ++i) trailers += "X-T: 1\r\n";
    expect_response_error(head + "0\r\n" + trailers + "\r\n", kind::bad_chunk,
                          "bad chunked framing: trailer section too large (over 65536 bytes)");
}

TEST(HttpParser, SmugglingCombinationsAreRefused) {
    expect_response_error("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", kind::bad_framing,
                          "both Transfer-Encoding and Content-Length (request smuggling)");
    expect_response_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", kind::bad_framing,
                          "both Transfer-Encoding and Content-Length (request smuggling)");
    expect_response_error("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", kind::bad_framing,
                          "several differing Content-Length values \"Content-Length: 4\"");
    expect_response_error("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", kind::bad_header,
                          "bad Content-Length \"Content-Length: abc\"");
    // Equal lengths are one length for a response...
    auto same = parse_responses("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", 1);
    ASSERT_EQ(same.size(), 1u);
    EXPECT_EQ(same[0].body, "ok");
    // ...but not for a request, nor a Transfer-Encoding a server cannot frame.
    for (std::string bad : {"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
                            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
                            "POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"}) {
        for (std::size_t step : {0, 1}) {
            auto got = parse_requests(bad, step);
            ASSERT_EQ(got.size(), 1u);
            EXPECT_EQ(got[0].error_kind, kind::bad_framing) << bad << ": " << got[0].error;
        }
    }
}

TEST(HttpParser, PeerClosing) {
    // Nothing yet: a clean close between messages.
    http::response_parser idle;
    EXPECT_FALSE(idle.finish_on_eof());
    expect_response_error("HTTP/1.1 200 OK\r\nContent-Len", kind::incomplete_head,
                          "connection closed inside the head (after 28 bytes of it)");
    expect_response_error("HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n0123456789ab", kind::incomplete_body,
                          "body shorter than its Content-Length (12 of 20 bytes)");
    expect_response_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n3\r\na",
                          kind::incomplete_body, "connection closed inside the chunked body (after 6 bytes of it)");
    // A complete message, then the close: fine.
    http::response_parser p;
    p.feed("HTTP/1.1 204 No Content\r\n\r\n");
    EXPECT_TRUE(p.done());
    EXPECT_TRUE(p.finish_on_eof());
}

TEST(HttpParser, BodyLimit) {
    http::parser_limits limits;
    limits.max_body_size = 4;
    expect_response_error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde", kind::body_too_large,
                          "body too large (over max_body_size, 4 bytes)", limits);
    expect_response_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n",
                          kind::body_too_large, "body too large (over max_body_size, 4 bytes)", limits);
    http::request_parser r(limits);
    try {
        r.feed("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n");
        FAIL();
    } catch (const http::protocol_error& e) {
        EXPECT_EQ(e.status(), 413);
    }
}

TEST(HttpParser, SkipBodyAfterTheFirstByteIsMisuse) {
    http::response_parser p;
    p.feed("H");
    EXPECT_THROW(p.skip_body(), std::logic_error);
}

TEST(HttpParser, ABigBodyGoesToTheSinkInPiecesOfTheCallersBuffer) {
    std::string body(1 << 20, 'b');
    std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    http::response_parser p;
    std::size_t used = p.feed(wire);
    std::size_t pieces = 0;
    const char* first = nullptr;
    used += p.feed(std::string_view(wire).substr(used), [&](std::string_view piece) {
        if (!first) first = piece.data();
        ++pieces;
    });
    EXPECT_TRUE(p.done());
    EXPECT_EQ(pieces, 1u);
    EXPECT_EQ(first, wire.data() + wire.size() - body.size());  // a view of the caller's bytes: no copy
}
