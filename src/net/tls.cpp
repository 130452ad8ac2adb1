// tls_context and tls_session over OpenSSL 3. See corio/net/tls.hpp and
// tls_session.hpp.
#include "tls_session.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace corio::detail {

namespace {

// OpenSSL's queued errors as one line ("reason; reason"), the queue emptied.
std::string openssl_errors() {
    std::string text;
    while (const unsigned long e = ERR_get_error()) {
        if (!text.empty()) text += "; ";
        if (const char* reason = ERR_reason_error_string(e)) {
            text += reason;
        } else {
            char buffer[256];
            ERR_error_string_n(e, buffer, sizeof buffer);
            text += buffer;
        }
    }
    return text;
}

[[noreturn]] void throw_context_error(const std::string& what) {
    std::string reason = openssl_errors();
    throw tls_error(what + (reason.empty() ? std::string() : ": " + reason));
}

bool is_address_literal(std::string_view host) {
    std::string h(host);
    unsigned char buffer[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, h.c_str(), buffer) == 1 || ::inet_pton(AF_INET6, h.c_str(), buffer) == 1;
}

constexpr std::size_t initial_input_capacity = 4096;
constexpr std::size_t max_input_capacity = 64 * 1024;

}  // namespace

// ---------------------------------------------------------------- the BIO

// OpenSSL's view of the stream: reads take from the session's input buffer,
// writes append to the stream's send buffer.
struct tls_bio {
    static int write(BIO* b, const char* data, std::size_t size, std::size_t* written) {
        auto* s = static_cast<tls_session*>(BIO_get_data(b));
        BIO_clear_retry_flags(b);
        s->out_.append(data, size);
        *written = size;
        return 1;
    }
    static int read(BIO* b, char* into, std::size_t size, std::size_t* got) {
        auto* s = static_cast<tls_session*>(BIO_get_data(b));
        BIO_clear_retry_flags(b);
        const std::size_t have = s->in_end_ - s->in_begin_;
        if (have == 0) {
            *got = 0;
            if (!s->in_eof_) BIO_set_retry_read(b);
            return 0;
        }
        const std::size_t n = std::min(have, size);
        std::memcpy(into, s->in_.get() + s->in_begin_, n);
        s->in_begin_ += n;
        if (s->in_begin_ == s->in_end_) s->in_begin_ = s->in_end_ = 0;
        *got = n;
        return 1;
    }
    static long ctrl(BIO* b, int command, long, void*) {
        auto* s = static_cast<tls_session*>(BIO_get_data(b));
        switch (command) {
            case BIO_CTRL_FLUSH:
                return 1;
            case BIO_CTRL_PENDING:
                return s == nullptr ? 0 : static_cast<long>(s->in_end_ - s->in_begin_);
            case BIO_CTRL_EOF:
                return s != nullptr && s->in_eof_ && s->in_end_ == s->in_begin_;
            default:
                return 0;
        }
    }
    static int create(BIO* b) {
        BIO_set_init(b, 1);
        return 1;
    }
    static BIO_METHOD* method() {
        static BIO_METHOD* const m = [] {
            BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "corio stream");
            if (made == nullptr || BIO_meth_set_write_ex(made, &write) != 1 ||
                BIO_meth_set_read_ex(made, &read) != 1 || BIO_meth_set_ctrl(made, &ctrl) != 1 ||
                BIO_meth_set_create(made, &create) != 1)
                throw_context_error("tls_context: cannot create the stream BIO");
            return made;
        }();
        return m;
    }
};

// ---------------------------------------------------------------- context

tls_context_state::~tls_context_state() { SSL_CTX_free(ctx); }

