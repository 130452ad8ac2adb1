// tls_session: one TLS connection's OpenSSL state, driven by the stream
// (private to src/net).
//
// OpenSSL never touches the socket. Its BIO reads ciphertext from the
// session's input buffer, which the stream fills with receives, and appends
// the ciphertext it writes to the stream's send buffer, which the stream's
// ordinary write path sends. So no OpenSSL call ever blocks or spans a
// suspension: handshake(), read() and write() run to completion and say
// whether they need more input, and a reader task and a writer task can use
// one session in turn.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <corio/net/tls.hpp>

namespace corio::detail {

struct tls_context_state {
    SSL_CTX* ctx = nullptr;
    bool server = false;
    std::vector<unsigned char> alpn;  // ALPN wire format: length-prefixed names
    ~tls_context_state();
};

class tls_session {
public:
    /// `out` receives the ciphertext to send; it must outlive the session.
    /// `peer_name` names the peer in errors, which name the stream's call
    /// ("stream::start_tls with example.com (1.2.3.4:443): reason"). A client verifies
    /// `server_hostname` (a name or an address literal) and sends it as SNI.
    tls_session(const tls_context& context, std::string_view server_hostname, std::string& out,
                std::string peer_name);
    ~tls_session();
    tls_session(const tls_session&) = delete;
    tls_session& operator=(const tls_session&) = delete;

    // ---- ciphertext in
    /// Room for the next receive (at least 1 byte).
    std::span<char> input_space();
    void input_received(std::size_t n) noexcept { in_end_ += n; }
    /// The peer closed the connection (a receive gave 0).
    void input_eof() noexcept { in_eof_ = true; }
    /// Bytes that arrived before TLS started (start_tls after a plain read).
    void input_prepend(std::string_view bytes);

    // ---- the protocol; each throws tls_error on a protocol or verify failure
    /// True once the handshake is complete; false: it needs more input.
    bool handshake();
    enum class read_status { data, want_input, eof };
    /// Decrypts into `into`; `got` bytes on `data`. `operation` names the
    /// stream's call in errors ("stream::readline from").
    read_status read(char* into, std::size_t size, std::size_t& got, const char* operation);
    /// Encrypts all of `plain` into the send buffer.
    void write(std::string_view plain);
    /// Queues close_notify (once).
    void shutdown() noexcept;

    std::string alpn_protocol() const;
    std::string version() const;
    const std::string& peer_name() const noexcept { return peer_name_; }

private:
    friend struct tls_bio;
    [[noreturn]] void fail(const char* operation, int ret);

    SSL* ssl_ = nullptr;
    std::string& out_;
    std::string peer_name_;
    std::unique_ptr<char[]> in_;
    std::size_t in_capacity_ = 0;
    std::size_t in_begin_ = 0;
    std::size_t in_end_ = 0;
    bool in_eof_ = false;
    bool shut_ = false;
};

}  // namespace corio::detail
