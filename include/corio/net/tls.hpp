// corio/net/tls.hpp: tls_context, the TLS settings a stream or a server uses
// (Python's ssl.SSLContext), docs/reference.md, Networking.
//
//   auto ctx = corio::tls_context::client();          // system CAs, host name checked
//   co_await corio::with(corio::open_connection("example.com", 443, {.tls = ctx}),
//       [](corio::stream& s) -> corio::task<> { ... });
//
//   auto srv = co_await corio::start_server(handler, "0.0.0.0", 8443,
//       {.tls = corio::tls_context::server("cert.pem", "key.pem")});
//
// A client context verifies the peer's certificate chain against the
// system's CAs (plus any load_verify_file) and the host name it connects to;
// there is no switch that turns verification off. Protocol versions are
// TLS 1.2 and 1.3. The handshake, reads and writes run on OpenSSL 3 over the
// stream's own buffers (no OpenSSL socket I/O), so TLS works on both
// backends and every await stays cancellable.
//
// A tls_context is a cheap handle: copies share one OpenSSL SSL_CTX, and a
// setting changed through one copy applies to connections started after it
// through any copy. Errors building a context are tls_error naming the file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <corio/errors.hpp>

namespace corio {

namespace detail {
struct tls_context_state;
}

class tls_context {
public:
    /// For connecting: verifies the server's chain against the system's CAs
    /// and its name against the host connected to (ssl.create_default_context()).
    static tls_context client();
    /// For serving: the certificate chain (PEM, leaf first) and its private
    /// key; tls_error naming the file if either cannot be loaded or they do
    /// not match.
    static tls_context server(const std::string& cert_chain_file, const std::string& private_key_file);

    /// Adds the CA certificates of a PEM file to those trusted (a private CA,
    /// or a self-signed server's own certificate).
    tls_context& load_verify_file(const std::string& path);
    /// ALPN: the protocols offered (client) or accepted in order of
    /// preference (server), e.g. {"h2", "http/1.1"}. Each 1 to 255 bytes.
    tls_context& set_alpn(std::vector<std::string> protocols);

    bool is_server() const noexcept;
    /// The OpenSSL SSL_CTX*, for settings corio does not wrap.
    void* native_handle() const noexcept;

    const std::shared_ptr<detail::tls_context_state>& state() const noexcept { return state_; }

private:
    explicit tls_context(std::shared_ptr<detail::tls_context_state> state) noexcept : state_(std::move(state)) {}
    std::shared_ptr<detail::tls_context_state> state_;
};

}  // namespace corio
