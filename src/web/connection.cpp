// The server's side of one HTTP/1.1 connection (server_state.hpp): read a
// head, find the route, run the handler, write the response, keep the
// connection for the next request or close it. See corio/web/app_runner.hpp
// for the rules it keeps; the statuses for bad input are protocol_error's
// (corio/http/protocol_error.hpp).
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>

#include <corio/context/with.hpp>
#include <corio/errors.hpp>
#include <corio/http/headers.hpp>
#include <corio/http/message.hpp>
#include <corio/http/protocol_error.hpp>
#include <corio/time/timeout.hpp>
#include <corio/web/errors.hpp>
#include <corio/web/multi_dict.hpp>

#include "request_access.hpp"
#include "server_state.hpp"

namespace corio::web::detail {

namespace {

constexpr std::size_t read_chunk = 16 * 1024;
// A body the handler did not read is read and dropped up to this much so the
// connection can be kept; a larger one closes it.
constexpr std::uint64_t max_drained_body = 256 * 1024;
// How often a running handler's peer is looked at.
constexpr std::chrono::milliseconds peer_check_period{1000};

void append_number(std::string& out, std::uint64_t n) {
    char digits[24];
    const int len = std::snprintf(digits, sizeof digits, "%llu", static_cast<unsigned long long>(n));
    out.append(digits, static_cast<std::size_t>(len));
}

void append_hex(std::string& out, std::uint64_t n) {
    char digits[24];
    const int len = std::snprintf(digits, sizeof digits, "%llx", static_cast<unsigned long long>(n));
    out.append(digits, static_cast<std::size_t>(len));
}

// The fields the server writes itself; a handler's are dropped.
bool server_field(std::string_view name) noexcept {
    return http::iequals(name, "Content-Length") || http::iequals(name, "Transfer-Encoding") ||
           http::iequals(name, "Connection") || http::iequals(name, "Date") || http::iequals(name, "Server");
}

bool wants_continue(const http::request_head& head) {
    if (head.version < 11) return false;
    const std::optional<std::string_view> expect = head.headers.get("Expect");
    return expect && http::iequals(*expect, "100-continue");
}

// The response a web exception stands for.
response from_exception(const http_exception& e) {
    response r = response::text(e.text(), e.status());
    for (const auto& [name, value] : e.headers()) r.headers().add(name, value);
    return r;
}

response internal_error() {
    return response::text("500 Internal Server Error\n\nServer got itself in trouble", 500);
}

}  // namespace

// ---- the connection list of a site

void site_state::link(connection_state* c) noexcept {
    c->next = first;
    if (first) first->prev = c;
    first = c;
    ++connections;
}

void site_state::unlink(connection_state* c) noexcept {
    if (c->prev) c->prev->next = c->next;
    else first = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = nullptr;
    --connections;
    connection_ended.set();
}

// ---- connection_state

connection_state::connection_state(corio::stream& stream, site_state& owner)
    : s(stream),
      site(owner),
      runner(*owner.runner),
      settings(owner.runner->settings),
      parser(http::parser_limits()) {
    watchdog.owner = this;
    watchdog.set_fire(&on_watchdog);
    site.link(this);
}

connection_state::~connection_state() {
    if (watchdog.armed() && corio::detail::tls_loop) corio::detail::tls_loop->remove_timer(&watchdog);
    site.unlink(this);
}

void connection_state::arm_watchdog(clock::time_point when) noexcept {
    if (watchdog.armed()) {
        // Firing earlier is fine: it moves itself on. Only a later one moves
        // (rare: most requests leave it where it is, no heap operation).
        if (watchdog.deadline <= when) return;
        corio::detail::tls_loop->remove_timer(&watchdog);
    }
    watchdog.deadline = when;
    corio::detail::tls_loop->add_timer(&watchdog);
}

void connection_state::end_now() noexcept {
    if (scope && !scope->expired()) scope->reschedule(clock::now());
}

void connection_state::on_watchdog(corio::detail::wait_node* t) noexcept {
    connection_state* c = static_cast<watchdog_timer*>(t)->owner;
    const auto now = clock::now();
    if (c->head_deadline != clock::time_point::max()) {
        if (now >= c->head_deadline) {
            c->end_now();  // slowloris, or a keep-alive connection left idle
            return;
        }
        c->arm_watchdog(c->head_deadline);
        return;
    }
    if (c->in_handler) {
        // The request is read whole, so any byte now is the next request's;
        // an orderly close (recv gives 0) means the peer has gone: cancel the
        // handler (its exits run) rather than compute an answer nobody reads.
        char byte;
        const ssize_t n = ::recv(c->s.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            c->peer_gone = true;
            c->end_now();
            return;
        }
        c->arm_watchdog(now + peer_check_period);
    }
}

// ---- reading the body

task<bool> connection_state::read_body_piece(std::string& into) {
    if (body_done) co_return false;
    if (body_broken) throw http_bad_request("the request body could not be read");
    if (expect_continue) {
        expect_continue = false;
        s.write("HTTP/1.1 100 Continue\r\n\r\n");
    }
    const std::size_t before = into.size();
    try {
        for (;;) {
            if (!in.empty()) {
                const std::size_t used = parser.feed(in.held(), [&](std::string_view p) { into.append(p); });
                in.consume(used);
                if (parser.body_size() > client_max_size) {
                    body_broken = true;
                    throw http_request_entity_too_large("request body over client_max_size (" +
                                                        std::to_string(client_max_size) + " bytes)");
                }
                if (parser.done()) {
                    body_done = true;
                    co_return into.size() > before;
                }
                if (into.size() > before) co_return true;
            }
            const std::size_t n = co_await s.read_some(in.space(read_chunk));
            in.commit(n);
            if (n == 0) {
                parser.finish_on_eof();  // throws: the body was cut short
                body_done = true;
                co_return into.size() > before;
            }
        }
    } catch (const http::protocol_error& e) {
        body_broken = true;
        if (e.status() == 413) throw http_request_entity_too_large(e.what());
        throw http_bad_request(std::string("bad request body: ") + e.what());
    } catch (const std::system_error& e) {
        body_broken = true;
        throw http_bad_request(std::string("the request body could not be read: ") + e.what());
    }
}

task<> connection_state::read_body(std::string& into) {
    // workaround(gcc-12): a co_await as a loop condition compiles to ud2 (SIGILL).
    for (;;) {
        const bool more = co_await read_body_piece(into);
        if (!more) break;
    }
}

// ---- writing

void connection_state::begin_head(int status, std::string_view reason, const http::headers& headers,
                                  bool keep_alive) {
    out.clear();
    out += "HTTP/1.1 ";
    append_number(out, static_cast<std::uint64_t>(status));
    out += ' ';
    out += reason.empty() ? http::reason_phrase(status) : reason;
    out += "\r\n";
    for (const auto& [name, value] : headers) {
        if (server_field(name)) continue;
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    out += "Server: ";
    out += settings.server_name;
    out += "\r\nDate: ";
    out += http_date_now();
    out += "\r\n";
    if (!keep_alive) out += "Connection: close\r\n";
    else if (current && current->version() == 10) out += "Connection: keep-alive\r\n";
}

task<> connection_state::flush() {
    if (s.write_buffer_size() > 0) co_await s.drain();
}

task<> connection_state::send(request& req, response& resp) {
    if (resp.file()) {
        co_await send_file(req, resp);
        co_return;
    }
    const bool keep = !must_close && req.keep_alive() && !site.shutting_down;
    std::string_view body = resp.body();
    std::string compressed;
    const http::headers* headers = &resp.headers();
    http::headers with_encoding;
    if (resp.compression_enabled() && body.size() >= 512 && !resp.headers().contains("Content-Encoding")) {
        std::string encoding;
        compressed = compress_for(req.headers().get("Accept-Encoding").value_or(""), body, encoding);
        if (!encoding.empty()) {
            with_encoding = resp.headers();
            with_encoding.set("Content-Encoding", encoding);
            with_encoding.add("Vary", "Accept-Encoding");
            headers = &with_encoding;
            body = compressed;
        }
    }
    begin_head(resp.status(), resp.reason(), *headers, keep);
    if (!body.empty() && !headers->contains("Content-Type")) out += "Content-Type: application/octet-stream\r\n";
    const bool no_body = resp.status() == 204 || resp.status() == 304 || resp.status() < 200;
    if (!no_body) {
        out += "Content-Length: ";
        append_number(out, body.size());
        out += "\r\n";
    }
    out += "\r\n";
    if (!head_only && !no_body) {
        if (body.size() <= 16 * 1024) {
            out += body;  // one write for head and body
            s.write(out);
        } else {
            s.write(out);
            s.write(body);
        }
    } else {
        s.write(out);
    }
    if (!keep) must_close = true;
    co_await flush();
}

// ---- stream_response

task<> connection_state::stream_prepare(request& req, response& resp) {
    if (streaming) throw std::logic_error("stream_response::prepare: the response was already prepared");
    const bool keep_wanted = !must_close && req.keep_alive() && !site.shutting_down;
    const std::optional<std::string_view> length = resp.headers().get("Content-Length");
    stream_chunked = !length && req.version() >= 11;
    // Without a length or chunked framing (HTTP/1.0), the body ends with the close.
    const bool keep = keep_wanted && (length || stream_chunked);
    begin_head(resp.status(), resp.reason(), resp.headers(), keep);
    if (length) {
        out += "Content-Length: ";
        out += *length;
        out += "\r\n";
    } else if (stream_chunked && !head_only) {
        out += "Transfer-Encoding: chunked\r\n";
    }
    out += "\r\n";
    if (!keep) must_close = true;
    streaming = true;
    s.write(out);
    co_await flush();
}

task<> connection_state::stream_write(std::string_view chunk) {
    if (!streaming) throw std::logic_error("stream_response::write: call prepare(request) first");
    if (stream_ended) throw std::logic_error("stream_response::write: the body was already ended (write_eof)");
    if (head_only || chunk.empty()) co_return;
    if (stream_chunked) {
        out.clear();
        append_hex(out, chunk.size());
        out += "\r\n";
        s.write(out);
        s.write(chunk);
        s.write("\r\n");
    } else {
        s.write(chunk);
    }
    // Marked broken until the write is through: a cancelled write leaves half a body.
    const bool was = must_close;
    must_close = true;
    co_await flush();
    must_close = was;
}

task<> connection_state::stream_end() {
    if (!streaming) throw std::logic_error("stream_response::write_eof: call prepare(request) first");
    if (stream_ended) co_return;
    stream_ended = true;
    if (stream_chunked && !head_only) s.write("0\r\n\r\n");
    co_await flush();
}

// ---- the loop

task<> connection_state::serve() {
    bool first_request = true;
    std::vector<std::pair<std::string, std::string>> info;
    for (;;) {
        // The head, within keepalive_timeout for its first byte (the
        // header_timeout for a new connection's), header_timeout for the rest.
        idle = in.empty();
        const auto now = clock::now();
        head_deadline = now + (idle && !first_request ? settings.keepalive_timeout : settings.header_timeout);
        arm_watchdog(head_deadline);
        if (site.shutting_down && idle) co_return;
        bool have_head = false;
        bool refused = false;
        try {
            while (!have_head) {
                if (!in.empty()) {
                    if (idle) {
                        idle = false;
                        head_deadline = clock::now() + settings.header_timeout;
                    }
                    const std::size_t used = parser.feed(in.held());
                    in.consume(used);
                    if (parser.head_done()) {
                        have_head = true;
                        break;
                    }
                }
                const std::size_t n = co_await s.read_some(in.space(read_chunk));
                if (n == 0) {
                    if (parser.got_some()) parser.finish_on_eof();  // throws: a head cut short
                    co_return;
                }
                in.commit(n);
            }
        } catch (const http::protocol_error& e) {
            if (e.error_kind() == http::protocol_error::kind::incomplete_head) co_return;
            // Bad input: its status, and the connection closed.
            head_deadline = clock::time_point::max();
            http::headers none;
            begin_head(e.status(), "", none, false);
            std::string text = std::to_string(e.status()) + ": " + std::string(http::reason_phrase(e.status()));
            out += "Content-Type: text/plain; charset=utf-8\r\nContent-Length: ";
            append_number(out, text.size());
            out += "\r\n\r\n";
            out += text;
            s.write(out);
            refused = true;
        }
        if (refused) {
            co_await flush();
            co_return;
        }
        head_deadline = clock::time_point::max();
        idle = false;
        first_request = false;

        // The request.
        request req;
        const bool keep_alive = parser.keep_alive();
        const http::body_framing framing = parser.framing();
        req.head_ = std::move(parser.head());
        req.keep_alive_ = keep_alive;
        req.remote_ = &s.peer_address();
        req.connection_ = this;
        if (framing.kind == http::body_kind::content_length) req.content_length_ = framing.length;
        req.has_body_ = framing.kind == http::body_kind::chunked ||
                        (framing.kind == http::body_kind::content_length && framing.length > 0);
        body_done = !req.has_body_;
        body_broken = false;
        expect_continue = req.has_body_ && wants_continue(req.head_);
        head_only = req.head_.method == "HEAD";
        must_close = false;
        streaming = stream_ended = false;
        current = &req;

        response resp;
        bool answered = false;
        std::exception_ptr failure;
        const std::string_view target = req.head_.target;
        const std::string_view raw = target.substr(0, target.find('?'));
        if (raw.empty() || raw.front() != '/') {
            resp = response::text("400: Bad Request (the target is not an origin-form path)", 400);
            must_close = true;
            answered = true;
        } else if (raw.find('%') == std::string_view::npos) {
            req.path_ = std::string(raw);
        } else if (std::optional<std::string> decoded = percent_decode(raw)) {
            req.path_ = std::move(*decoded);
        } else {
            resp = response::text("400: Bad Request (a malformed %-escape in the path)", 400);
            must_close = true;
            answered = true;
        }
        if (!answered) {
            const std::optional<std::string_view> expect = req.head_.headers.get("Expect");
            if (expect && !http::iequals(*expect, "100-continue")) {
                resp = response::text("417: Expectation Failed", 417);
                must_close = true;
                answered = true;
            }
        }

        if (!answered) {
            route_match match = runner.table->resolve(req.method(), req.path(), info);
            req.app_ = match.app;
            req.match_info_ = std::move(info);
            request_access::allowed(req) = std::move(match.allowed);
            client_max_size = match.client_max_size;
            if (req.content_length_ && *req.content_length_ > client_max_size) {
                // Declared too large: answered before the body is sent.
                resp = response::text("413: Request Entity Too Large (body over client_max_size, " +
                                          std::to_string(client_max_size) + " bytes)",
                                      413);
                must_close = true;
                expect_continue = false;
            } else {
                in_handler = body_done;
                if (in_handler) arm_watchdog(clock::now() + peer_check_period);
                try {
                    if (settings.handler_timeout) {
                        auto bounded = [&](timeout_scope&) -> task<response> { co_return co_await (*match.chain)(req); };
                        auto within = corio::with(corio::timeout(*settings.handler_timeout), bounded);
                        resp = co_await std::move(within);
                    } else {
                        resp = co_await (*match.chain)(req);
                    }
                } catch (const http_exception& e) {
                    resp = from_exception(e);
                } catch (const corio::timeout_error&) {
                    if (!settings.handler_timeout) failure = std::current_exception();
                    else resp = response::text("503: Service Unavailable (the handler took longer than handler_timeout)", 503);
                } catch (const corio::cancelled_error&) {
                    in_handler = false;
                    current = nullptr;
                    throw;  // the connection is ending (shutdown, or the peer left)
                } catch (...) {
                    failure = std::current_exception();
                }
                in_handler = false;
            }
        }
        if (failure) {
            // Any other exception: a 500 that says nothing of it; the log has it.
            std::string what = "unknown exception";
            try {
                std::rethrow_exception(failure);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            std::fprintf(stderr, "corio::web: Error handling request %s %s from %s: %s\n", req.head_.method.c_str(),
                         req.head_.target.c_str(), s.peer_address().to_string().c_str(), what.c_str());
            resp = internal_error();
            if (streaming) must_close = true;
        }

        std::uint64_t sent_length = 0;
        if (streaming) {
            // Prepared by the handler: end its body if it did not.
            if (!stream_ended && !failure) co_await stream_end();
            if (failure) must_close = true;
        } else {
            sent_length = resp.body().size();
            co_await send(req, resp);
        }
        if (settings.access_log) {
            const auto user_agent = req.head_.headers.get("User-Agent");
            const auto referer = req.head_.headers.get("Referer");
            std::printf("%s [%s] \"%s %s HTTP/1.%d\" %d %llu \"%.*s\" \"%.*s\"\n",
                        s.peer_address().host().c_str(), std::string(http_date_now()).c_str(),
                        req.head_.method.c_str(), req.head_.target.c_str(), req.version() == 10 ? 0 : 1,
                        resp.status(), static_cast<unsigned long long>(sent_length),
                        static_cast<int>(referer.value_or("-").size()), referer.value_or("-").data(),
                        static_cast<int>(user_agent.value_or("-").size()), user_agent.value_or("-").data());
            std::fflush(stdout);
        }
        current = nullptr;

        // A body left unread: dropped when small (the connection is kept),
        // the connection closed otherwise, or when the client still waits for
        // 100 Continue and may never send it.
        if (!body_done && !must_close) {
            if (expect_continue || body_broken ||
                (framing.kind == http::body_kind::content_length && framing.length > max_drained_body)) {
                must_close = true;
            } else {
                client_max_size = max_drained_body;
                std::string dropped;
                try {
                    for (;;) {  // workaround(gcc-12): no co_await in a loop condition
                        const bool more = co_await read_body_piece(dropped);
                        if (!more) break;
                        dropped.clear();
                    }
                } catch (const http_exception&) {
                    must_close = true;
                }
            }
        }
        if (must_close || !keep_alive || site.shutting_down) co_return;
        parser.reset();
    }
}

task<> serve_connection(corio::stream& s, site_state& site) {
    connection_state c(s, site);
    timeout_scope scope(std::nullopt, false);  // a move_on scope: ending it closes the connection quietly
    auto body = [&c](timeout_scope& entered) -> task<> {
        c.scope = &entered;
        co_await c.serve();
    };
    try {
        co_await corio::with(scope, body);
    } catch (const std::system_error&) {
        // The peer reset the connection or a write failed: nothing to answer.
    }
}

}  // namespace corio::web::detail
