// libFuzzer target: chunked bodies and content decoding, as a client reads a
// compressed chunked response. The fuzzed bytes are (1) the chunked body of a
// response whose Content-Encoding byte 0 picks, decoded in pieces and at once
// (same result or both an error), and (2) a plain body written by the chunked
// encoder in pieces and read back by the parser (the same bytes).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "corio/http/chunked.hpp"
#include "corio/http/content_decoder.hpp"
#include "corio/http/parser.hpp"

namespace http = corio::http;

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "http_chunked_fuzz: %s\n", what);
    std::abort();
}

constexpr std::uint64_t limit = 1 << 20;

struct decoded {
    bool failed = false;
    std::string body;
};

// The response with `chunked` as its body, decoded by `encoding`, fed `step`
// bytes at a time (0: at once).
decoded read_response(std::string_view encoding, std::string_view chunked, std::size_t step) {
    std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: ";
    wire += encoding;
    wire += "\r\n\r\n";
    wire += chunked;
    decoded out;
    try {
        http::response_parser p;
        http::content_decoder decoder(encoding, limit);
        std::string kept;
        for (std::size_t offset = 0; offset < wire.size() && !p.done();) {
            std::size_t n = step == 0 ? wire.size() - offset : std::min(step, wire.size() - offset);
            kept.append(wire.substr(offset, n));
            offset += n;
            while (!kept.empty() && !p.done()) {
                std::size_t used = p.feed(kept, [&](std::string_view piece) { decoder.decode(piece, out.body); });
                kept.erase(0, used);
                if (used == 0) break;
            }
        }
        if (!p.finish_on_eof()) fail("a started message reported as not started");
        decoder.finish();
        if (out.body.size() > limit) fail("decoded past the limit");
        if (decoder.decoded_size() != out.body.size()) fail("decoded_size disagrees");
    } catch (const http::protocol_error& e) {
        if (!e.in_body()) fail("a body error reported as a head error");
        out.failed = true;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static const char* encodings[] = {"identity", "gzip", "deflate", "br", "gzip, br", "deflate, gzip"};
    std::uint8_t config = data[0];
    std::string_view encoding = encodings[config % 6];
    std::size_t step = static_cast<std::size_t>(config / 6 % 13) + 1;
    std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

    auto whole = read_response(encoding, bytes, 0);
    auto pieces = read_response(encoding, bytes, step);
    if (whole.failed != pieces.failed) fail("one way of feeding failed, the other did not");
    if (!whole.failed && whole.body != pieces.body) fail("different decoded bodies");

    // The encoder, read back: any bytes, cut in pieces of `step`.
    std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (std::size_t offset = 0; offset < bytes.size(); offset += step) http::append_chunk(wire, bytes.substr(offset, step));
    http::append_last_chunk(wire);
    http::response_parser p;
    std::size_t used = p.feed(wire);
    std::string body;
    used += p.feed(std::string_view(wire).substr(used), [&](std::string_view piece) { body += piece; });
    if (!p.done() || used != wire.size() || body != bytes) fail("the chunked encoder's output did not read back");
    return 0;
}
