// file_response's sending (connection_state::send_file): conditional
// requests (If-None-Match, If-Modified-Since: 304), one byte range (206, or
// 416), then the bytes with sendfile(2) on a plain socket whose write buffer
// is empty, else read in 64 KiB pieces and written through the stream (TLS).
#include <fcntl.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <string>
#include <system_error>

#include <corio/detail/socket.hpp>
#include <corio/http/message.hpp>

#include "server_state.hpp"

namespace corio::web::detail {

namespace {

std::string_view media_type(const std::filesystem::path& p) {
    std::string ext = p.extension().string();
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    static constexpr std::pair<std::string_view, std::string_view> types[] = {
        {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},   {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"}, {".xml", "application/xml"},
        {".png", "image/png"},                 {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},               {".gif", "image/gif"},
        {".svg", "image/svg+xml"},             {".ico", "image/vnd.microsoft.icon"},
        {".webp", "image/webp"},               {".pdf", "application/pdf"},
        {".wasm", "application/wasm"},         {".woff2", "font/woff2"},
        {".mp4", "video/mp4"},                 {".gz", "application/gzip"},
    };
    for (const auto& [e, type] : types)
        if (ext == e) return type;
    return "application/octet-stream";
}

struct file_closer {
    int fd;
    ~file_closer() {
        if (fd >= 0) ::close(fd);
    }
};

bool parse_number(std::string_view s, std::uint64_t& out) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

// "bytes=a-b", "bytes=a-", "bytes=-n" against `size`: 1 satisfiable (begin,
// length set), 0 unsatisfiable, -1 not a single byte range (ignored: 200).
int parse_range(std::string_view value, std::uint64_t size, std::uint64_t& begin, std::uint64_t& length) {
    if (!value.starts_with("bytes=")) return -1;
    value.remove_prefix(6);
    if (value.find(',') != std::string_view::npos) return -1;  // several ranges: the whole file
    const std::size_t dash = value.find('-');
    if (dash == std::string_view::npos) return -1;
    const std::string_view first = value.substr(0, dash), last = value.substr(dash + 1);
    std::uint64_t a = 0, b = 0;
    if (first.empty()) {
        if (!parse_number(last, b)) return -1;
        if (b == 0 || size == 0) return 0;
        begin = size - std::min(b, size);
        length = size - begin;
        return 1;
    }
    if (!parse_number(first, a)) return -1;
    if (last.empty()) b = size == 0 ? 0 : size - 1;
    else if (!parse_number(last, b) || b < a) return -1;
    if (a >= size) return 0;
    b = std::min(b, size - 1);
    begin = a;
    length = b - a + 1;
    return 1;
}

bool etag_matches(std::string_view header, std::string_view etag) {
    bool match = false;
    http::for_each_list_element(header, [&](std::string_view tag) {
        if (tag == "*" || tag == etag || (tag.starts_with("W/") && tag.substr(2) == etag)) match = true;
    });
    return match;
}

}  // namespace

task<> connection_state::send_file(request& req, response& resp) {
    const std::filesystem::path& path = *resp.file();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    file_closer closer{fd};
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        response missing = response::text("404: Not Found", 404);
        co_await send(req, missing);
        co_return;
    }
    const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
    char etag_text[64];
    const int etag_len = std::snprintf(etag_text, sizeof etag_text, "\"%llx-%llx\"",
                                       static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ull +
                                           static_cast<unsigned long long>(st.st_mtim.tv_nsec),
                                       static_cast<unsigned long long>(size));
    const std::string_view etag(etag_text, static_cast<std::size_t>(etag_len));

    http::headers headers = resp.headers();
    if (!headers.contains("Content-Type")) headers.add("Content-Type", media_type(path));
    headers.set("ETag", etag);
    headers.set("Last-Modified", http_date(st.st_mtim.tv_sec));
    headers.set("Accept-Ranges", "bytes");

    int status = resp.status();
    bool not_modified = false;
    if (const auto inm = req.headers().get("If-None-Match")) {
        not_modified = etag_matches(*inm, etag);
    } else if (const auto ims = req.headers().get("If-Modified-Since")) {
        if (const std::optional<std::time_t> since = parse_http_date(*ims)) not_modified = st.st_mtim.tv_sec <= *since;
    }
    std::uint64_t begin = 0, length = size;
    if (not_modified) {
        status = 304;
        length = 0;
    } else if (const auto range = req.headers().get("Range"); range && status == 200) {
        const int r = parse_range(*range, size, begin, length);
        if (r == 0) {
            response unsatisfiable = response::text("416: Range Not Satisfiable", 416);
            unsatisfiable.headers().add("Content-Range", "bytes */" + std::to_string(size));
            co_await send(req, unsatisfiable);
            co_return;
        }
        if (r == 1) {
            status = 206;
            headers.set("Content-Range", "bytes " + std::to_string(begin) + "-" + std::to_string(begin + length - 1) +
                                             "/" + std::to_string(size));
        } else {
            length = size;
        }
    }

    const bool keep = !must_close && req.keep_alive() && !site.shutting_down;
    begin_head(status, "", headers, keep);
    if (status != 304) {
        out += "Content-Length: ";
        out += std::to_string(length);
        out += "\r\n";
    }
    out += "\r\n";
    s.write(out);
    if (!keep) must_close = true;
    if (head_only || length == 0) {
        co_await flush();
        co_return;
    }
    must_close = true;  // until every byte is out: a cut body must not be followed by another response
    std::uint64_t sent = 0;
    if (!s.is_tls() && s.write_buffer_size() == 0) {
        const int sock = s.native_handle();
        off_t offset = static_cast<off_t>(begin);
        while (sent < length) {
            const ssize_t n = ::sendfile(sock, fd, &offset, static_cast<std::size_t>(std::min<std::uint64_t>(length - sent, 1u << 20)));
            if (n > 0) {
                sent += static_cast<std::uint64_t>(n);
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                co_await corio::detail::wait_ready(sock, POLLOUT, "web::file_response");
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else if (n == 0) {
                co_return;  // the file shrank: the connection closes
            } else {
                throw std::system_error(errno, std::generic_category(),
                                        "web::file_response '" + path.string() + "' to " + s.peer_address().to_string());
            }
        }
    } else {
        // Read from the page cache in pieces (a blocking pread; a file on a
        // slow disk is better served by a reverse proxy).
        std::string piece(64 * 1024, '\0');
        while (sent < length) {
            const ssize_t n = ::pread(fd, piece.data(), static_cast<std::size_t>(std::min<std::uint64_t>(length - sent, piece.size())),
                                      static_cast<off_t>(begin + sent));
            if (n <= 0) co_return;
            s.write(std::string_view(piece.data(), static_cast<std::size_t>(n)));
            sent += static_cast<std::uint64_t>(n);
            co_await flush();
        }
    }
    co_await flush();
    must_close = !keep;
}

}  // namespace corio::web::detail
