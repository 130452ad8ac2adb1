// corio/http/errors.hpp: the HTTP client's exceptions (aiohttp's
// ClientError family). Each message names the method and the URL; a timeout
// is corio::timeout_error saying which timeout fired, a cancellation
// corio::cancelled_error, as everywhere in corio.
//
//   client_error : std::runtime_error
//   ├── client_connector_error             connecting or resolving failed (os_error(): the errno)
//   │   └── client_connector_certificate_error   TLS verification failed
//   ├── server_disconnected_error          the peer closed before the status line and headers
//   ├── client_payload_error               a body that cannot be read whole and right
//   ├── invalid_url
//   └── client_response_error              (in response.hpp: it carries the status and headers)
#pragma once

#include <stdexcept>
#include <string>

namespace corio::http {

class client_error : public std::runtime_error {
public:
    explicit client_error(const std::string& what) : std::runtime_error(what) {}
};

class client_connector_error : public client_error {
public:
    client_connector_error(const std::string& what, int os_error) : client_error(what), os_error_(os_error) {}
    /// The errno of the failure (ECONNREFUSED, ETIMEDOUT, ...); 0 when none applies.
    int os_error() const noexcept { return os_error_; }

private:
    int os_error_;
};

class client_connector_certificate_error : public client_connector_error {
public:
    explicit client_connector_certificate_error(const std::string& what) : client_connector_error(what, 0) {}
};

class server_disconnected_error : public client_error {
public:
    explicit server_disconnected_error(const std::string& what) : client_error(what) {}
};

class client_payload_error : public client_error {
public:
    explicit client_payload_error(const std::string& what) : client_error(what) {}
};

class invalid_url : public client_error {
public:
    explicit invalid_url(const std::string& what) : client_error(what) {}
};

}  // namespace corio::http
