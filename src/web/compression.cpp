// response::enable_compression: gzip or deflate (zlib) by Accept-Encoding,
// gzip preferred, as aiohttp; an encoding given q=0 is not used.
#include <zlib.h>

#include <string>

#include <corio/http/message.hpp>

#include "server_state.hpp"

namespace corio::web::detail {

namespace {
bool accepts(std::string_view accept_encoding, std::string_view coding) {
    bool yes = false;
    http::for_each_list_element(accept_encoding, [&](std::string_view element) {
        const std::string_view name = element.substr(0, element.find(';'));
        std::string_view trimmed = name;
        while (!trimmed.empty() && trimmed.back() == ' ') trimmed.remove_suffix(1);
        if (!http::iequals(trimmed, coding)) return;
        const std::size_t q = element.find("q=");
        yes = q == std::string_view::npos || element.substr(q + 2).find_first_not_of("0.") != std::string_view::npos;
    });
    return yes;
}
}  // namespace

std::string compress_for(std::string_view accept_encoding, std::string_view body, std::string& encoding) {
    int window_bits = 0;
    if (accepts(accept_encoding, "gzip")) {
        encoding = "gzip";
        window_bits = 16 + MAX_WBITS;
    } else if (accepts(accept_encoding, "deflate")) {
        encoding = "deflate";
        window_bits = MAX_WBITS;
    } else {
        encoding.clear();
        return std::string();
    }
    z_stream z{};
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        encoding.clear();
        return std::string();
    }
    std::string out;
    out.resize(deflateBound(&z, static_cast<uLong>(body.size())));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
    z.avail_in = static_cast<uInt>(body.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        encoding.clear();
        return std::string();
    }
    return out;
}

}  // namespace corio::web::detail
