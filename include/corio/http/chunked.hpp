// corio/http/chunked.hpp: the chunked transfer coding's writing side (RFC 9112
// section 7.1), for request bodies from an async generator and for a server's
// stream_response. Reading chunked bodies is the parser's (Beast's) job.
//
//   std::string out;
//   corio::http::append_chunk(out, "Hello");   // "5\r\nHello\r\n"
//   corio::http::append_last_chunk(out);       // "0\r\n\r\n"
//
// An empty piece writes nothing: an empty chunk would end the body. For a
// large piece, chunk_header gives the size line alone (on the stack, no
// allocation), so the data can go out by writev next to it, followed by
// chunk_end, without being copied.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "corio/http/headers.hpp"

namespace corio::http {

/// The line before a chunk's data: its size in hex and CRLF ("1a\r\n").
class chunk_header {
public:
    explicit chunk_header(std::size_t size) noexcept {
        static constexpr char digits[] = "0123456789abcdef";
        char hex[sizeof(std::size_t) * 2];
        std::size_t n = 0;
        do {
            hex[n++] = digits[size & 15];
            size >>= 4;
        } while (size != 0);
        for (std::size_t i = 0; i < n; ++i) text_[i] = hex[n - 1 - i];
        text_[n] = '\r';
        text_[n + 1] = '\n';
        size_ = n + 2;
    }
    std::string_view view() const noexcept { return {text_.data(), size_}; }

private:
    std::array<char, sizeof(std::size_t) * 2 + 2> text_{};
    std::size_t size_ = 0;
};

/// What follows a chunk's data.
inline constexpr std::string_view chunk_end = "\r\n";
/// The last chunk of a body without trailers.
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

/// Appends `data` as one chunk; nothing when it is empty.
inline void append_chunk(std::string& out, std::string_view data) {
    if (data.empty()) return;
    chunk_header header(data.size());
    out.reserve(out.size() + header.view().size() + data.size() + chunk_end.size());
    out += header.view();
    out += data;
    out += chunk_end;
}

/// Appends the last chunk, with trailer fields when given (already validated
/// by http::headers, so they cannot inject a line).
inline void append_last_chunk(std::string& out, const headers& trailers = headers()) {
    if (trailers.empty()) {
        out += last_chunk;
        return;
    }
    out += "0\r\n";
    for (const auto& [name, value] : trailers) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    out += "\r\n";
}

}  // namespace corio::http
