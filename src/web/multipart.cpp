// multipart/form-data parsing (multipart.hpp).
#include "multipart.hpp"

#include <string>

#include <corio/http/headers.hpp>
#include <corio/web/errors.hpp>

namespace corio::web::detail {

namespace {

[[noreturn]] void bad(const std::string& why) { throw http_bad_request("request::post: bad multipart body: " + why); }

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The value of parameter `key` in `type; a=1; b="x; y"` (unquoted, escapes undone).
std::string param(std::string_view header, std::string_view key) {
    std::size_t i = header.find(';');
    while (i != std::string_view::npos && i < header.size()) {
        ++i;
        const std::size_t eq = header.find('=', i);
        if (eq == std::string_view::npos) return std::string();
        const std::string_view k = trim(header.substr(i, eq - i));
        std::size_t j = eq + 1;
        while (j < header.size() && (header[j] == ' ' || header[j] == '\t')) ++j;
        std::string value;
        if (j < header.size() && header[j] == '"') {
            ++j;
            while (j < header.size() && header[j] != '"') {
                if (header[j] == '\\' && j + 1 < header.size()) ++j;
                value += header[j++];
            }
            i = header.find(';', j);
        } else {
            const std::size_t end = header.find(';', j);
            value = std::string(trim(header.substr(j, end == std::string_view::npos ? std::string_view::npos : end - j)));
            i = end;
        }
        if (http::iequals(k, key)) return value;
    }
    return std::string();
}

}  // namespace

multi_dict parse_multipart_form(std::string_view content_type, std::string_view body) {
    const std::string boundary = param(content_type, "boundary");
    if (boundary.empty() || boundary.size() > 70) bad("the Content-Type has no boundary (or one over 70 bytes)");
    const std::string delimiter = "--" + boundary;
    multi_dict out;
    std::size_t pos = body.find(delimiter);
    if (pos == std::string_view::npos) bad("no boundary line");
    for (;;) {
        pos += delimiter.size();
        if (body.substr(pos, 2) == "--") return out;  // the closing delimiter
        if (body.substr(pos, 2) != "\r\n") bad("a boundary line is not followed by CRLF");
        pos += 2;
        const std::size_t head_end = body.find("\r\n\r\n", pos);
        if (head_end == std::string_view::npos) bad("a part's headers do not end");
        std::string name;
        std::string_view headers = body.substr(pos, head_end - pos);
        while (!headers.empty()) {
            const std::size_t eol = headers.find("\r\n");
            const std::string_view line = headers.substr(0, eol);
            const std::size_t colon = line.find(':');
            if (colon == std::string_view::npos) bad("a part header without ':'");
            if (http::iequals(trim(line.substr(0, colon)), "Content-Disposition")) {
                const std::string_view value = trim(line.substr(colon + 1));
                if (!http::iequals(trim(value.substr(0, value.find(';'))), "form-data"))
                    bad("a part is not form-data");
                name = param(value, "name");
            }
            if (eol == std::string_view::npos) break;
            headers.remove_prefix(eol + 2);
        }
        const std::size_t content_begin = head_end + 4;
        const std::size_t next = body.find("\r\n" + delimiter, content_begin);
        if (next == std::string_view::npos) bad("a part does not end with a boundary");
        if (name.empty()) bad("a part has no name");
        out.add(std::move(name), std::string(body.substr(content_begin, next - content_begin)));
        pos = next + 2;
    }
}

}  // namespace corio::web::detail
