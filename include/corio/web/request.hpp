// corio/web/request.hpp: what a handler is given (aiohttp's web.Request).
//
//   auto id = req.match_info("id");                        // percent-decoded
//   auto page = req.query().get("page").value_or("1");
//   nlohmann::json body = co_await req.json();             // 400 when not JSON
//   auto form = co_await req.post();                       // url-encoded or multipart
//   for co_await-style: auto chunks = req.content(); while (auto c = co_await chunks.next()) ...
//
// The head is parsed before the handler runs; the body is read when the
// handler asks (read, text, json, post, content), so a handler that answers
// without it never waits for it. A body over the application's
// client_max_size throws http_request_entity_too_large (413). A request with
// `Expect: 100-continue` gets "100 Continue" when the handler first reads.
// The body is read once: read() keeps it, so text(), json() and post() may
// follow it; content() hands out pieces as they arrive and keeps nothing.
// A request belongs to its connection's task: it must not be used after the
// handler returned.
#pragma once

#include <any>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <corio/async_generator.hpp>
#include <corio/http/message.hpp>
#include <corio/net/address.hpp>
#include <corio/task.hpp>
#include <corio/web/multi_dict.hpp>

namespace corio::web {

class application;
class stream_response;

namespace detail {
struct connection_state;
struct request_access;
}  // namespace detail

class request {
public:
    request(const request&) = delete;
    request& operator=(const request&) = delete;

    std::string_view method() const noexcept { return head_.method; }
    /// The path, percent-decoded ("/a b" for "/a%20b?x=1").
    std::string_view path() const noexcept { return path_; }
    /// The target as sent, query included ("/a%20b?x=1").
    std::string_view raw_path() const noexcept { return head_.target; }
    /// What follows '?', as sent.
    std::string_view query_string() const noexcept;
    /// The query's pairs, percent-decoded, in order.
    const multi_dict& query() const;
    /// A `{name}` part of the route, percent-decoded; std::out_of_range naming
    /// it when the route has no such part.
    std::string_view match_info(std::string_view name) const;
    const http::headers& headers() const noexcept { return head_.headers; }
    /// The Cookie header's pairs.
    const multi_dict& cookies() const;
    /// The peer's address (host and port; a Unix socket's path).
    const address& remote() const noexcept { return *remote_; }
    /// 11 for HTTP/1.1, 10 for HTTP/1.0.
    int version() const noexcept { return head_.version; }
    /// The media type without parameters ("application/json"), lower case;
    /// "application/octet-stream" when there is none (as aiohttp).
    std::string content_type() const;
    std::optional<std::uint64_t> content_length() const noexcept { return content_length_; }
    /// The connection stays open after this request's response.
    bool keep_alive() const noexcept { return keep_alive_; }
    /// The request has a body (a length over 0, or chunked).
    bool has_body() const noexcept { return has_body_; }
    /// The application whose route matched (a sub-application's, under one).
    application& app() const noexcept { return *app_; }

    /// Per-request state (aiohttp's request["key"]): the value under `key`,
    /// made by T() when absent. std::logic_error naming the key and both types
    /// when it holds another type.
    template <class T>
    T& state(std::string_view key) {
        auto it = state_.find(key);
        if (it == state_.end()) it = state_.emplace(std::string(key), std::any(T())).first;
        if (T* value = std::any_cast<T>(&it->second)) return *value;
        throw std::logic_error("request::state '" + std::string(key) + "': it holds " + it->second.type().name() +
                               ", not " + typeid(T).name());
    }

    /// The whole body (kept: later calls give it again).
    task<std::string> read();
    /// The body as text.
    task<std::string> text();
    /// The body parsed as JSON; http_bad_request saying why when it is not.
    task<nlohmann::json> json();
    /// An application/x-www-form-urlencoded or multipart/form-data body's
    /// fields (a file part's value is its content); empty for other types.
    task<multi_dict> post();
    /// The body as it arrives, piece by piece (each view valid until the next).
    async_generator<std::string_view> content();

private:
    friend struct detail::connection_state;
    friend struct detail::request_access;
    friend class stream_response;
    request() = default;
    /// Reads the body into body_ once; json() and post() parse it in place.
    task<void> load_body();

    http::request_head head_;
    std::string path_;
    const address* remote_ = nullptr;
    application* app_ = nullptr;
    detail::connection_state* connection_ = nullptr;
    std::vector<std::pair<std::string, std::string>> match_info_;
    mutable std::optional<multi_dict> query_;
    mutable std::optional<multi_dict> cookies_;
    std::map<std::string, std::any, std::less<>> state_;
    std::optional<std::uint64_t> content_length_;
    std::optional<std::string> body_;  // read() keeps the body here
    std::vector<std::string> allowed_;  // a 405's Allow, for the handler that throws it
    bool keep_alive_ = true;
    bool has_body_ = false;
};

}  // namespace corio::web
