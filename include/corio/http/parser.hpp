// corio/http/parser.hpp: incremental HTTP/1.1 parsers for responses (the
// client) and requests (the server), on Boost.Beast's basic_parser, which
// owns the grammar and the chunked decoding; Beast stays inside src/http.
//
//   corio::http::response_parser p;             // p.skip_body() for a HEAD
//   std::size_t used = p.feed(bytes);           // stops once the head is complete
//   if (p.head_done()) { p.head().status; p.framing(); }
//   used += p.feed(bytes.substr(used), [&](std::string_view piece) { sink(piece); });
//   if (p.done()) { /* keep the unused bytes: they start the next message */ p.reset(); }
//   // the peer closed: p.finish_on_eof() says whether that ended the message
//
// feed() takes every byte it is given except those after the end of the head
// (so the caller can look at it before any body byte arrives) or after the
// end of the message (pipelining: they belong to the next one); it returns
// how many it took. Bytes that cannot be parsed yet (part of a head line, of
// a chunk header, of a trailer) are kept inside; body bytes go to the sink as
// views into the caller's buffer, without a copy (or are appended to body()
// when feed is given no sink).
//
// Limits (parser_limits): a request or status line over max_line_size, a
// header line over max_field_size (8190 bytes each, as aiohttp), a head over
// max_head_size (64 KiB, as aiohttp.web), a chunk-size line or trailer line
// over max_field_size, trailers over max_head_size, a body over max_body_size
// (none by default): each a protocol_error saying which limit and by how much,
// raised as soon as the limit is passed, not when the line ends. Framing
// follows response_framing / request_framing (corio/http/message.hpp), which
// refuse request smuggling. After a protocol_error the parser is spent: a
// further feed throws std::logic_error until reset().
//
// Allocation: one block per parser (Beast's state, reused by reset()); the
// head's strings; the internal buffer for a partial line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "corio/http/message.hpp"
#include "corio/http/protocol_error.hpp"

namespace corio::http {

struct parser_limits {
    std::size_t max_line_size = 8190;
    std::size_t max_field_size = 8190;
    std::size_t max_head_size = 64 * 1024;
    std::optional<std::uint64_t> max_body_size;
};

/// A non-owning reference to a callable taking each piece of a body
/// (`void(std::string_view)`); the callable must outlive the feed call.
class body_sink {
public:
    template <class F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, body_sink> && std::is_invocable_v<F&, std::string_view>)
    body_sink(F&& f) noexcept  // NOLINT: implicit, so a lambda can be passed to feed
        : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
          call_([](void* object, std::string_view piece) { (*static_cast<std::remove_reference_t<F>*>(object))(piece); }) {}

    void operator()(std::string_view piece) const { call_(object_, piece); }

private:
    void* object_;
    void (*call_)(void*, std::string_view);
};

namespace detail {
template <class Head>
class parser_impl;
}

/// The parser of one message at a time on a connection; Head is
/// response_head (response_parser) or request_head (request_parser).
template <class Head>
class message_parser {
public:
    explicit message_parser(parser_limits limits = parser_limits());
    ~message_parser();
    message_parser(message_parser&&) noexcept;
    message_parser& operator=(message_parser&&) noexcept;

    /// Ready for the next message on the same connection, limits kept.
    void reset();
    /// The message has no body whatever its head says: a response to HEAD.
    /// Before the first byte only (std::logic_error otherwise).
    void skip_body();

    /// Parses what it can of `bytes`, giving body pieces to `sink`; returns
    /// how many bytes it took (see the file comment). Throws protocol_error.
    std::size_t feed(std::string_view bytes, body_sink sink);
    /// The same, appending body pieces to body().
    std::size_t feed(std::string_view bytes);

    /// The peer closed the connection (no more bytes will come). True when
    /// that ends the message: it was complete, or its body ends with the close
    /// (until_close). False when nothing of a message had come (a clean close
    /// between messages). protocol_error otherwise, saying what is missing
    /// (kind incomplete_head or incomplete_body).
    bool finish_on_eof();

    /// Some byte of this message has been taken.
    bool got_some() const noexcept;
    /// The head is complete: head() and framing() are meaningful.
    bool head_done() const noexcept;
    /// The message is complete.
    bool done() const noexcept;

    const Head& head() const noexcept;
    Head& head() noexcept;
    /// Where the body ends (after head_done).
    body_framing framing() const noexcept;
    /// The connection can carry another message after this one: its head
    /// says so (http::keep_alive) and its body does not end with the close.
    bool keep_alive() const noexcept;
    /// Body bytes delivered so far (after chunked decoding).
    std::uint64_t body_size() const noexcept;
    /// Where feed without a sink puts the body.
    std::string& body() noexcept;

    const parser_limits& limits() const noexcept;

private:
    std::unique_ptr<detail::parser_impl<Head>> impl_;
};

using response_parser = message_parser<response_head>;
using request_parser = message_parser<request_head>;

extern template class message_parser<response_head>;
extern template class message_parser<request_head>;

}  // namespace corio::http
