// corio/http/parser.hpp on Boost.Beast's basic_parser: Beast reads the grammar
// (request and status lines, fields, chunked framing); this file adds what
// Beast leaves to its user: buffering of partial lines, the line and field
// limits of aiohttp (Beast only bounds the whole head), framing by
// message.hpp's rules (so the parser and the serializer agree), and errors in
// words.
#include "corio/http/parser.hpp"

#include "text.hpp"

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace corio::http {
namespace detail {
namespace {

namespace bhttp = boost::beast::http;
using boost::beast::error_code;
using bstring_view = boost::beast::string_view;

// How many new bytes are appended at a time to bytes kept from before: small
// in a body, where only a chunk header or a trailer is ever kept, so the body
// bytes after it are copied once more only a few at a time.
constexpr std::size_t head_step = 4096;
constexpr std::size_t body_step = 64;

std::string excerpt(std::string_view rest) {
    return detail::shown_in_message(rest.substr(0, rest.find_first_of("\r\n")), 64, true);
}

}  // namespace

template <class Head>
inline constexpr bool is_request_v = std::is_same_v<Head, request_head>;

template <class Head>
class parser_impl;

// Beast's callbacks, forwarded to parser_impl.
template <class Head>
class beast_parser final : public bhttp::basic_parser<is_request_v<Head>> {
public:
    explicit beast_parser(parser_impl<Head>& owner) : owner_(owner) {}

private:
    void on_request_impl(bhttp::verb, bstring_view method, bstring_view target, int version,
                         error_code& ec) override;
    void on_response_impl(int status, bstring_view reason, int version, error_code& ec) override;
    void on_field_impl(bhttp::field, bstring_view name, bstring_view value, error_code& ec) override;
    void on_header_impl(error_code& ec) override;
    void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
    std::size_t on_body_impl(bstring_view body, error_code& ec) override;
    void on_chunk_header_impl(std::uint64_t size, bstring_view extensions, error_code& ec) override;
    std::size_t on_chunk_body_impl(std::uint64_t remain, bstring_view body, error_code& ec) override;
    void on_finish_impl(error_code&) override {}

    parser_impl<Head>& owner_;
};

template <class Head>
class parser_impl {
public:
    explicit parser_impl(parser_limits l) : limits(l) { start(); }

    void start() {
        beast.emplace(*this);
        // Our own tracker bounds the head first, with a better message; Beast's
        // limit only backs it up.
        auto header_limit = std::min<std::size_t>(limits.max_head_size + 8, std::numeric_limits<std::uint32_t>::max());
        beast->header_limit(static_cast<std::uint32_t>(header_limit));
        if (limits.max_body_size) {
            beast->body_limit(*limits.max_body_size);
        } else {
            beast->body_limit(boost::none);
        }
        beast->eager(false);
        clear_head(head);
        framing = body_framing();
        pending.clear();
        body.clear();
        sink = nullptr;
        got_some = head_done = done = failed = start_line_done = after_chunk_data = skip = false;
        body_size = head_size = line_length = line_number = pending_line = trailer_size = 0;
        head_ended = last_was_cr = false;
        error.reset();
    }

    static void clear_head(response_head& h) {
        h.version = 11;
        h.status = 0;
        h.reason.clear();
        h.headers.clear();
    }
    static void clear_head(request_head& h) {
        h.method.clear();
        h.target.clear();
        h.version = 11;
        h.headers.clear();
    }

    std::size_t feed(std::string_view bytes, body_sink* to) {
        if (failed) {
            throw std::logic_error("http::message_parser::feed: the parser failed on bad input; reset() it first");
        }
        if (done || bytes.empty()) return 0;
        sink = to;
        got_some = true;
        std::size_t taken = 0;
        try {
            while (taken < bytes.size() && !done) {
                bool was_head_done = head_done;
                if (pending.empty()) {
                    auto data = bytes.substr(taken);
                    std::size_t used = step(data, data.size());
                    taken += used;
                    if (done || head_done != was_head_done) break;
                    if (used < data.size()) {
                        // Beast needs more to go on: keep what it left.
                        pending.assign(data.substr(used));
                        taken = bytes.size();
                        if (head_done) pending_line = check_pending(pending, 0);
                    }
                } else {
                    std::size_t k = std::min(bytes.size() - taken, head_done ? body_step : head_step);
                    std::size_t carried = pending_line;
                    pending.append(bytes.data() + taken, k);
                    taken += k;
                    if (head_done) pending_line = check_pending(std::string_view(pending).substr(pending.size() - k), carried);
                    // Beast asserts that a last chunk ("0\r\n") waiting for
                    // its end comes back with 5 bytes at least; no chunk
                    // header with data after it is shorter either.
                    if (head_done && pending.size() < 5) continue;
                    std::size_t used = step(pending, k);
                    pending.erase(0, used);
                    if (done || head_done != was_head_done) {
                        // What is left came with this call: it is the caller's again.
                        if (pending.size() > k) {
                            throw std::logic_error("http::message_parser::feed: bytes of an earlier call left over");
                        }
                        taken -= pending.size();
                        pending.clear();
                        break;
                    }
                    if (used > 0 && head_done) pending_line = check_pending(pending, 0);
                }
            }
        } catch (...) {
            failed = true;
            sink = nullptr;
            throw;
        }
        sink = nullptr;
        return taken;
    }

    // One put of `data`, whose last `fresh` bytes were never seen before.
    std::size_t step(std::string_view data, std::size_t fresh) {
        bool in_head = !head_done;
        if (in_head) track_head(data.substr(data.size() - fresh));
        error_code ec;
        std::size_t used = beast->put(boost::asio::const_buffer(data.data(), data.size()), ec);
        if (error) throw *error;
        if (ec && ec != bhttp::error::need_more) throw translate(ec, data.substr(used));
        if (in_head && beast->is_header_done()) {
            head_done = true;
            beast->eager(true);
        }
        if (beast->is_done()) done = true;
        return used;
    }

    // The line and head limits, on head bytes in order, each seen once; stops
    // at the empty line that ends the head (what follows is body).
    void track_head(std::string_view s) {
        if (head_ended) return;
        while (!s.empty()) {
            auto lf = s.find('\n');
            std::size_t segment = lf == std::string_view::npos ? s.size() : lf;
            std::size_t limit = line_number == 0 ? limits.max_line_size : limits.max_field_size;
            line_length += segment;
            head_size += lf == std::string_view::npos ? segment : segment + 1;
            if (lf == std::string_view::npos) {
                last_was_cr = segment > 0 ? s.back() == '\r' : last_was_cr;
                // +1: the line may still end with its CR.
                if (line_length > limit + 1) throw too_long(line_length, limit, false);
                break;
            }
            bool cr = segment > 0 ? s[lf - 1] == '\r' : last_was_cr;
            std::size_t length = line_length - (cr ? 1 : 0);
            if (length > limit) throw too_long(length, limit, true);
            if (head_size > limits.max_head_size) throw head_too_large();
            ++line_number;
            line_length = 0;
            last_was_cr = false;
            s.remove_prefix(lf + 1);
            if (length == 0) {
                head_ended = true;
                return;
            }
        }
        if (head_size > limits.max_head_size) throw head_too_large();
    }

    protocol_error too_long(std::size_t length, std::size_t limit, bool whole) const {
        bool start_line = line_number == 0;
        std::string what = start_line ? (is_request_v<Head> ? "request line too long (" : "status line too long (")
                                      : "header field too long (";
        what += whole ? std::to_string(length) + " > " : "over ";
        what += std::to_string(limit) + " bytes)";
        return protocol_error(start_line ? protocol_error::kind::line_too_long : protocol_error::kind::field_too_long,
                              what);
    }

    protocol_error head_too_large() const {
        return protocol_error(protocol_error::kind::head_too_large,
                              "head too large (over " + std::to_string(limits.max_head_size) + " bytes)");
    }

    // Bytes kept inside the body (a chunk header, trailers): its lines and its
    // size are bounded as a head's are. `s` follows a partial line of
    // `carried` bytes; returns the length of the partial line at its end.
    std::size_t check_pending(std::string_view s, std::size_t carried) const {
        if (pending.size() > limits.max_head_size) throw trailers_too_large();
        std::size_t line = carried;
        while (true) {
            auto lf = s.find('\n');
            std::size_t segment = lf == std::string_view::npos ? s.size() : lf;
            line += segment;
            if (line > limits.max_field_size + 1) throw chunk_line_too_long();
            if (lf == std::string_view::npos) return line;
            line = 0;
            s.remove_prefix(lf + 1);
        }
    }

    protocol_error translate(const error_code& ec, std::string_view rest) const {
        using e = bhttp::error;
        using kind = protocol_error::kind;
        if (ec == e::header_limit) return head_too_large();
        if (ec == e::body_limit) {
            return protocol_error(kind::body_too_large, "body too large (over max_body_size, " +
                                                            std::to_string(limits.max_body_size.value_or(0)) +
                                                            " bytes)");
        }
        if (!start_line_done) {
            return protocol_error(kind::bad_start_line,
                                  std::string(is_request_v<Head> ? "malformed request line " : "malformed status line ") +
                                      excerpt(rest));
        }
        if (!head_done) {
            bool has_te = head.headers.contains("Transfer-Encoding");
            bool has_cl = head.headers.contains("Content-Length");
            if ((ec == e::bad_content_length && has_te) || (ec == e::bad_transfer_encoding && has_cl)) {
                return protocol_error(kind::bad_framing,
                                      "both Transfer-Encoding and Content-Length (request smuggling)");
            }
            if (ec == e::bad_content_length) return protocol_error(kind::bad_header, "bad Content-Length " + excerpt(rest));
            if (ec == e::multiple_content_length) {
                return protocol_error(kind::bad_framing, "several differing Content-Length values " + excerpt(rest));
            }
            if (ec == e::bad_transfer_encoding) {
                return protocol_error(kind::bad_framing, "Transfer-Encoding chunked given twice " + excerpt(rest));
            }
            return protocol_error(kind::bad_header, "malformed header " + excerpt(rest));
        }
        std::string_view after_crlf = rest.substr(0, 2) == "\r\n" ? rest.substr(2) : rest;
        if (ec == e::bad_chunk) {
            if (after_chunk_data && rest.substr(0, 2) != "\r\n" && rest.size() >= 2) {
                return protocol_error(kind::bad_chunk, "bad chunked framing: missing CRLF after the chunk data");
            }
            return protocol_error(kind::bad_chunk, "bad chunked framing: invalid chunk size " + excerpt(after_crlf));
        }
        if (ec == e::bad_chunk_extension) {
            return protocol_error(kind::bad_chunk, "bad chunked framing: malformed chunk extension " + excerpt(after_crlf));
        }
        if (ec == e::bad_field || ec == e::bad_value || ec == e::bad_line_ending) {
            return protocol_error(kind::bad_chunk, "bad chunked framing: malformed trailer");
        }
        return protocol_error(kind::bad_chunk, "bad chunked framing: " + ec.message());
    }

    // Beast's callbacks.
    void on_start_line() { start_line_done = true; }

    void on_field(std::string_view name, std::string_view value, error_code& ec) {
        if (head_done) {
            // A trailer: bounded as a head is, then dropped (aiohttp ignores them too).
            trailer_size += name.size() + value.size() + 4;
            if (name.size() + value.size() + 2 > limits.max_field_size) {
                fail(chunk_line_too_long(), ec);
            } else if (trailer_size > limits.max_head_size) {
                fail(trailers_too_large(), ec);
            }
            return;
        }
        try {
            head.headers.add(name, value);
        } catch (const std::invalid_argument&) {
            fail(protocol_error(protocol_error::kind::bad_header, "malformed header " + excerpt(name)), ec);
        }
    }

    void on_header(error_code& ec) {
        try {
            if constexpr (is_request_v<Head>) {
                framing = skip ? body_framing() : request_framing(head);
            } else {
                framing = response_framing(head, skip ? "HEAD" : "GET");
            }
        } catch (const protocol_error& e) {
            fail(e, ec);
            return;
        }
        // Beast decided too: both must agree, or a peer could make the two
        // sides of a proxy read different messages.
        bool agree = true;
        switch (framing.kind) {
            case body_kind::none: agree = true; break;  // Beast ends the message at the head for these
            case body_kind::content_length: agree = beast->content_length() == framing.length && !beast->chunked(); break;
            case body_kind::chunked: agree = beast->chunked(); break;
            case body_kind::until_close: agree = !beast->chunked() && !beast->content_length(); break;
        }
        assert(agree);
        if (!agree) {
            fail(protocol_error(protocol_error::kind::bad_framing, "ambiguous body framing"), ec);
        }
    }

    protocol_error chunk_line_too_long() const {
        return protocol_error(protocol_error::kind::bad_chunk,
                              "bad chunked framing: chunk header or trailer line too long (over " +
                                  std::to_string(limits.max_field_size) + " bytes)");
    }

    protocol_error trailers_too_large() const {
        return protocol_error(protocol_error::kind::bad_chunk, "bad chunked framing: trailer section too large (over " +
                                                                   std::to_string(limits.max_head_size) + " bytes)");
    }

    void on_chunk_header(std::string_view extensions, error_code& ec) {
        after_chunk_data = false;
        // Chunk-extension abuse: a header line that arrived whole is bounded
        // like one kept in pieces (check_pending).
        if (extensions.size() > limits.max_field_size) fail(chunk_line_too_long(), ec);
    }

    void deliver(std::string_view piece) {
        if (piece.empty()) return;
        body_size += piece.size();
        if (sink) {
            (*sink)(piece);
        } else {
            body.append(piece);
        }
    }

    void fail(const protocol_error& e, error_code& ec) {
        error = e;
        ec = bhttp::error::bad_value;
    }

    bool finish_on_eof() {
        if (failed) {
            throw std::logic_error("http::message_parser::finish_on_eof: the parser failed on bad input; reset() it first");
        }
        if (done) return true;
        if (!got_some) return false;
        try {
            if (!head_done) {
                throw protocol_error(protocol_error::kind::incomplete_head,
                                     "connection closed inside the head (after " + std::to_string(head_size) +
                                         " bytes of it)");
            }
            switch (framing.kind) {
                case body_kind::content_length:
                    throw protocol_error(protocol_error::kind::incomplete_body,
                                         "body shorter than its Content-Length (" + std::to_string(body_size) + " of " +
                                             std::to_string(framing.length) + " bytes)");
                case body_kind::chunked:
                    throw protocol_error(protocol_error::kind::incomplete_body,
                                         "connection closed inside the chunked body (after " +
                                             std::to_string(body_size) + " bytes of it)");
                default: break;
            }
            error_code ec;
            beast->put_eof(ec);
            if (ec) throw translate(ec, {});
            done = true;
            return true;
        } catch (...) {
            failed = true;
            throw;
        }
    }

    parser_limits limits;
    Head head;
    std::optional<beast_parser<Head>> beast;
    std::string pending;  // bytes taken but not yet parsed
    std::string body;     // the body when feed has no sink
    body_sink* sink = nullptr;
    body_framing framing;
    std::optional<protocol_error> error;  // raised inside a Beast callback
    std::uint64_t body_size = 0;
    std::size_t head_size = 0;    // head bytes seen by track_head
    std::size_t line_length = 0;  // of the head line being read
    std::size_t line_number = 0;
    std::size_t pending_line = 0;  // the partial line at the end of `pending`, in a body
    std::size_t trailer_size = 0;
    bool got_some = false, head_done = false, done = false, failed = false;
    bool start_line_done = false, after_chunk_data = false, skip = false;
    bool head_ended = false, last_was_cr = false;
};

template <class Head>
void beast_parser<Head>::on_request_impl(bhttp::verb, bstring_view method, bstring_view target, int version,
                                         error_code&) {
    if constexpr (is_request_v<Head>) {
        owner_.head.method.assign(method.data(), method.size());
        owner_.head.target.assign(target.data(), target.size());
        owner_.head.version = version;
    }
    owner_.on_start_line();
}

template <class Head>
void beast_parser<Head>::on_response_impl(int status, bstring_view reason, int version, error_code&) {
    if constexpr (!is_request_v<Head>) {
        owner_.head.status = status;
        owner_.head.reason.assign(reason.data(), reason.size());
        owner_.head.version = version;
    }
    owner_.on_start_line();
}

template <class Head>
void beast_parser<Head>::on_field_impl(bhttp::field, bstring_view name, bstring_view value, error_code& ec) {
    owner_.on_field(std::string_view(name.data(), name.size()), std::string_view(value.data(), value.size()), ec);
}

template <class Head>
void beast_parser<Head>::on_header_impl(error_code& ec) {
    owner_.on_header(ec);
}

template <class Head>
std::size_t beast_parser<Head>::on_body_impl(bstring_view body, error_code&) {
    owner_.deliver(std::string_view(body.data(), body.size()));
    return body.size();
}

template <class Head>
void beast_parser<Head>::on_chunk_header_impl(std::uint64_t, bstring_view extensions, error_code& ec) {
    owner_.on_chunk_header(std::string_view(extensions.data(), extensions.size()), ec);
}

template <class Head>
std::size_t beast_parser<Head>::on_chunk_body_impl(std::uint64_t remain, bstring_view body, error_code&) {
    owner_.deliver(std::string_view(body.data(), body.size()));
    if (body.size() == remain) owner_.after_chunk_data = true;
    return body.size();
}

}  // namespace detail

template <class Head>
message_parser<Head>::message_parser(parser_limits limits) : impl_(std::make_unique<detail::parser_impl<Head>>(limits)) {}

template <class Head>
message_parser<Head>::~message_parser() = default;
template <class Head>
message_parser<Head>::message_parser(message_parser&&) noexcept = default;
template <class Head>
message_parser<Head>& message_parser<Head>::operator=(message_parser&&) noexcept = default;

template <class Head>
void message_parser<Head>::reset() {
    impl_->start();
}

template <class Head>
void message_parser<Head>::skip_body() {
    if (impl_->got_some) throw std::logic_error("http::message_parser::skip_body: called after the first byte");
    impl_->skip = true;
    impl_->beast->skip(true);
}

template <class Head>
std::size_t message_parser<Head>::feed(std::string_view bytes, body_sink sink) {
    return impl_->feed(bytes, &sink);
}

template <class Head>
std::size_t message_parser<Head>::feed(std::string_view bytes) {
    return impl_->feed(bytes, nullptr);
}

template <class Head>
bool message_parser<Head>::finish_on_eof() {
    return impl_->finish_on_eof();
}

template <class Head>
bool message_parser<Head>::got_some() const noexcept {
    return impl_->got_some;
}
template <class Head>
bool message_parser<Head>::head_done() const noexcept {
    return impl_->head_done;
}
template <class Head>
bool message_parser<Head>::done() const noexcept {
    return impl_->done;
}
template <class Head>
const Head& message_parser<Head>::head() const noexcept {
    return impl_->head;
}
template <class Head>
Head& message_parser<Head>::head() noexcept {
    return impl_->head;
}
template <class Head>
body_framing message_parser<Head>::framing() const noexcept {
    return impl_->framing;
}
template <class Head>
bool message_parser<Head>::keep_alive() const noexcept {
    return impl_->head_done && http::keep_alive(impl_->head) && impl_->framing.kind != body_kind::until_close;
}
template <class Head>
std::uint64_t message_parser<Head>::body_size() const noexcept {
    return impl_->body_size;
}
template <class Head>
std::string& message_parser<Head>::body() noexcept {
    return impl_->body;
}
template <class Head>
const parser_limits& message_parser<Head>::limits() const noexcept {
    return impl_->limits;
}

template class message_parser<response_head>;
template class message_parser<request_head>;

}  // namespace corio::http
