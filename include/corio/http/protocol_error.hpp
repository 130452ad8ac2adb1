// corio/http/protocol_error.hpp: what the HTTP/1.1 layer throws when the bytes
// of a peer break the protocol (a malformed head, bad chunked framing, a body
// cut short, a body that does not decode).
//
// what() says what was wrong, in words ("header field too long (9000 > 8190
// bytes)"); the client and the server put the method, URL or peer in front.
// kind() lets them map it without reading the text: the client to its
// error types (a head error is a client_response_error with status 400, a body
// error a client_payload_error), the server to its answer (status()).
#pragma once

#include <stdexcept>
#include <string>

namespace corio::http {

class protocol_error : public std::runtime_error {
public:
    enum class kind {
        bad_start_line,    // malformed request or status line
        bad_header,        // malformed header field, or a bad Content-Length / Transfer-Encoding value
        bad_framing,       // Content-Length with Transfer-Encoding, differing lengths: request smuggling
        line_too_long,     // request or status line over max_line_size
        field_too_long,    // header field over max_field_size
        head_too_large,    // the whole head over max_head_size
        incomplete_head,   // the peer closed inside the head
        bad_chunk,         // bad chunked framing
        body_too_large,    // over max_body_size
        incomplete_body,   // the peer closed inside the body
        bad_encoding,      // a Content-Encoding that does not decode, or is unknown
        decoded_too_large  // a decoded body over max_decompressed_size
    };

    protocol_error(kind k, const std::string& what) : std::runtime_error(what), kind_(k) {}

    kind error_kind() const noexcept { return kind_; }
    /// True for errors inside a body (the client's client_payload_error).
    bool in_body() const noexcept { return kind_ >= kind::bad_chunk; }
    /// The status a server answers with: 414 for a long request line, 431 for
    /// fields, 413 for a body, 400 otherwise.
    int status() const noexcept {
        switch (kind_) {
            case kind::line_too_long: return 414;
            case kind::field_too_long:
            case kind::head_too_large: return 431;
            case kind::body_too_large: return 413;
            default: return 400;
        }
    }

private:
    kind kind_;
};

}  // namespace corio::http
