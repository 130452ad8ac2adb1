// web::response, json_response, file_response (corio/web/response.hpp). What
// is sent is the connection's work (src/web/connection.cpp): here the
// response is only described, and checked as it is described.
#include <corio/web/response.hpp>

#include <stdexcept>
#include <string>

#include <corio/http/headers.hpp>

namespace corio::web {

namespace {
void check_status(int status, const char* operation) {
    if (status < 100 || status > 599)
        throw std::invalid_argument(std::string(operation) + " " + std::to_string(status) +
                                    ": a status is a number from 100 to 599");
}

// RFC 6265 cookie-octet: what a cookie value may hold unquoted.
bool cookie_octet(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u == 0x21 || (u >= 0x23 && u <= 0x2b) || (u >= 0x2d && u <= 0x3a) || (u >= 0x3c && u <= 0x5b) ||
           (u >= 0x5d && u <= 0x7e);
}

void check_attribute(std::string_view name, std::string_view attribute, std::string_view value) {
    for (char c : value)
        if (c == ';' || c == '\r' || c == '\n' || c == '\0')
            throw std::invalid_argument("response::set_cookie '" + std::string(name) + "': the " +
                                        std::string(attribute) + " holds ';', CR, LF or NUL");
}
}  // namespace

response::response(int status, std::string body, http::headers headers)
    : status_(status), headers_(std::move(headers)), body_(std::move(body)) {
    check_status(status, "response::response");
}

response response::text(std::string body, int status) {
    response r(status, std::move(body));
    r.headers_.add("Content-Type", "text/plain; charset=utf-8");
    return r;
}

response response::html(std::string body, int status) {
    response r(status, std::move(body));
    r.headers_.add("Content-Type", "text/html; charset=utf-8");
    return r;
}

void response::set_status(int status) {
    check_status(status, "response::set_status");
    status_ = status;
}

void response::set_reason(std::string reason) {
    for (char c : reason)
        if (c == '\r' || c == '\n' || c == '\0')
            throw std::invalid_argument("response::set_reason: the reason holds CR, LF or NUL");
    reason_ = std::move(reason);
}

std::string_view response::content_type() const noexcept { return headers_.get("Content-Type").value_or(""); }

void response::set_content_type(std::string_view type) { headers_.set("Content-Type", type); }

void response::set_cookie(std::string_view name, std::string_view value, const cookie_options& options) {
    if (name.empty() || !http::is_token(name))
        throw std::invalid_argument("response::set_cookie '" + std::string(name) + "': the name is not a token");
    bool plain = true;
    for (char c : value) plain = plain && cookie_octet(c);
    std::string line(name);
    line += '=';
    if (plain) {
        line += value;
    } else {
        // As Python's http.cookies: a value with other bytes goes quoted,
        // with '"' and '\' escaped; control bytes are refused.
        line += '"';
        for (char c : value) {
            const auto u = static_cast<unsigned char>(c);
            if (u < 0x20 || u == 0x7f)
                throw std::invalid_argument("response::set_cookie '" + std::string(name) +
                                            "': the value holds a control byte");
            if (c == '"' || c == '\\') line += '\\';
            line += c;
        }
        line += '"';
    }
    check_attribute(name, "path", options.path);
    check_attribute(name, "domain", options.domain);
    check_attribute(name, "expires", options.expires);
    check_attribute(name, "samesite", options.samesite);
    if (!options.domain.empty()) (line += "; Domain=") += options.domain;
    if (!options.expires.empty()) (line += "; expires=") += options.expires;
    if (options.max_age) (line += "; Max-Age=") += std::to_string(options.max_age->count());
    if (!options.path.empty()) (line += "; Path=") += options.path;
    if (!options.samesite.empty()) (line += "; SameSite=") += options.samesite;
    if (options.secure) line += "; Secure";
    if (options.httponly) line += "; HttpOnly";
    headers_.add("Set-Cookie", line);
}

void response::del_cookie(std::string_view name, std::string_view path, std::string_view domain) {
    cookie_options o;
    o.max_age = std::chrono::seconds(0);
    o.expires = "Thu, 01 Jan 1970 00:00:00 GMT";
    o.path = std::string(path);
    o.domain = std::string(domain);
    set_cookie(name, "", o);
}

response json_response(const nlohmann::json& value, int status) {
    response r(status, value.dump());
    r.headers().add("Content-Type", "application/json; charset=utf-8");
    return r;
}

response file_response(std::filesystem::path path) {
    response r;
    r.file_ = std::move(path);
    return r;
}

}  // namespace corio::web
