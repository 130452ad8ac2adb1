// corio/http/content_decoder.hpp: streaming decoding of a body by its
// Content-Encoding: gzip (and x-gzip), deflate (zlib-wrapped or raw, as
// browsers accept both), br (brotli), identity, and lists of them
// ("gzip, br" is undone br first, then gzip), through zlib and libbrotlidec.
//
//   corio::http::content_decoder d(response.headers().get("Content-Encoding").value_or(""));
//   d.decode(piece, text);   // for each piece of the body as it arrives
//   d.finish();              // the body ended: was the compressed stream whole?
//
// Guarantees: the decoded size is bounded by max_decompressed_size, checked as
// output is made, so a gzip bomb fails after at most that many bytes with a
// protocol_error (kind decoded_too_large) saying the limit; bad data, a stream
// cut short and bytes after a stream's end are protocol_errors (kind
// bad_encoding) that name the coding and zlib's or brotli's reason; an unknown
// coding is refused by the constructor (supported() asks first). Allocation:
// the codecs' state once, at construction; then only the growth of `out` (and
// of one reused buffer between two codings of a list).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "corio/http/protocol_error.hpp"

namespace corio::http {

namespace detail {
class decoder_stage;
}

class content_decoder {
public:
    /// 1 GiB, the client's default.
    static constexpr std::uint64_t default_max_decompressed_size = std::uint64_t(1) << 30;

    /// `content_encoding` as the header gives it ("" or "identity": nothing
    /// to undo). protocol_error (bad_encoding) for a coding it cannot undo.
    explicit content_decoder(std::string_view content_encoding,
                             std::uint64_t max_decompressed_size = default_max_decompressed_size);
    ~content_decoder();
    content_decoder(content_decoder&&) noexcept;
    content_decoder& operator=(content_decoder&&) noexcept;

    /// Every coding listed is gzip, x-gzip, deflate, br or identity.
    static bool supported(std::string_view content_encoding) noexcept;

    /// Nothing to undo: decode only copies.
    bool identity() const noexcept { return stages_.empty(); }

    /// Decodes the next piece of the body, appending what it gives to `out`.
    void decode(std::string_view input, std::string& out);
    /// The body ended: protocol_error when a compressed stream did not end
    /// (an empty body is fine: a HEAD or 204 answer declares its coding too).
    void finish();

    /// Bytes given to `out` so far.
    std::uint64_t decoded_size() const noexcept { return decoded_size_; }

private:
    std::vector<std::unique_ptr<detail::decoder_stage>> stages_;  // in decoding order
    std::string between_[2];  // output of one coding, input of the next
    std::uint64_t max_size_;
    std::uint64_t decoded_size_ = 0;
};

}  // namespace corio::http
