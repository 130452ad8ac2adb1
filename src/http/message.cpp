// corio/http/message.hpp: serializing heads, keep-alive and body framing.
// The parser (src/http/parser.cpp) decides framing with these same functions,
// so what a peer is told and what is read back follow one set of rules.
#include "corio/http/message.hpp"

#include "text.hpp"

#include <charconv>
#include <stdexcept>

namespace corio::http {
namespace {

void append_version(std::string& out, int version, const char* operation) {
    if (version == 11) {
        out += "HTTP/1.1";
    } else if (version == 10) {
        out += "HTTP/1.0";
    } else {
        throw std::invalid_argument(std::string(operation) + " version " + std::to_string(version) +
                                    ": corio writes HTTP/1.0 (10) and HTTP/1.1 (11) only");
    }
}

void append_fields(std::string& out, const headers& fields) {
    for (const auto& [name, value] : fields) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    out += "\r\n";
}

bool holds_line_break(std::string_view s) {
    return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// Connection's tokens, for keep_alive.
struct connection_tokens {
    bool close = false;
    bool keep_alive = false;
};

connection_tokens read_connection(const headers& fields) {
    connection_tokens tokens;
    for (const auto& [name, value] : fields) {
        if (!iequals(name, "Connection")) continue;
        for_each_list_element(value, [&](std::string_view token) {
            if (iequals(token, "close")) tokens.close = true;
            if (iequals(token, "keep-alive")) tokens.keep_alive = true;
        });
    }
    return tokens;
}

bool keep_alive_by(int version, const headers& fields) {
    auto tokens = read_connection(fields);
    if (tokens.close) return false;
    if (version >= 11) return true;
    return version == 10 && tokens.keep_alive;
}

std::string quoted(std::string_view s) { return detail::shown_in_message(s, 64, true); }

// The framing fields of a message, checked against request smuggling.
struct framing_fields {
    bool has_transfer_encoding = false;
    bool chunked_last = false;  // the last coding is chunked, and chunked appears once
    std::string transfer_encoding;
    bool has_content_length = false;
    std::uint64_t content_length = 0;
};

framing_fields read_framing(const headers& fields, bool is_request) {
    framing_fields f;
    std::size_t length_fields = 0;
    int chunked_count = 0;
    bool last_is_chunked = false;
    for (const auto& field : fields) {
        // Not a structured binding: clang 14 cannot capture one in a lambda.
        const std::string& name = field.first;
        const std::string& value = field.second;
        if (iequals(name, "Transfer-Encoding")) {
            if (f.has_transfer_encoding) f.transfer_encoding += ", ";
            f.has_transfer_encoding = true;
            f.transfer_encoding += value;
            for_each_list_element(value, [&](std::string_view coding) {
                // A coding is a plain token here: parameters (RFC 9112 7.3,
                // sent by no server in use) or stray bytes could be read as
                // chunked by one peer and not by another (Beast among them).
                last_is_chunked = iequals(coding, "chunked");
                if (!is_token(coding)) {
                    throw protocol_error(protocol_error::kind::bad_header,
                                         "bad Transfer-Encoding " + quoted(value) + " (not a list of codings)");
                }
                if (last_is_chunked) ++chunked_count;
            });
        } else if (iequals(name, "Content-Length")) {
            ++length_fields;
            std::size_t elements = 0;
            // A list ("5, 5") is several lengths in one field (RFC 9110 8.6).
            std::size_t commas = 0;
            for (char c : value) commas += c == ',';
            for_each_list_element(value, [&](std::string_view element) {
                ++elements;
                std::uint64_t n = 0;
                auto [end, ec] = std::from_chars(element.data(), element.data() + element.size(), n);
                if (ec != std::errc() || end != element.data() + element.size() || element.front() == '+' ||
                    element.front() == '-') {
                    throw protocol_error(protocol_error::kind::bad_header,
                                         "bad Content-Length " + quoted(value) + " (not a decimal number)");
                }
                if (f.has_content_length && n != f.content_length) {
                    throw protocol_error(protocol_error::kind::bad_framing,
                                         "several differing Content-Length values (" +
                                             std::to_string(f.content_length) + " and " + std::to_string(n) + ")");
                }
                f.has_content_length = true;
                f.content_length = n;
            });
            if (elements == 0 || elements != commas + 1) {
                throw protocol_error(protocol_error::kind::bad_header,
                                     "bad Content-Length " + quoted(value) + " (not a decimal number)");
            }
            if (is_request && (length_fields > 1 || elements > 1)) {
                throw protocol_error(protocol_error::kind::bad_framing,
                                     "several Content-Length values in a request (request smuggling)");
            }
        }
    }
    f.chunked_last = last_is_chunked && chunked_count == 1;
    if (f.has_transfer_encoding && f.has_content_length) {
        throw protocol_error(protocol_error::kind::bad_framing,
                             "both Transfer-Encoding and Content-Length (request smuggling)");
    }
    return f;
}

}  // namespace

void serialize(const request_head& head, std::string& out) {
    if (!is_token(head.method)) {
        throw std::invalid_argument("http::serialize method " + quoted(head.method) + ": not a token");
    }
    if (head.target.empty() || holds_line_break(head.target) ||
        head.target.find_first_of(" \t") != std::string::npos) {
        throw std::invalid_argument("http::serialize target " + quoted(head.target) +
                                    ": empty, or holds a space, CR, LF or NUL");
    }
    std::size_t size = head.method.size() + head.target.size() + 12;
    for (const auto& [name, value] : head.headers) size += name.size() + value.size() + 4;
    out.reserve(out.size() + size + 2);
    out += head.method;
    out += ' ';
    out += head.target;
    out += ' ';
    append_version(out, head.version, "http::serialize");
    out += "\r\n";
    append_fields(out, head.headers);
}

void serialize(const response_head& head, std::string& out) {
    if (head.status < 100 || head.status > 999) {
        throw std::invalid_argument("http::serialize status " + std::to_string(head.status) +
                                    ": not a 3-digit status code");
    }
    if (holds_line_break(head.reason)) {
        throw std::invalid_argument("http::serialize reason " + quoted(head.reason) + ": holds a CR, LF or NUL");
    }
    std::string_view reason = head.reason.empty() ? reason_phrase(head.status) : std::string_view(head.reason);
    std::size_t size = reason.size() + 15;
    for (const auto& [name, value] : head.headers) size += name.size() + value.size() + 4;
    out.reserve(out.size() + size + 2);
    append_version(out, head.version, "http::serialize");
    out += ' ';
    out += std::to_string(head.status);
    out += ' ';
    out += reason;
    out += "\r\n";
    append_fields(out, head.headers);
}

std::string serialize(const request_head& head) {
    std::string out;
    serialize(head, out);
    return out;
}

std::string serialize(const response_head& head) {
    std::string out;
    serialize(head, out);
    return out;
}

std::string_view reason_phrase(int status) noexcept {
    switch (status) {
        case 100: return "Continue";
        case 101: return "Switching Protocols";
        case 103: return "Early Hints";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 203: return "Non-Authoritative Information";
        case 204: return "No Content";
        case 205: return "Reset Content";
        case 206: return "Partial Content";
        case 300: return "Multiple Choices";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 303: return "See Other";
        case 304: return "Not Modified";
        case 307: return "Temporary Redirect";
        case 308: return "Permanent Redirect";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 402: return "Payment Required";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 407: return "Proxy Authentication Required";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 410: return "Gone";
        case 411: return "Length Required";
        case 412: return "Precondition Failed";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 415: return "Unsupported Media Type";
        case 416: return "Range Not Satisfiable";
        case 417: return "Expectation Failed";
        case 421: return "Misdirected Request";
        case 422: return "Unprocessable Content";
        case 426: return "Upgrade Required";
        case 428: return "Precondition Required";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        case 505: return "HTTP Version Not Supported";
        default: return "";
    }
}

bool keep_alive(const request_head& head) noexcept { return keep_alive_by(head.version, head.headers); }
bool keep_alive(const response_head& head) noexcept { return keep_alive_by(head.version, head.headers); }

body_framing response_framing(const response_head& head, std::string_view request_method) {
    // Checked first, whatever the status: a peer that sends both is not to be
    // trusted with the connection (RFC 9112 6.3, item 3).
    auto f = read_framing(head.headers, false);
    if (iequals(request_method, "HEAD") || head.status / 100 == 1 || head.status == 204 || head.status == 304) {
        return {body_kind::none, 0};
    }
    if (iequals(request_method, "CONNECT") && head.status / 100 == 2) return {body_kind::none, 0};
    if (f.has_transfer_encoding) {
        // A response whose codings do not end in chunked is read until close (item 4).
        return f.chunked_last ? body_framing{body_kind::chunked, 0} : body_framing{body_kind::until_close, 0};
    }
    if (f.has_content_length) return {body_kind::content_length, f.content_length};
    return {body_kind::until_close, 0};
}

body_framing request_framing(const request_head& head) {
    auto f = read_framing(head.headers, true);
    if (f.has_transfer_encoding) {
        if (!f.chunked_last) {
            throw protocol_error(protocol_error::kind::bad_framing,
                                 "Transfer-Encoding " + quoted(f.transfer_encoding) +
                                     " does not end in chunked (a request's body length would be unknown)");
        }
        return {body_kind::chunked, 0};
    }
    if (f.has_content_length) return {body_kind::content_length, f.content_length};
    return {body_kind::none, 0};
}

}  // namespace corio::http
