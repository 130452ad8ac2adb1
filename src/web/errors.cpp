// The web exceptions' shared parts (corio/web/errors.hpp).
#include <corio/web/errors.hpp>

#include <corio/http/message.hpp>

namespace corio::web {

namespace {
std::string default_text(int status, std::string text) {
    if (!text.empty()) return text;
    std::string out = std::to_string(status);
    const std::string_view reason = http::reason_phrase(status);
    if (!reason.empty()) (out += ": ") += reason;
    return out;
}
}  // namespace

http_exception::http_exception(int status, std::string text, http::headers headers)
    : std::runtime_error(default_text(status, text)),
      status_(status),
      text_(default_text(status, std::move(text))),
      headers_(std::move(headers)) {}

namespace {
http::headers allow_header(const std::vector<std::string>& allowed) {
    std::string value;
    for (const std::string& m : allowed) {
        if (!value.empty()) value += ", ";
        value += m;
    }
    return http::headers{{"Allow", value}};
}
}  // namespace

http_method_not_allowed::http_method_not_allowed(std::string_view method, const std::vector<std::string>& allowed,
                                                 std::string text)
    : http_exception(405, std::move(text), allow_header(allowed)), method_(method), allowed_(allowed) {}

}  // namespace corio::web
