// libFuzzer target: the HTTP/1.1 message parsers (corio/http/parser.hpp) on
// any bytes. Besides what the sanitizers catch, it checks that feeding the
// bytes in pieces of any size gives what feeding them at once gives (the
// same messages, bodies and framing, or an error of the same kind), that
// feed never takes more than it is given, and that framing and keep-alive
// stay within what message.hpp says.
//
// Input: byte 0 picks the parser (request or response), HEAD or not, the
// piece size, and default or tiny limits; the rest is the stream.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "corio/http/parser.hpp"

namespace http = corio::http;

namespace {

struct message {
    int status = 0;
    std::string method, target, reason;
    int version = 0;
    http::headers headers;
    std::string body;
    http::body_framing framing;
    bool keep_alive = false;
};

struct outcome {
    std::vector<message> messages;
    bool failed = false;
    http::protocol_error::kind kind{};
};

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "http_response_parser_fuzz: %s\n", what);
    std::abort();
}

template <class Head>
void record(const http::message_parser<Head>& p, message& m) {
    const auto& h = p.head();
    if constexpr (std::is_same_v<Head, http::response_head>) {
        m.status = h.status;
        m.reason = h.reason;
    } else {
        m.method = h.method;
        m.target = h.target;
    }
    m.version = h.version;
    m.headers = h.headers;
    m.framing = p.framing();
    m.keep_alive = p.keep_alive();
}

template <class Head>
outcome parse(std::string_view input, std::size_t step, bool head, const http::parser_limits& limits) {
    outcome out;
    http::message_parser<Head> p(limits);
    if (head) p.skip_body();
    message current;
    std::string kept;
    std::size_t taken_total = 0, body_total = 0;
    try {
        for (std::size_t offset = 0; offset < input.size();) {
            std::size_t n = step == 0 ? input.size() - offset : std::min(step, input.size() - offset);
            kept.append(input.substr(offset, n));
            offset += n;
            while (!kept.empty()) {
                std::size_t used = p.feed(kept, [&](std::string_view piece) {
                    if (piece.empty()) fail("empty body piece");
                    current.body.append(piece);
                    body_total += piece.size();
                });
                if (used > kept.size()) fail("feed took more than it was given");
                taken_total += used;
                // Body bytes may come from bytes kept since an earlier call, never from none.
                if (body_total > taken_total) fail("more body than bytes taken");
                kept.erase(0, used);
                if (p.head_done() && p.framing().kind == http::body_kind::until_close && p.keep_alive()) {
                    fail("keep-alive with a body that ends with the close");
                }
                if (p.done()) {
                    record(p, current);
                    if (current.framing.kind == http::body_kind::content_length &&
                        current.body.size() != current.framing.length) {
                        fail("Content-Length body of another length");
                    }
                    if (current.framing.kind == http::body_kind::none && !current.body.empty()) {
                        fail("a body where there is none");
                    }
                    out.messages.push_back(std::move(current));
                    current = message();
                    p.reset();
                    if (head) p.skip_body();
                    continue;
                }
                if (used == 0) break;
            }
        }
        if (p.finish_on_eof()) {
            record(p, current);
            out.messages.push_back(std::move(current));
        }
    } catch (const http::protocol_error& e) {
        out.failed = true;
        out.kind = e.error_kind();
    }
    return out;
}

bool limit_kind(http::protocol_error::kind k) {
    using kind = http::protocol_error::kind;
    return k == kind::line_too_long || k == kind::field_too_long || k == kind::head_too_large || k == kind::bad_chunk;
}

void compare(const outcome& a, const outcome& b, bool exact) {
    if (a.failed != b.failed) {
        if (!exact && ((a.failed && limit_kind(a.kind)) || (b.failed && limit_kind(b.kind)))) return;
        fail("one way of feeding failed, the other did not");
    }
    // Beast reads a head it was given in pieces only once the whole head is
    // there: at once, it may find a malformed line in a head that the peer
    // then leaves unfinished, which in pieces is only "closed inside the head".
    using kind = http::protocol_error::kind;
    auto eof_kind = [](kind k) { return k == kind::incomplete_head || k == kind::incomplete_body; };
    if (a.failed && exact && a.kind != b.kind && !eof_kind(a.kind) && !eof_kind(b.kind)) fail("different error kinds");
    if (a.messages.size() != b.messages.size()) {
        if (!exact && a.failed) return;
        fail("different numbers of messages");
    }
    for (std::size_t i = 0; i < a.messages.size(); ++i) {
        const auto& x = a.messages[i];
        const auto& y = b.messages[i];
        if (x.status != y.status || x.method != y.method || x.target != y.target || x.reason != y.reason ||
            x.version != y.version || !(x.headers == y.headers) || x.framing != y.framing || x.keep_alive != y.keep_alive) {
            fail("different heads");
        }
        // The last message of a failed parse may have part of its body only.
        if (x.body != y.body) fail("different bodies");
    }
}

template <class Head>
void run(std::string_view input, std::size_t step, bool head, bool tiny) {
    http::parser_limits limits;
    if (tiny) {
        limits.max_line_size = 24;
        limits.max_field_size = 16;
        limits.max_head_size = 96;
        limits.max_body_size = 64;
    }
    auto whole = parse<Head>(input, 0, head, limits);
    auto pieces = parse<Head>(input, step, head, limits);
    compare(whole, pieces, !tiny);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::uint8_t config = data[0];
    std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    bool request = config & 1;
    bool head = (config >> 1) & 1;
    bool tiny = (config >> 2) & 1;
    std::size_t step = static_cast<std::size_t>((config >> 3) % 17) + 1;
    if (request) {
        run<http::request_head>(input, step, head, tiny);
    } else {
        run<http::response_head>(input, step, head, tiny);
    }
    return 0;
}
