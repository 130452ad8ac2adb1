// corio/http/content_decoder.hpp: gzip, deflate (zlib-wrapped and raw), br and
// lists of codings decoded whole and a byte at a time; a gzip bomb and a
// brotli bomb stopped at the limit; bad, truncated and overlong data named by
// coding.
#include <brotli/encode.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "corio/http/content_decoder.hpp"

namespace http = corio::http;
using kind = http::protocol_error::kind;

namespace {

// window_bits: 16+15 gzip, 15 zlib, -15 raw deflate.
std::string deflate_with(std::string_view data, int window_bits) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&z, data.size()) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::string gzip(std::string_view data) { return deflate_with(data, 16 + 15); }

std::string brotli(std::string_view data) {
    std::size_t size = BrotliEncoderMaxCompressedSize(data.size()) + 64;
    std::string out(size, '\0');
    EXPECT_TRUE(BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, data.size(),
                                      reinterpret_cast<const std::uint8_t*>(data.data()), &size,
                                      reinterpret_cast<std::uint8_t*>(out.data())));
    out.resize(size);
    return out;
}

std::string sample() {
    std::string s;
    for (int i = 0; i < 5000; ++i) s += "line " + std::to_string(i) + " of a body that compresses well\n";
    return s;
}

std::string decode(std::string_view encoding, std::string_view wire, std::size_t step = 0,
                   std::uint64_t limit = http::content_decoder::default_max_decompressed_size) {
    http::content_decoder d(encoding, limit);
    std::string out;
    if (step == 0) {
        d.decode(wire, out);
    } else {
        for (std::size_t i = 0; i < wire.size(); i += step) d.decode(wire.substr(i, step), out);
    }
    d.finish();
    EXPECT_EQ(d.decoded_size(), out.size());
    return out;
}

void expect_error(std::string_view encoding, std::string_view wire, kind k, const std::string& what,
                  std::uint64_t limit = http::content_decoder::default_max_decompressed_size) {
    for (std::size_t step : {std::size_t(0), std::size_t(1), std::size_t(1000)}) {
        try {
            decode(encoding, wire, step, limit);
            ADD_FAILURE() << "no error for " << what;
        } catch (const http::protocol_error& e) {
            EXPECT_EQ(std::string(e.what()), what) << "step " << step;
            EXPECT_EQ(e.error_kind(), k);
            EXPECT_TRUE(e.in_body());
        }
    }
}

}  // namespace

TEST(HttpContentDecoder, EachCodingWholeAndByteByByte) {
    std::string text = sample();
    struct {
        std::string encoding, wire;
    } cases[] = {
        {"gzip", gzip(text)},
        {"x-gzip", gzip(text)},
        {"deflate", deflate_with(text, 15)},   // zlib-wrapped, as RFC 9110 says
        {"deflate", deflate_with(text, -15)},  // raw, as some servers send it
        {"br", brotli(text)},
        {"GZIP", gzip(text)},
        {"identity", text},
        {"", text},
        {"gzip, br", brotli(gzip(text))},  // applied in order: undone br first
        {"deflate, identity, gzip", gzip(deflate_with(text, 15))},
    };
    for (const auto& c : cases) {
        for (std::size_t step : {0, 1, 7, 4096}) {
            EXPECT_EQ(decode(c.encoding, c.wire, step), text) << c.encoding << " step " << step;
        }
    }
    EXPECT_TRUE(http::content_decoder("identity").identity());
    EXPECT_FALSE(http::content_decoder("gzip").identity());
}

TEST(HttpContentDecoder, SeveralGzipMembers) {
    EXPECT_EQ(decode("gzip", gzip("first ") + gzip("second")), "first second");
}

TEST(HttpContentDecoder, EmptyBodyIsFine) {
    for (const char* encoding : {"gzip", "deflate", "br", "gzip, br"}) EXPECT_EQ(decode(encoding, ""), "");
}

TEST(HttpContentDecoder, UnknownCodingsAreRefused) {
    EXPECT_TRUE(http::content_decoder::supported("gzip, br"));
    EXPECT_TRUE(http::content_decoder::supported(""));
    EXPECT_FALSE(http::content_decoder::supported("gzip, zstd"));
    try {
        http::content_decoder d("compress");
        FAIL();
    } catch (const http::protocol_error& e) {
        EXPECT_EQ(std::string(e.what()), "unsupported Content-Encoding 'compress'");
        EXPECT_EQ(e.error_kind(), kind::bad_encoding);
    }
}

TEST(HttpContentDecoder, GzipBombIsStoppedAtTheLimit) {
    std::string zeros(64 << 20, '\0');  // 64 MiB of zeros: about 64 KiB of gzip
    std::string bomb = gzip(zeros);
    ASSERT_LT(bomb.size(), 100u << 10);
    zeros.clear();
    zeros.shrink_to_fit();
    constexpr std::uint64_t limit = 1 << 20;
    http::content_decoder d("gzip", limit);
    std::string out;
    try {
        d.decode(bomb, out);
        FAIL();
    } catch (const http::protocol_error& e) {
        EXPECT_EQ(std::string(e.what()), "gzip: decoded body larger than max_decompressed_size (1048576 bytes)");
        EXPECT_EQ(e.error_kind(), kind::decoded_too_large);
    }
    EXPECT_LE(out.size(), limit + 1);  // never more than the limit in memory
    expect_error("br", brotli(std::string(4 << 20, 'a')), kind::decoded_too_large,
                 "br: decoded body larger than max_decompressed_size (1048576 bytes)", limit);
    // Exactly at the limit is fine.
    EXPECT_EQ(decode("gzip", gzip(std::string(1000, 'x')), 0, 1000).size(), 1000u);
    expect_error("gzip", gzip(std::string(1001, 'x')), kind::decoded_too_large,
                 "gzip: decoded body larger than max_decompressed_size (1000 bytes)", 1000);
}

TEST(HttpContentDecoder, BadDataIsNamedByCoding) {
    expect_error("gzip", "this is not gzip at all", kind::bad_encoding,
                 "gzip: bad compressed data (incorrect header check)");
    std::string corrupt = gzip(sample());
    corrupt[corrupt.size() - 6] ^= 0x55;  // in the CRC-32 of the trailer
    expect_error("gzip", corrupt, kind::bad_encoding, "gzip: bad compressed data (incorrect data check)");
    expect_error("br", "\xff\xff\xff\xff not brotli", kind::bad_encoding,
                 "br: bad compressed data (PADDING_2)");
    std::string text = sample();
    std::string cut = gzip(text);
    cut.resize(cut.size() - 10);
    expect_error("gzip", cut, kind::bad_encoding, "gzip: truncated data (the compressed stream did not end)");
    std::string cut_br = brotli(text);
    cut_br.resize(cut_br.size() / 2);
    expect_error("br", cut_br, kind::bad_encoding, "br: truncated data (the compressed stream did not end)");
    expect_error("deflate", "x", kind::bad_encoding, "deflate: truncated data (the compressed stream did not end)");
    expect_error("deflate", deflate_with("abc", 15) + "junk", kind::bad_encoding,
                 "deflate: data after the end of the compressed stream");
    expect_error("br", brotli("abc") + "junk", kind::bad_encoding, "br: data after the end of the compressed stream");
    expect_error("gzip", gzip("abc") + "junk", kind::bad_encoding, "gzip: bad compressed data (incorrect header check)");
}
