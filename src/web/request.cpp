// web::request's body and lazily parsed parts, and stream_response, which
// write and read through the request's connection (server_state.hpp).
#include <corio/web/request.hpp>

#include <stdexcept>

#include <corio/http/headers.hpp>
#include <corio/web/errors.hpp>
#include <corio/web/response.hpp>

#include "multipart.hpp"
#include "server_state.hpp"

namespace corio::web {

std::string_view request::query_string() const noexcept {
    const std::string_view target = head_.target;
    const std::size_t q = target.find('?');
    return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

const multi_dict& request::query() const {
    if (!query_) query_ = parse_urlencoded(query_string());
    return *query_;
}

std::string_view request::match_info(std::string_view name) const {
    for (const auto& [key, value] : match_info_)
        if (key == name) return value;
    throw std::out_of_range("request::match_info '" + std::string(name) + "': the route " +
                            std::string(head_.method) + " " + path_ + " has no such part");
}

const multi_dict& request::cookies() const {
    if (!cookies_) {
        multi_dict out;
        for (std::string_view line : head_.headers.get_all("Cookie")) {
            while (!line.empty()) {
                const std::size_t semi = line.find(';');
                std::string_view pair = line.substr(0, semi);
                while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
                while (!pair.empty() && pair.back() == ' ') pair.remove_suffix(1);
                const std::size_t eq = pair.find('=');
                if (eq != std::string_view::npos && eq > 0) {
                    std::string_view value = pair.substr(eq + 1);
                    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                        value = value.substr(1, value.size() - 2);
                    out.add(std::string(pair.substr(0, eq)), std::string(value));
                }
                if (semi == std::string_view::npos) break;
                line.remove_prefix(semi + 1);
            }
        }
        cookies_ = std::move(out);
    }
    return *cookies_;
}

std::string request::content_type() const {
    const std::optional<std::string_view> value = head_.headers.get("Content-Type");
    if (!value) return "application/octet-stream";
    std::string_view type = value->substr(0, value->find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
    while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
    std::string out(type);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

task<void> request::load_body() {
    if (body_) co_return;
    if (!connection_) throw std::logic_error("request::read: the request is no longer being served");
    std::string body;
    co_await connection_->read_body(body);
    body_ = std::move(body);
}

task<std::string> request::read() {
    co_await load_body();
    co_return *body_;  // a copy: the request keeps its own for later calls
}

task<std::string> request::text() { co_return co_await read(); }

task<nlohmann::json> request::json() {
    co_await load_body();
    try {
        co_return nlohmann::json::parse(*body_);
    } catch (const nlohmann::json::parse_error& e) {
        throw http_bad_request(std::string("request::json: the body is not JSON: ") + e.what());
    }
}

task<multi_dict> request::post() {
    const std::string type = content_type();
    if (type == "application/x-www-form-urlencoded") {
        co_await load_body();
        co_return parse_urlencoded(*body_);
    }
    if (type == "multipart/form-data") {
        co_await load_body();
        co_return detail::parse_multipart_form(head_.headers.get("Content-Type").value_or(""), *body_);
    }
    co_return multi_dict();
}

async_generator<std::string_view> request::content() {
    if (!connection_) throw std::logic_error("request::content: the request is no longer being served");
    if (body_) {
        if (!body_->empty()) co_yield std::string_view(*body_);
        co_return;
    }
    detail::connection_state* c = connection_;
    for (;;) {
        c->piece.clear();
        const bool more = co_await c->read_body_piece(c->piece);  // workaround(gcc-12): not inside the condition
        if (!more) {
            if (!c->piece.empty()) co_yield std::string_view(c->piece);
            co_return;
        }
        co_yield std::string_view(c->piece);
    }
}

// ---- stream_response

stream_response::stream_response(int status, http::headers headers) : response(status, std::string(), std::move(headers)) {}

task<> stream_response::prepare(request& req) {
    if (request_) throw std::logic_error("stream_response::prepare: the response was already prepared");
    if (!req.connection_) throw std::logic_error("stream_response::prepare: the request is no longer being served");
    if (req.connection_->current != &req)
        throw std::logic_error("stream_response::prepare: the request is not the one being answered");
    co_await req.connection_->stream_prepare(req, *this);
    request_ = &req;
}

task<> stream_response::write(std::string_view chunk) {
    if (!request_) throw std::logic_error("stream_response::write: call prepare(request) first");
    co_await request_->connection_->stream_write(chunk);
}

task<> stream_response::write_eof() {
    if (!request_) throw std::logic_error("stream_response::write_eof: call prepare(request) first");
    co_await request_->connection_->stream_end();
}

}  // namespace corio::web
