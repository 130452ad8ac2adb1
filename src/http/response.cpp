// The client's response (corio/http/response.hpp): its plain calls, and the
// body read through the parser and the content decoder.
#include <corio/http/response.hpp>

#include "text.hpp"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <corio/errors.hpp>
#include <corio/time/timeout.hpp>

#include "client_state.hpp"

namespace corio::http {

namespace detail {

namespace {

constexpr std::size_t read_chunk = 64 * 1024;
constexpr std::size_t max_line = 64 * 1024;


}  // namespace

wait_bound nearest(std::optional<clock::time_point> total_at, std::optional<std::chrono::milliseconds> total,
                   std::optional<std::chrono::milliseconds> step, const char* step_name) {
    wait_bound b;
    if (total_at) b = {total_at, "total", *total};
    if (step) {
        const auto at = clock::now() + *step;
        if (!b.at || at < *b.at) b = {at, step_name, *step};
    }
    return b;
}

void throw_bound_passed(const wait_bound& bound, std::string_view what, std::string_view url) {
    std::string text(what);
    if (!url.empty()) (text += ' ') += url;
    throw corio::timeout_error(text + ": " + bound.which + " timeout (" + std::to_string(bound.value.count()) +
                               " ms) passed");
}

std::string response_state::take(std::size_t n) {
    n = std::min(n, available());
    std::string out = pending.substr(pending_begin, n);
    pending_begin += n;
    if (pending_begin == pending.size()) {
        pending.clear();
        pending_begin = 0;
    }
    return out;
}

void response_state::parse_held() {
    while (!raw.empty() && !parser.done()) {
        std::size_t used = 0;
        if (decoder && !decoder->identity()) {
            content_decoder& d = *decoder;
            std::string& out = pending;
            used = parser.feed(raw.held(), [&](std::string_view piece) { d.decode(piece, out); });
        } else {
            std::string& out = pending;
            used = parser.feed(raw.held(), [&](std::string_view piece) { out.append(piece); });
        }
        raw.consume(used);
        if (used == 0) break;
    }
}

void response_state::finish_body() {
    body_done = true;
    if (decoder) decoder->finish();
    // Bytes after the end of the message would be a response nobody asked
    // for: such a connection is not kept.
    const bool reusable = parser.keep_alive() && raw.empty();
    lease.release(reusable);
}

task<bool> response_state::fill() {
    if (broken) throw client_payload_error(describe() + ": the response was left mid-body (a read failed or was cancelled)");
    if (reading) throw std::logic_error("response::read " + describe() + ": another task is reading this response");
    reading = true;
    struct reading_flag {
        bool& flag;
        ~reading_flag() { flag = false; }
    } guard{reading};
    bool completed = false;
    try {
        while (available() == 0) {
            if (body_done) co_return false;
            parse_held();
            if (parser.done()) {
                finish_body();
                break;
            }
            if (available() > 0) break;
            if (!lease.has_connection()) {  // released before the end
                body_done = true;
                break;
            }
            const auto bound = nearest(total_at, total, sock_read, "sock_read");
            const std::size_t n = co_await within(lease.connection().read_some(raw.space(read_chunk)), bound, method, url_text);
            raw.commit(n);
            if (n == 0) {
                if (!parser.finish_on_eof())
                    throw client_payload_error(describe() + ": the server closed the connection inside the body");
                finish_body();
                break;
            }
        }
        completed = true;
    } catch (const protocol_error& e) {
        broken = true;
        lease.release(false);
        throw client_payload_error(describe() + ": " + e.what());
    } catch (const std::system_error& e) {
        broken = true;
        lease.release(false);
        throw client_payload_error(describe() + ": " + e.what());
    } catch (...) {
        broken = true;  // cancelled or timed out mid-body: never pooled
        lease.release(false);
        throw;
    }
    (void)completed;
    co_return available() > 0;
}

void response_state::release() noexcept {
    lease.release(body_done && parser.keep_alive() && raw.empty());
    body_done = true;
}

}  // namespace detail

// ---------------------------------------------------------------- body_reader

task<std::string> body_reader::read(std::size_t n) {
    // workaround(gcc-12): a co_await inside && miscompiles (SIGILL): one statement each.
    if (state_->available() == 0) {
        const bool more = co_await state_->fill();
        if (!more) co_return std::string();
    }
    co_return state_->take(n);
}

task<std::string> body_reader::read() {
    std::string all;
    while (co_await state_->fill()) all += state_->take(state_->available());
    co_return all;
}

task<std::string> body_reader::readline() {
    std::string line;
    for (;;) {
        // workaround(gcc-12): a co_await inside && miscompiles (SIGILL): one statement each.
        if (state_->available() == 0) {
            const bool more = co_await state_->fill();
            if (!more) co_return line;
        }
        const std::string_view have(state_->pending.data() + state_->pending_begin, state_->available());
        const std::size_t nl = have.find('\n');
        const std::size_t take = nl == std::string_view::npos ? have.size() : nl + 1;
        if (line.size() + take > detail::max_line && nl == std::string_view::npos)
            throw client_payload_error(state_->describe() + ": a line longer than 65536 bytes");
        line += state_->take(take);
        if (nl != std::string_view::npos) co_return line;
    }
}

task<std::string> body_reader::read_exactly(std::size_t n) {
    std::string out;
    while (out.size() < n) {
        bool more = state_->available() > 0;
        if (!more) more = co_await state_->fill();  // workaround(gcc-12): not inside && (SIGILL)
        if (!more) {
            const std::size_t got = out.size();
            throw incomplete_read_error(std::move(out), n,
                                        "body_reader::read_exactly " + state_->describe() + ": the body ended after " +
                                            std::to_string(got) + " of " + std::to_string(n) + " bytes");
        }
        out += state_->take(n - out.size());
    }
    co_return out;
}

async_generator<std::string> body_reader::iter_chunked(std::size_t n) {
    if (n == 0) throw std::invalid_argument("body_reader::iter_chunked " + state_->describe() + ": n must be > 0");
    for (;;) {
        std::string piece = co_await read(n);
        if (piece.empty()) co_return;
        co_yield piece;
    }
}

async_generator<std::string> body_reader::iter_any() {
    for (;;) {
        // workaround(gcc-12): a co_await inside && miscompiles (SIGILL): one statement each.
        if (state_->available() == 0) {
            const bool more = co_await state_->fill();
            if (!more) co_return;
        }
        std::string piece = state_->take(state_->available());
        co_yield piece;
    }
}

bool body_reader::at_eof() const noexcept { return state_->body_done && state_->available() == 0; }

// ---------------------------------------------------------------- response

response::response() noexcept = default;
response::response(std::unique_ptr<detail::response_state> state) noexcept : state_(std::move(state)) {}
response::response(response&& other) noexcept = default;
response& response::operator=(response&& other) noexcept = default;
response::~response() {
    if (state_) state_->release();
}

int response::status() const noexcept { return state_->head.status; }
std::string_view response::reason() const noexcept { return state_->head.reason; }
bool response::ok() const noexcept { return state_->head.status < 400; }
const http::headers& response::headers() const noexcept { return state_->head.headers; }
const std::string& response::url() const noexcept { return state_->url_text; }
const std::string& response::method() const noexcept { return state_->method; }
const std::vector<response>& response::history() const noexcept { return state_->history; }
http_version response::version() const noexcept {
    return http_version{state_->head.version / 10, state_->head.version % 10};
}
std::string response::describe() const { return state_->describe(); }

std::string response::content_type() const {
    auto v = state_->head.headers.get("Content-Type");
    if (!v) return "application/octet-stream";
    return detail::lower_ascii(detail::trim_ows(v->substr(0, v->find(';'))));
}

std::optional<std::string> response::charset() const {
    auto v = state_->head.headers.get("Content-Type");
    if (!v) return std::nullopt;
    std::string_view rest = *v;
    while (true) {
        const std::size_t semi = rest.find(';');
        if (semi == std::string_view::npos) return std::nullopt;
        rest.remove_prefix(semi + 1);
        std::string_view param = detail::trim_ows(rest.substr(0, rest.find(';')));
        const std::size_t eq = param.find('=');
        if (eq != std::string_view::npos && iequals(detail::trim_ows(param.substr(0, eq)), "charset")) {
            std::string_view value = detail::trim_ows(param.substr(eq + 1));
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
            return detail::lower_ascii(value);
        }
    }
}

std::optional<std::uint64_t> response::content_length() const {
    auto v = state_->head.headers.get("Content-Length");
    if (!v) return std::nullopt;
    std::uint64_t n = 0;
    for (char c : *v) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return n;
}

task<std::string> response::read() { return state_->reader.read(); }

task<std::string> response::text() {
    std::string body = co_await read();
    const std::string cs = charset().value_or("utf-8");
    if (cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii") co_return body;
    iconv_t cd = ::iconv_open("UTF-8", cs.c_str());
    if (cd == reinterpret_cast<iconv_t>(-1))
        throw client_payload_error(describe() + ": unknown charset '" + cs + "'");
    std::string out(body.size() * 4 + 16, '\0');
    char* in = body.data();
    std::size_t in_left = body.size();
    char* o = out.data();
    std::size_t out_left = out.size();
    const std::size_t r = ::iconv(cd, &in, &in_left, &o, &out_left);
    const int err = errno;
    ::iconv_close(cd);
    if (r == static_cast<std::size_t>(-1))
        throw client_payload_error(describe() + ": the body is not valid " + cs + " (" + std::strerror(err) + ")");
    out.resize(out.size() - out_left);
    co_return out;
}

task<nlohmann::json> response::json() {
    const std::string type = content_type();
    const bool is_json = type == "application/json" || (type.size() > 5 && type.ends_with("+json"));
    if (!is_json)
        throw content_type_error(describe() + ": attempt to decode JSON with unexpected mimetype: " + type, status(),
                                 headers());
    std::string body = co_await text();
    try {
        co_return nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& e) {
        throw client_payload_error(describe() + ": the body is not JSON (" + e.what() + ")");
    }
}

body_reader& response::content() { return state_->reader; }

void response::raise_for_status() const {
    if (status() >= 400)
        throw client_response_error("response::raise_for_status " + describe() + ": " + std::to_string(status()) + " " + std::string(reason()), status(),
                                    headers());
}

void response::release() noexcept {
    if (state_) state_->release();
}

}  // namespace corio::http
