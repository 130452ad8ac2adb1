// Private to src/http: what a client_session shares with its responses
// (session_state), the state of one response (response_state), and the
// deadlines every wait of a request keeps.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <corio/detail/source_location.hpp>
#include <corio/http/client_options.hpp>
#include <corio/http/connection_pool.hpp>
#include <corio/http/content_decoder.hpp>
#include <corio/http/cookie_jar.hpp>
#include <corio/http/parser.hpp>
#include <corio/http/response.hpp>
#include <corio/http/url.hpp>
#include <corio/task.hpp>

namespace corio::http::detail {

using clock = std::chrono::steady_clock;

// The session's state, shared with its responses so that a response read
// after its session is gone still has a pool to give its connection to.
struct session_state {
    explicit session_state(session_options o, corio::source_location made_at);
    session_options options;
    tls_context tls;  // options.tls or tls_context::client()
    connection_pool pool;
    http::cookie_jar cookies;
    corio::source_location where;
    bool closed = false;
};

// Which bound ends a wait, and how its timeout_error names it.
struct wait_bound {
    std::optional<clock::time_point> at;
    const char* which = "";
    std::chrono::milliseconds value{0};
};

// The nearer of the request's total deadline and `now + step` (a step's own
// timeout: connect, sock_connect, sock_read).
wait_bound nearest(std::optional<clock::time_point> total_at, std::optional<std::chrono::milliseconds> total,
                   std::optional<std::chrono::milliseconds> step, const char* step_name);

// Reads into `into` within `bound`; past it, corio::timeout_error
// "<method> <url>: <which> timeout (<value> ms) passed" (the text is built
// only then: this runs for every read).
task<std::size_t> read_within(stream& conn, std::span<std::byte> into, wait_bound bound, std::string_view method,
                              std::string_view url);

// Bytes read from a connection and not yet parsed. Grows without clearing
// what it adds (std::string::resize zero-fills: a 16 KiB memset per read,
// 5% of a small request's CPU); what was parsed is dropped from the front.
class read_area {
public:
    std::string_view held() const noexcept { return {data_.get() + begin_, end_ - begin_}; }
    bool empty() const noexcept { return begin_ == end_; }
    std::size_t size() const noexcept { return end_ - begin_; }
    void consume(std::size_t n) noexcept {
        begin_ += n;
        if (begin_ == end_) begin_ = end_ = 0;
    }
    /// Room for at least `want` more bytes after what is held.
    std::span<std::byte> space(std::size_t want) {
        if (cap_ - end_ < want) {
            const std::size_t held_now = size();
            if (cap_ - held_now >= want && begin_ > 0) {
                std::memmove(data_.get(), data_.get() + begin_, held_now);
            } else {
                const std::size_t cap = std::max(cap_ * 2, held_now + want);
                auto bigger = std::make_unique_for_overwrite<char[]>(cap);
                if (held_now > 0) std::memcpy(bigger.get(), data_.get() + begin_, held_now);
                data_ = std::move(bigger);
                cap_ = cap;
            }
            begin_ = 0;
            end_ = held_now;
        }
        return {reinterpret_cast<std::byte*>(data_.get() + end_), cap_ - end_};
    }
    void commit(std::size_t n) noexcept { end_ += n; }

private:
    std::unique_ptr<char[]> data_;
    std::size_t cap_ = 0;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

struct response_state {
    std::shared_ptr<session_state> session;
    std::string method;
    http::url where;
    std::string url_text;
    http::response_head head;
    std::vector<response> history;
    pool_lease lease;
    response_parser parser;
    std::optional<content_decoder> decoder;
    // Bytes read from the connection and not yet parsed.
    read_area raw;
    // Body bytes decoded and not yet handed out.
    std::string pending;
    std::size_t pending_begin = 0;
    // Deadlines for the body's reads.
    std::optional<clock::time_point> total_at;
    std::optional<std::chrono::milliseconds> total;
    std::optional<std::chrono::milliseconds> sock_read;
    bool body_done = false;   // the whole body was read (or there is none)
    bool broken = false;      // a read failed or was cancelled mid-body
    bool reading = false;     // one reader at a time
    body_reader reader{this};

    explicit response_state(response_parser p) : parser(std::move(p)) {}

    std::string describe() const { return method + " " + url_text; }
    std::size_t available() const noexcept { return pending.size() - pending_begin; }
    std::string take(std::size_t n);
    // Reads and decodes until some body bytes are pending (true) or the body
    // has ended (false); at the end, gives the connection back.
    task<bool> fill();
    // Feeds the raw bytes held to the parser and decoder.
    void parse_held();
    // The body has ended: finish decoding, give the connection back.
    void finish_body();
    void release() noexcept;
};

}  // namespace corio::http::detail
