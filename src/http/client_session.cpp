// The HTTP client (corio/http/client_session.hpp): a request built, sent on a
// pooled or new connection, its response head read, redirects followed.
#include <corio/http/client_session.hpp>

#include <openssl/evp.h>

#include <cstdio>
#include <stdexcept>
#include <system_error>

#include <corio/context/with.hpp>
#include <corio/detail/promise_base.hpp>
#include <corio/errors.hpp>
#include <corio/http/chunked.hpp>
#include <corio/http/message.hpp>
#include <corio/net/connect.hpp>
#include <corio/time/timeout.hpp>

#include "../runtime/report_names.hpp"
#include "client_state.hpp"

namespace corio::http {

namespace detail {

session_state::session_state(session_options o, corio::source_location made_at)
    : options(std::move(o)),
      tls(options.tls ? *options.tls : tls_context::client()),
      pool(pool_options{options.limit, options.limit_per_host, options.keepalive_timeout}),
      where(made_at) {
    if (!options.tls) tls.set_alpn({"http/1.1"});
}

namespace {

bool idempotent(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" || method == "DELETE" ||
           method == "TRACE";
}

std::string base64(std::string_view in) {
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// application/x-www-form-urlencoded, as browsers and aiohttp's FormData
// write it (WHATWG URL: space as '+').
std::string form_encode(const query_params& form) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    auto put = [&](std::string_view s) {
        for (unsigned char c : s) {
            if (std::isalnum(c) || c == '*' || c == '-' || c == '.' || c == '_') out += static_cast<char>(c);
            else if (c == ' ') out += '+';
            else {
                out += '%';
                out += hex[c >> 4];
                out += hex[c & 15];
            }
        }
    };
    for (const auto& [name, value] : form) {
        if (!out.empty()) out += '&';
        put(name);
        out += '=';
        put(value);
    }
    return out;
}

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

// What the request's body is: bytes with their type, or a stream of chunks.
struct request_body {
    std::optional<std::string> bytes;
    std::string content_type;
    async_generator<std::string>* stream = nullptr;
};

request_body prepare_body(request_options& o, const std::string& what) {
    const int given = int(o.data.has_value()) + int(o.json.has_value()) + int(o.form.has_value()) + int(o.body.has_value());
    if (given > 1)
        throw client_error("client_session::request " + what + ": give at most one of data, json, form and body");
    request_body b;
    if (o.data) {
        b.bytes = std::move(*o.data);
        b.content_type = "application/octet-stream";
    } else if (o.json) {
        b.bytes = o.json->dump();
        b.content_type = "application/json";
    } else if (o.form) {
        b.bytes = form_encode(*o.form);
        b.content_type = "application/x-www-form-urlencoded";
    } else if (o.body) {
        b.stream = &*o.body;
        b.content_type = "application/octet-stream";
    }
    return b;
}

request_head build_head(session_state& s, const std::string& method, const url& u, const http::headers& extra,
                        const request_body& body, const std::optional<basic_auth>& auth) {
    request_head head;
    head.method = method;
    head.target = u.target();
    head.headers.reserve(8 + s.options.headers.size() + extra.size());
    head.headers.add("Host", u.host_header());
    auto add_unless_given = [&](std::string_view name, std::string_view value) {
        if (!extra.contains(name) && !s.options.headers.contains(name)) head.headers.add(name, value);
    };
    add_unless_given("User-Agent", s.options.user_agent.empty() ? std::string_view("corio/0.1.0") : s.options.user_agent);
    add_unless_given("Accept", "*/*");
    if (s.options.auto_decompress) add_unless_given("Accept-Encoding", "gzip, deflate, br");
    for (const auto& [name, value] : s.options.headers)
        if (!extra.contains(name) && !iequals(name, "Host")) head.headers.add(name, value);
    for (const auto& [name, value] : extra)
        if (!iequals(name, "Host")) head.headers.add(name, value);
    if (s.options.cookie_jar) {
        std::string jar = s.cookies.header_for(u.host(), path_of(u.target()), u.secure());
        if (!jar.empty()) {
            if (auto given = head.headers.get("Cookie")) jar = std::string(*given) + "; " + jar;
            head.headers.set("Cookie", jar);
        }
    }
    if (!head.headers.contains("Authorization")) {
        if (auth) head.headers.add("Authorization", "Basic " + base64(auth->user + ":" + auth->password));
        else if (u.user()) head.headers.add("Authorization", "Basic " + base64(*u.user() + ":" + u.password().value_or("")));
    }
    if (body.bytes || body.stream) {
        if (!head.headers.contains("Content-Type")) head.headers.add("Content-Type", body.content_type);
        head.headers.remove("Content-Length");
        head.headers.remove("Transfer-Encoding");
        if (body.bytes) head.headers.add("Content-Length", std::to_string(body.bytes->size()));
        else head.headers.add("Transfer-Encoding", "chunked");
    } else if (method == "POST" || method == "PUT" || method == "PATCH") {
        if (!head.headers.contains("Content-Length")) head.headers.add("Content-Length", "0");
    }
    return head;
}

bool certificate_failure(const std::string& what) {
    return what.find("certificate verify failed") != std::string::npos ||
           what.find("certificate") != std::string::npos;
}

}  // namespace

struct request_runner {
    static task<stream> connect(session_state& s, const url& u, const client_timeout& t,
                                std::optional<clock::time_point> total_at, const std::string& what);
    static task<response> exchange(std::shared_ptr<session_state> s, std::string method, url u, std::string wire,
                                   async_generator<std::string>* stream_body, client_timeout t,
                                   std::optional<clock::time_point> total_at);
    static task<response> perform(std::shared_ptr<session_state> s, std::string method, std::string url_text,
                                  request_options o);
};

task<stream> request_runner::connect(session_state& s, const url& u, const client_timeout& t,
                                     std::optional<clock::time_point> total_at, const std::string& what) {
    connect_options options;
    if (u.secure()) {
        options.tls = s.tls;
        options.server_hostname = u.host();
    }
    options.connect_timeout = t.sock_connect;
    try {
        co_return co_await within(open_connection(u.host(), u.port(), std::move(options)),
                                  nearest(total_at, t.total, t.connect, "connect"), what);
    } catch (const corio::timeout_error&) {
        throw;
    } catch (const tls_error& e) {
        const std::string message = "client_session::request " + what + ": " + e.what();
        if (certificate_failure(e.what())) throw client_connector_certificate_error(message);
        throw client_connector_error(message, 0);
    } catch (const std::system_error& e) {
        if (e.code() == std::errc::timed_out && t.sock_connect)
            throw corio::timeout_error(what + ": sock_connect timeout (" + std::to_string(t.sock_connect->count()) +
                                       " ms) passed");
        throw client_connector_error("client_session::request " + what + ": " + e.what(), e.code().value());
    } catch (const std::runtime_error& e) {  // resolving
        throw client_connector_error("client_session::request " + what + ": " + e.what(), 0);
    }
}

task<response> request_runner::exchange(std::shared_ptr<session_state> s, std::string method, url u, std::string wire,
                                        async_generator<std::string>* stream_body, client_timeout t,
                                        std::optional<clock::time_point> total_at) {
    const std::string what = method + " " + u.str();
    const pool_key key{u.scheme(), u.host(), u.port(), u.secure() ? s->tls.native_handle() : nullptr};
    parser_limits limits;
    limits.max_line_size = s->options.max_line_size;
    limits.max_field_size = s->options.max_field_size;
    for (int attempt = 0;; ++attempt) {
        pool_lease lease = co_await within(s->pool.acquire(key), nearest(total_at, t.total, t.connect, "connect"), what);
        if (!lease.has_connection()) lease.attach(co_await connect(*s, u, t, total_at, what));
        // A kept-alive connection the server closed meanwhile fails before
        // any byte of the response: then the request is sent once more on a
        // new connection, if sending it twice is harmless.
        const bool may_retry = lease.reused() && attempt == 0 && idempotent(method) && stream_body == nullptr;
        stream& conn = lease.connection();
        try {
            co_await within(conn.write_all(wire), nearest(total_at, t.total, std::nullopt, ""), what);
            if (stream_body != nullptr) {
                while (auto chunk = co_await stream_body->next()) {
                    if (chunk->empty()) continue;
                    chunk_header header(chunk->size());
                    conn.write(header.view());
                    conn.write(*chunk);
                    conn.write(chunk_end);
                    co_await within(conn.drain(), nearest(total_at, t.total, std::nullopt, ""), what);
                }
                co_await within(conn.write_all(last_chunk), nearest(total_at, t.total, std::nullopt, ""), what);
            }
        } catch (const std::system_error& e) {
            if (may_retry) continue;  // the lease closes the connection
            throw server_disconnected_error("client_session::request " + what + ": " + e.what());
        }

        auto state = std::make_unique<response_state>(response_parser(limits));
        if (method == "HEAD") state->parser.skip_body();
        bool retry = false;
        try {
            for (;;) {
                if (!state->raw.empty()) {
                    state->raw.consume(state->parser.feed(state->raw.held(), [](std::string_view) {}));
                    if (state->parser.head_done()) {
                        const int status = state->parser.head().status;
                        if (status >= 100 && status < 200 && status != 101) {  // 100 Continue, 103: another head follows
                            state->parser.reset();
                            if (method == "HEAD") state->parser.skip_body();
                            continue;
                        }
                        break;
                    }
                }
                const std::size_t held = state->raw.size();
                std::size_t n = 0;
                try {
                    n = co_await within(conn.read_some(state->raw.space(16 * 1024)),
                                             nearest(total_at, t.total, t.sock_read, "sock_read"), what, {});
                } catch (const std::system_error&) {
                    if (may_retry && held == 0 && !state->parser.got_some()) {
                        retry = true;
                        break;
                    }
                    throw;
                }
                state->raw.commit(n);
                if (n == 0) {
                    if (may_retry && !state->parser.got_some() && held == 0) {
                        retry = true;
                        break;
                    }
                    throw server_disconnected_error(
                        "client_session::request " + what + ": " +
                        (state->parser.got_some() || held > 0 ? "the server closed the connection inside the response head"
                                                             : "the server closed the connection without a response"));
                }
            }
        } catch (const protocol_error& e) {
            throw client_response_error("client_session::request " + what + ": " + e.what(), 400, http::headers());
        } catch (const std::system_error& e) {
            throw server_disconnected_error("client_session::request " + what + ": " + e.what());
        }
        if (retry) continue;

        state->session = s;
        state->method = method;
        state->url_text = u.str();
        state->where = std::move(u);
        state->head = state->parser.head();
        state->total_at = total_at;
        state->total = t.total;
        state->sock_read = t.sock_read;
        if (s->options.auto_decompress) {
            if (auto coding = state->head.headers.get("Content-Encoding"); coding && content_decoder::supported(*coding))
                state->decoder.emplace(*coding, s->options.max_decompressed_size);
        }
        state->lease = std::move(lease);
        // A response without a body (HEAD, 204, 304, ...) gives its
        // connection back now; another parses what came with the head.
        try {
            state->parse_held();
            if (state->parser.done()) state->finish_body();
        } catch (const protocol_error& e) {
            throw client_payload_error("client_session::request " + what + ": " + e.what());
        }
        co_return response(std::move(state));
    }
}

task<response> request_runner::perform(std::shared_ptr<session_state> s, std::string method, std::string url_text,
                                       request_options o) {
    std::string what = method + " " + url_text;
    if (s->closed) throw client_error("client_session::request " + what + ": the session is closed");
    if (!is_token(method)) throw client_error("client_session::request " + what + ": the method is not a token");
    const client_timeout t = o.timeout.value_or(s->options.timeout);
    const std::optional<clock::time_point> total_at =
        t.total ? std::optional<clock::time_point>(clock::now() + *t.total) : std::nullopt;
    url u;
    try {
        u = s->options.base_url.empty() ? url::parse(url_text) : url::parse(s->options.base_url).join(url_text);
        if (!o.params.empty()) u = u.with_params(o.params);
    } catch (const url_error& e) {
        throw invalid_url("client_session::request " + what + ": " + e.reason());
    }
    what = method + " " + u.str();
    request_body body = prepare_body(o, what);
    std::optional<basic_auth> auth = o.auth;
    http::headers extra = std::move(o.headers);
    const std::size_t max_redirects = o.max_redirects.value_or(s->options.max_redirects);
    std::vector<response> history;
    for (;;) {
        const request_head head = build_head(*s, method, u, extra, body, auth);
        std::string wire = serialize(head);
        if (body.bytes) wire += *body.bytes;
        response r = co_await exchange(s, method, u, std::move(wire), body.stream, t, total_at);
        if (s->options.cookie_jar)
            for (std::string_view v : r.headers().get_all("Set-Cookie"))
                s->cookies.update(v, u.host(), path_of(u.target()), u.secure());
        const int status = r.status();
        const auto location = r.headers().get("Location");
        const bool redirect = o.allow_redirects && location &&
                              (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) &&
                              !(body.stream != nullptr && (status == 307 || status == 308));  // a stream cannot be sent twice
        if (!redirect) {
            r.state_->history = std::move(history);
            if (o.raise_for_status.value_or(s->options.raise_for_status)) r.raise_for_status();
            co_return r;
        }
        if (history.size() >= max_redirects)
            throw too_many_redirects("client_session::request " + what + ": more than " + std::to_string(max_redirects) +
                                         " redirects (the last to " + std::string(*location) + ")",
                                     status, r.headers());
        url next;
        try {
            next = u.join(*location);
        } catch (const url_error& e) {
            throw invalid_url("client_session::request " + what + ": the redirect to " + std::string(*location) +
                              " is not a URL: " + e.reason());
        }
        // The redirect's own body is read and dropped, so its connection can
        // serve the next request.
        while (!(co_await r.content().read(64 * 1024)).empty()) {
        }
        r.release();
        if (status == 301 || status == 302 || status == 303) {
            if (method != "HEAD") method = "GET";
            body = request_body();
            extra.remove("Content-Type");
            extra.remove("Content-Length");
            extra.remove("Transfer-Encoding");
        }
        if (!(next.origin() == u.origin())) {
            auth.reset();
            extra.remove("Authorization");
        }
        history.push_back(std::move(r));
        u = std::move(next);
        what = method + " " + u.str();
    }
}

}  // namespace detail

// ---------------------------------------------------------------- request_context

request_context::request_context(std::shared_ptr<detail::session_state> session, std::string method, std::string url,
                                 request_options options)
    : session_(std::move(session)),
      method_(std::move(method)),
      url_(std::move(url)),
      options_(std::make_unique<request_options>(std::move(options))) {}

request_context::request_context(request_context&&) noexcept = default;
request_context::~request_context() = default;

task<response&> request_context::aenter() {
    if (!options_) throw std::logic_error("request_context::aenter " + method_ + " " + url_ + ": entered twice");
    request_options options = std::move(*options_);
    options_.reset();
    response_.emplace(co_await detail::request_runner::perform(session_, method_, url_, std::move(options)));
    co_return *response_;
}

task<> request_context::aexit(std::exception_ptr) {
    if (response_) response_->release();
    co_return;
}

std::coroutine_handle<> request_context::await_suspend(std::coroutine_handle<> caller) {
    if (!options_) throw std::logic_error("request_context::co_await " + method_ + " " + url_ + ": sent twice");
    request_options options = std::move(*options_);
    options_.reset();
    sending_.emplace(detail::request_runner::perform(session_, method_, url_, std::move(options)));
    return typename task<response>::awaiter{sending_->handle()}.await_suspend(caller);
}

response request_context::await_resume() { return typename task<response>::awaiter{sending_->handle()}.await_resume(); }

// ---------------------------------------------------------------- client_session

client_session::client_session(session_options options, corio::source_location where)
    : state_(std::make_shared<detail::session_state>(std::move(options), where)) {}

client_session::client_session(client_session&&) noexcept = default;
client_session& client_session::operator=(client_session&& other) noexcept {
    if (this != &other) {
        if (state_ && !state_->closed) {
            state_->closed = true;
            state_->pool.close();
        }
        state_ = std::move(other.state_);
    }
    return *this;
}

client_session::~client_session() {
    if (!state_ || state_->closed) return;
    if (corio::detail::report_unclosed()) [[unlikely]] {
        std::fprintf(stderr, "corio debug: unclosed client session (made at ");
        corio::detail::print_where(stderr, state_->where);
        std::fprintf(stderr, "); close it with co_await session.close() or use it in a with\n");
    }
    state_->closed = true;
    state_->pool.close();
}

task<> client_session::aexit(std::exception_ptr) { return close(); }

task<> client_session::close() {
    state_->closed = true;
    state_->pool.close();
    co_return;
}

bool client_session::closed() const noexcept { return state_->closed; }

request_context client_session::get(std::string url, request_options o) {
    return request_context(state_, "GET", std::move(url), std::move(o));
}
request_context client_session::post(std::string url, request_options o) {
    return request_context(state_, "POST", std::move(url), std::move(o));
}
request_context client_session::put(std::string url, request_options o) {
    return request_context(state_, "PUT", std::move(url), std::move(o));
}
request_context client_session::patch(std::string url, request_options o) {
    return request_context(state_, "PATCH", std::move(url), std::move(o));
}
request_context client_session::delete_(std::string url, request_options o) {
    return request_context(state_, "DELETE", std::move(url), std::move(o));
}
request_context client_session::head(std::string url, request_options o) {
    return request_context(state_, "HEAD", std::move(url), std::move(o));
}
request_context client_session::options(std::string url, request_options o) {
    return request_context(state_, "OPTIONS", std::move(url), std::move(o));
}
request_context client_session::request(std::string method, std::string url, request_options o) {
    return request_context(state_, std::move(method), std::move(url), std::move(o));
}

http::cookie_jar& client_session::cookie_jar() noexcept { return state_->cookies; }
const session_options& client_session::settings() const noexcept { return state_->options; }
std::size_t client_session::connections_in_use() const noexcept { return state_->pool.in_use(); }
std::size_t client_session::connections_idle() const noexcept { return state_->pool.idle(); }

}  // namespace corio::http
