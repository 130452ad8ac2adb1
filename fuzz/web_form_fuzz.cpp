// libFuzzer target: what corio::web parses of a request besides its head
// (the head is http_response_parser_fuzz's, in its request mode): multipart
// form bodies, url-encoded forms and queries, percent-decoded paths. Besides
// what the sanitizers catch it checks that a multipart body either parses or
// throws http_bad_request (never anything else), that every part's value is
// a piece of the body, and that decoding never grows the text.
//
// Input: byte 0 picks the boundary length (1-16 bytes of "b"); the rest is
// the body, also given to the url-encoded and percent decoders.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "corio/web/errors.hpp"
#include "corio/web/multi_dict.hpp"
#include "../src/web/multipart.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string boundary(1 + data[0] % 16, 'b');
    const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        const corio::web::multi_dict form =
            corio::web::detail::parse_multipart_form("multipart/form-data; boundary=\"" + boundary + "\"", body);
        for (const auto& [name, value] : form) {
            if (value.size() > body.size() || name.size() > body.size()) std::abort();
            if (!value.empty() && body.find(value) == std::string_view::npos) std::abort();
        }
    } catch (const corio::web::http_bad_request&) {
    }
    const corio::web::multi_dict pairs = corio::web::parse_urlencoded(body);
    for (const auto& [name, value] : pairs)
        if (name.size() + value.size() > body.size()) std::abort();
    if (const auto decoded = corio::web::percent_decode(body); decoded && decoded->size() > body.size()) std::abort();
    return 0;
}
