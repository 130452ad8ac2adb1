// corio/http/url.hpp on Boost.URL: parse_uri and parse_uri_reference for the
// grammar, resolve for RFC 3986 5.2, normalize for 6.2.2, encode for query
// parameters. What is ours: the lenient pre-encoding browsers apply, and the
// checks an HTTP client needs (scheme, host, port).
#include "corio/http/url.hpp"

#include "text.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url.hpp>

#include <charconv>

namespace corio::http {
namespace {

namespace urls = boost::urls;

std::string shown(std::string_view text) { return detail::shown_in_message(text, 200, false); }

// Percent-encodes what browsers accept unencoded; refuses control characters.
std::string pre_encode(const char* operation, std::string_view text) {
    std::string out;
    out.reserve(text.size());
    static const char hex[] = "0123456789ABCDEF";
    for (char c : text) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            throw url_error(operation, shown(text), "holds a control character");
        }
        if (u >= 0x80 || std::string_view(" \"<>\\^`{|}").find(c) != std::string_view::npos) {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    return out;
}

// RFC 3986 5.2.4. Boost.URL 1.81's resolve keeps ".." above the root
// ("http://a/../g") and its normalize() decodes escapes of reserved
// characters (a "%26" in a query value would become a separator), so the
// path's dot segments are removed here and the rest of the URL left as given.
std::string remove_dot_segments(std::string_view in) {
    std::string out;
    while (!in.empty()) {
        if (in.substr(0, 3) == "../") {
            in.remove_prefix(3);
        } else if (in.substr(0, 2) == "./") {
            in.remove_prefix(2);
        } else if (in.substr(0, 3) == "/./") {
            in.remove_prefix(2);
        } else if (in == "/.") {
            in = "/";
        } else if (in.substr(0, 4) == "/../" || in == "/..") {
            in = in.size() == 3 ? std::string_view("/") : in.substr(3);
            auto slash = out.rfind('/');
            out.erase(slash == std::string::npos ? 0 : slash);
        } else if (in == "." || in == "..") {
            in = {};
        } else {
            auto next = in.find('/', 1);
            out.append(in.substr(0, next));
            in.remove_prefix(next == std::string_view::npos ? in.size() : next);
        }
    }
    return out;
}

bool valid_host_name(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '.' || c == '_';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

url url::parse(std::string_view text) {
    const char* operation = "http::url::parse";
    std::string encoded = pre_encode(operation, text);
    auto parsed = urls::parse_uri(encoded);
    if (!parsed) {
        throw url_error(operation, shown(text), "not an absolute URL");
    }
    urls::url u(*parsed);
    u.normalize_scheme();
    u.normalize_authority();
    std::string path = remove_dot_segments(u.encoded_path());
    if (path != u.encoded_path()) u.set_encoded_path(path);
    url result;
    result.scheme_ = std::string(u.scheme());
    if (result.scheme_ != "http" && result.scheme_ != "https") {
        throw url_error(operation, shown(text), "the scheme is not http or https");
    }
    switch (u.host_type()) {
        case urls::host_type::name: {
            result.host_ = std::string(u.host_name());
            if (result.host_.empty()) throw url_error(operation, shown(text), "has no host");
            if (!valid_host_name(result.host_)) {
                throw url_error(operation, shown(text), "the host '" + shown(result.host_) + "' is not a valid name");
            }
            break;
        }
        case urls::host_type::ipv4: result.host_ = std::string(u.encoded_host_address()); break;
        case urls::host_type::ipv6:
            result.host_ = std::string(u.encoded_host_address());
            result.ipv6_ = true;
            break;
        default: throw url_error(operation, shown(text), "has no host");
    }
    if (result.host_.empty()) throw url_error(operation, shown(text), "has no host");
    result.port_ = result.secure() ? 443 : 80;
    if (u.has_port() && !u.port().empty()) {
        std::string_view port = u.port();
        unsigned value = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
            throw url_error(operation, shown(text), "the port '" + std::string(port) + "' is not in 1..65535");
        }
        result.port_ = static_cast<std::uint16_t>(value);
    }
    if (u.has_userinfo()) {
        result.user_ = std::string(u.user());
        if (u.has_password()) result.password_ = std::string(u.password());
    }
    result.target_ = std::string(u.encoded_path());
    if (result.target_.empty()) result.target_ = "/";
    if (u.has_query()) {
        result.target_ += '?';
        result.target_ += u.encoded_query();
    }
    result.text_ = std::string(u.buffer());
    return result;
}

url url::join(std::string_view reference) const {
    const char* operation = "http::url::join";
    std::string encoded = pre_encode(operation, reference);
    auto ref = urls::parse_uri_reference(encoded);
    if (!ref) {
        throw url_error(operation, shown(reference), "not a URL reference");
    }
    auto base = urls::parse_uri(text_);
    urls::url joined;
    auto resolved = urls::resolve(*base, *ref, joined);
    if (!resolved) {
        throw url_error(operation, shown(reference),
                        "cannot be resolved against " + text_ + " (" + resolved.error().message() + ")");
    }
    try {
        return parse(joined.buffer());
    } catch (const url_error& e) {
        throw url_error(operation, shown(reference), e.reason() + " once joined to " + text_);
    }
}

url url::with_params(const params_type& params) const {
    if (params.empty()) return *this;
    auto base = urls::parse_uri(text_);
    urls::url u(*base);
    std::string query(u.encoded_query());
    for (const auto& [name, value] : params) {
        if (!query.empty()) query += '&';
        query += urls::encode(name, urls::unreserved_chars);
        query += '=';
        query += urls::encode(value, urls::unreserved_chars);
    }
    u.set_encoded_query(query);
    return parse(u.buffer());
}

std::string url::host_header() const {
    std::string out = ipv6_ ? "[" + host_ + "]" : host_;
    if (!default_port()) out += ":" + std::to_string(port_);
    return out;
}

}  // namespace corio::http