namespace {

std::shared_ptr<tls_context_state> new_context(bool server) {
    ERR_clear_error();
    auto st = std::make_shared<tls_context_state>();
    st->server = server;
    st->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (st->ctx == nullptr) throw_context_error("tls_context: SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(st->ctx, TLS1_2_VERSION);
    // A peer that closes without close_notify gives EOF, as asyncio's
    // streams see it; renegotiation (TLS 1.2) is refused, so a write never
    // has to wait for the peer.
    SSL_CTX_set_options(st->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    // An idle connection gives its 16 KiB record buffers back.
    SSL_CTX_set_mode(st->ctx, SSL_MODE_RELEASE_BUFFERS);
    return st;
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* out_size, const unsigned char* offered,
                unsigned int offered_size, void* arg) {
    const auto* st = static_cast<const tls_context_state*>(arg);
    // The server's order of preference decides, as Python's ssl does.
    for (std::size_t i = 0; i < st->alpn.size(); i += 1 + st->alpn[i]) {
        const unsigned char* want = &st->alpn[i];
        for (unsigned int j = 0; j < offered_size; j += 1 + offered[j]) {
            if (offered[j] == want[0] && j + 1 + offered[j] <= offered_size &&
                std::memcmp(offered + j + 1, want + 1, want[0]) == 0) {
                *out = offered + j + 1;
                *out_size = offered[j];
                return SSL_TLSEXT_ERR_OK;
            }
        }
    }
    return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

}  // namespace corio::detail

namespace corio {

tls_context tls_context::client() {
    auto st = detail::new_context(false);
    if (SSL_CTX_set_default_verify_paths(st->ctx) != 1)
        detail::throw_context_error("tls_context::client: cannot load the system's CA certificates");
    SSL_CTX_set_verify(st->ctx, SSL_VERIFY_PEER, nullptr);
    return tls_context(std::move(st));
}

tls_context tls_context::server(const std::string& cert_chain_file, const std::string& private_key_file) {
    auto st = detail::new_context(true);
    if (SSL_CTX_use_certificate_chain_file(st->ctx, cert_chain_file.c_str()) != 1)
        detail::throw_context_error("tls_context::server: cannot load the certificate chain '" + cert_chain_file +
                                    "'");
    if (SSL_CTX_use_PrivateKey_file(st->ctx, private_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
            detail::throw_context_error("tls_context::server: the private key '" + private_key_file +
                                        "' does not match the certificate '" + cert_chain_file + "'");
        detail::throw_context_error("tls_context::server: cannot load the private key '" + private_key_file + "'");
    }
    if (SSL_CTX_check_private_key(st->ctx) != 1)
        detail::throw_context_error("tls_context::server: the private key '" + private_key_file +
                                    "' does not match the certificate '" + cert_chain_file + "'");
    return tls_context(std::move(st));
}

tls_context& tls_context::load_verify_file(const std::string& path) {
    ERR_clear_error();
    if (SSL_CTX_load_verify_locations(state_->ctx, path.c_str(), nullptr) != 1)
        detail::throw_context_error("tls_context::load_verify_file: cannot load CA certificates from '" + path +
                                    "'");
    return *this;
}

tls_context& tls_context::set_alpn(std::vector<std::string> protocols) {
    std::vector<unsigned char> wire;
    for (const std::string& p : protocols) {
        if (p.empty() || p.size() > 255)
            throw std::invalid_argument("tls_context::set_alpn: the protocol name '" + p +
                                        "' must be 1 to 255 bytes long");
        wire.push_back(static_cast<unsigned char>(p.size()));
        wire.insert(wire.end(), p.begin(), p.end());
    }
    state_->alpn = std::move(wire);
    if (state_->server) {
        SSL_CTX_set_alpn_select_cb(state_->ctx, state_->alpn.empty() ? nullptr : &detail::select_alpn,
                                   state_.get());
    } else if (SSL_CTX_set_alpn_protos(state_->ctx, state_->alpn.data(),
                                       static_cast<unsigned int>(state_->alpn.size())) != 0) {
        detail::throw_context_error("tls_context::set_alpn: OpenSSL refused the list");
    }
    return *this;
}

bool tls_context::is_server() const noexcept { return state_->server; }

void* tls_context::native_handle() const noexcept { return state_->ctx; }

}  // namespace corio

namespace corio::detail {

// ---------------------------------------------------------------- session

tls_session::tls_session(const tls_context& context, std::string_view server_hostname, std::string& out,
                         std::string peer_name)
    : out_(out), peer_name_(std::move(peer_name)) {
    ERR_clear_error();
    const tls_context_state& cx = *context.state();
    ssl_ = SSL_new(cx.ctx);
    if (ssl_ == nullptr) throw_context_error("stream::start_tls with " + peer_name_ + ": SSL_new failed");
    BIO* bio = BIO_new(tls_bio::method());
    if (bio == nullptr) {
        SSL_free(ssl_);
        throw_context_error("stream::start_tls with " + peer_name_ + ": BIO_new failed");
    }
    BIO_set_data(bio, this);
    SSL_set_bio(ssl_, bio, bio);  // the SSL owns it (one reference for both directions)
    if (cx.server) {
        SSL_set_accept_state(ssl_);
        return;
    }
    SSL_set_connect_state(ssl_);
    const std::string host(server_hostname);
    if (host.empty()) {
        SSL_free(ssl_);
        throw std::invalid_argument("stream::start_tls with " + peer_name_ +
                                    ": a client needs the server's host name to verify its certificate");
    }
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    if (is_address_literal(host)) {
        // An address is checked against the certificate's IP entries; SNI
        // carries names only (RFC 6066).
        if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
            SSL_free(ssl_);
            throw_context_error("stream::start_tls with " + peer_name_ + ": cannot verify the address '" + host + "'");
        }
    } else {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(ssl_, host.c_str()) != 1 || SSL_set_tlsext_host_name(ssl_, host.c_str()) != 1) {
            SSL_free(ssl_);
            throw_context_error("stream::start_tls with " + peer_name_ + ": cannot use the host name '" + host + "'");
        }
    }
}

tls_session::~tls_session() { SSL_free(ssl_); }

std::span<char> tls_session::input_space() {
    if (in_begin_ > 0 && in_end_ == in_capacity_) {
        std::memmove(in_.get(), in_.get() + in_begin_, in_end_ - in_begin_);
        in_end_ -= in_begin_;
        in_begin_ = 0;
    }
    if (in_end_ == in_capacity_) {
        const std::size_t capacity =
            in_capacity_ == 0 ? initial_input_capacity : std::min(in_capacity_ * 2, max_input_capacity);
        if (capacity <= in_capacity_) {
            // Cannot happen: OpenSSL takes a whole record (under 17 KiB)
            // from a full buffer before it asks for more.
            throw tls_error("stream::start_tls with " + peer_name_ + ": input buffer full");
        }
        auto bigger = std::make_unique<char[]>(capacity);
        if (in_end_ > 0) std::memcpy(bigger.get(), in_.get(), in_end_);
        in_ = std::move(bigger);
        in_capacity_ = capacity;
    }
    return {in_.get() + in_end_, in_capacity_ - in_end_};
}

void tls_session::input_prepend(std::string_view bytes) {
    if (bytes.empty()) return;
    std::string all(bytes);
    all.append(in_.get() + in_begin_, in_end_ - in_begin_);
    in_capacity_ = std::max(all.size(), initial_input_capacity);
    in_ = std::make_unique<char[]>(in_capacity_);
    std::memcpy(in_.get(), all.data(), all.size());
    in_begin_ = 0;
    in_end_ = all.size();
}

void tls_session::fail(const char* operation, int ret) {
    const int error = SSL_get_error(ssl_, ret);
    std::string reason = openssl_errors();
    const long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK && !SSL_is_server(ssl_)) {
        // "certificate verify failed" alone does not say why.
        reason = (reason.empty() ? std::string("certificate verify failed") : reason) + ": " +
                 X509_verify_cert_error_string(verify);
    } else if (reason.empty()) {
        if (error == SSL_ERROR_ZERO_RETURN || error == SSL_ERROR_SYSCALL || in_eof_)
            reason = "the peer closed the connection";
        else
            reason = "OpenSSL error " + std::to_string(error);
    }
    throw tls_error(std::string(operation) + " " + peer_name_ + ": " + reason);
}

bool tls_session::handshake() {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) return true;
    if (SSL_get_error(ssl_, r) == SSL_ERROR_WANT_READ && !in_eof_) return false;
    fail("stream::start_tls with", r);
}

tls_session::read_status tls_session::read(char* into, std::size_t size, std::size_t& got,
                                           const char* operation) {
    ERR_clear_error();
    got = 0;
    const int r = SSL_read_ex(ssl_, into, size, &got);
    if (r == 1) return read_status::data;
    switch (SSL_get_error(ssl_, r)) {
        case SSL_ERROR_WANT_READ:
            if (!in_eof_) return read_status::want_input;
            return read_status::eof;
        case SSL_ERROR_ZERO_RETURN:
            return read_status::eof;
        default:
            fail(operation, r);
    }
}

void tls_session::write(std::string_view plain) {
    ERR_clear_error();
    while (!plain.empty()) {
        std::size_t written = 0;
        const int r = SSL_write_ex(ssl_, plain.data(), plain.size(), &written);
        if (r != 1) fail("stream::write to", r);
        plain.remove_prefix(written);
    }
}

void tls_session::shutdown() noexcept {
    if (shut_) return;
    shut_ = true;
    ERR_clear_error();
    (void)SSL_shutdown(ssl_);  // 0: close_notify queued, the peer's not (yet) seen
    ERR_clear_error();
}

std::string tls_session::alpn_protocol() const {
    const unsigned char* name = nullptr;
    unsigned int size = 0;
    SSL_get0_alpn_selected(ssl_, &name, &size);
    return name == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(name), size);
}

std::string tls_session::version() const { return SSL_get_version(ssl_); }

}  // namespace corio::detail
