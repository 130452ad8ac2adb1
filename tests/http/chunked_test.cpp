// corio/http/chunked.hpp: chunks written byte for byte, and read back by the
// parser to the same body.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "corio/http/chunked.hpp"
#include "corio/http/parser.hpp"

namespace http = corio::http;

TEST(HttpChunked, WritesChunksByteForByte) {
    std::string out = "HEAD";
    http::append_chunk(out, "Hello");
    http::append_chunk(out, "");  // nothing: an empty chunk would end the body
    http::append_chunk(out, std::string(26, 'x'));
    http::append_last_chunk(out);
    EXPECT_EQ(out, "HEAD5\r\nHello\r\n1a\r\n" + std::string(26, 'x') + "\r\n0\r\n\r\n");
    EXPECT_EQ(http::chunk_header(0).view(), "0\r\n");
    EXPECT_EQ(http::chunk_header(255).view(), "ff\r\n");
    EXPECT_EQ(http::chunk_header(0x10000).view(), "10000\r\n");
    EXPECT_EQ(http::chunk_header(SIZE_MAX).view(), "ffffffffffffffff\r\n");
}

TEST(HttpChunked, Trailers) {
    std::string out;
    http::append_last_chunk(out, {{"X-Checksum", "abc"}, {"X-Count", "2"}});
    EXPECT_EQ(out, "0\r\nX-Checksum: abc\r\nX-Count: 2\r\n\r\n");
}

TEST(HttpChunked, TheParserReadsBackWhatWasWritten) {
    std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    std::string body;
    for (int i = 0; i < 300; ++i) {
        std::string piece(static_cast<std::size_t>(i * 7 % 301), static_cast<char>('a' + i % 26));
        body += piece;
        http::append_chunk(wire, piece);
    }
    http::append_last_chunk(wire, {{"X-T", "1"}});
    for (std::size_t step : {std::size_t(1), std::size_t(100), wire.size()}) {
        http::response_parser p;
        std::string got;
        for (std::size_t offset = 0; offset < wire.size();) {
            std::string_view piece = std::string_view(wire).substr(offset, step);
            std::size_t used = p.feed(piece, [&](std::string_view b) { got += b; });
            if (used < piece.size() && !p.done()) {
                // the head ended inside this piece: feed the rest
                offset += used;
                continue;
            }
            offset += used;
        }
        EXPECT_TRUE(p.done());
        EXPECT_EQ(got, body);
    }
}
