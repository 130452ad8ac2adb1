// Private to src/web: multipart/form-data bodies (RFC 7578) as request::post
// gives them: each part's name and content, in order. Untrusted bytes: a
// body that does not follow the grammar throws http_bad_request saying why
// (fuzzed by fuzz/web_multipart_fuzz.cpp).
#pragma once

#include <string_view>

#include <corio/web/multi_dict.hpp>

namespace corio::web::detail {

/// `content_type` is the whole header value (it carries the boundary).
multi_dict parse_multipart_form(std::string_view content_type, std::string_view body);

}  // namespace corio::web::detail
