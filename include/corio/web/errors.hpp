// corio/web/errors.hpp: the web exceptions (aiohttp's web.HTTPException
// family), one type per status, thrown by a handler to answer with that status.
//
//   if (!user) throw corio::web::http_not_found();
//   throw corio::web::http_found("/login");          // 302, Location: /login
//   throw corio::web::http_bad_request("id must be a number");
//
// The server turns a web exception into its response: the status, the
// exception's headers, and its text as a text/plain body ("404: Not Found"
// when no text was given, as aiohttp). Redirects (3xx) take the location and
// check it as a header value. Any other exception a handler lets out is a 500
// whose message stays in the server's log, never in the response.
// Every type derives from http_exception; catch that for all of them.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <corio/http/headers.hpp>

namespace corio::web {

class http_exception : public std::runtime_error {
public:
    /// `text` empty: "<status>: <reason>" (as aiohttp's default body).
    http_exception(int status, std::string text, http::headers headers);

    int status() const noexcept { return status_; }
    /// The response body (text/plain).
    const std::string& text() const noexcept { return text_; }
    const http::headers& headers() const noexcept { return headers_; }
    http::headers& headers() noexcept { return headers_; }

private:
    int status_;
    std::string text_;
    http::headers headers_;
};

/// The exception of one status: http_status_error<404> is http_not_found.
template <int Status>
class http_status_error : public http_exception {
public:
    explicit http_status_error(std::string text = std::string(), http::headers headers = http::headers())
        : http_exception(Status, std::move(text), std::move(headers)) {}
};

/// A redirect: the status with a Location header.
template <int Status>
class http_redirect : public http_exception {
public:
    explicit http_redirect(std::string_view location, std::string text = std::string())
        : http_exception(Status, std::move(text), http::headers{{"Location", location}}) {}
    std::string_view location() const noexcept { return *headers().get("Location"); }
};

/// 405 with the Allow header listing what the resource answers.
class http_method_not_allowed : public http_exception {
public:
    http_method_not_allowed(std::string_view method, const std::vector<std::string>& allowed,
                            std::string text = std::string());
    const std::string& method() const noexcept { return method_; }
    const std::vector<std::string>& allowed_methods() const noexcept { return allowed_; }

private:
    std::string method_;
    std::vector<std::string> allowed_;
};

// 2xx (aiohttp has them too: a handler may raise its success).
using http_ok = http_status_error<200>;
using http_created = http_status_error<201>;
using http_accepted = http_status_error<202>;
using http_no_content = http_status_error<204>;
// 3xx
using http_multiple_choices = http_redirect<300>;
using http_moved_permanently = http_redirect<301>;
using http_found = http_redirect<302>;
using http_see_other = http_redirect<303>;
using http_not_modified = http_status_error<304>;
using http_temporary_redirect = http_redirect<307>;
using http_permanent_redirect = http_redirect<308>;
// 4xx
using http_bad_request = http_status_error<400>;
using http_unauthorized = http_status_error<401>;
using http_payment_required = http_status_error<402>;
using http_forbidden = http_status_error<403>;
using http_not_found = http_status_error<404>;
using http_not_acceptable = http_status_error<406>;
using http_request_timeout = http_status_error<408>;
using http_conflict = http_status_error<409>;
using http_gone = http_status_error<410>;
using http_length_required = http_status_error<411>;
using http_precondition_failed = http_status_error<412>;
using http_request_entity_too_large = http_status_error<413>;
using http_request_uri_too_long = http_status_error<414>;
using http_unsupported_media_type = http_status_error<415>;
using http_requested_range_not_satisfiable = http_status_error<416>;
using http_expectation_failed = http_status_error<417>;
using http_misdirected_request = http_status_error<421>;
using http_unprocessable_entity = http_status_error<422>;
using http_too_many_requests = http_status_error<429>;
using http_request_header_fields_too_large = http_status_error<431>;
using http_unavailable_for_legal_reasons = http_status_error<451>;
// 5xx
using http_internal_server_error = http_status_error<500>;
using http_not_implemented = http_status_error<501>;
using http_bad_gateway = http_status_error<502>;
using http_service_unavailable = http_status_error<503>;
using http_gateway_timeout = http_status_error<504>;
using http_version_not_supported = http_status_error<505>;

}  // namespace corio::web
