// What the web server tests share: serving an application on a free loopback
// port for the length of a client coroutine (app_runner + tcp_site, the way
// a program embeds the server), a raw HTTP exchange over a socket (for what
// no polite client sends: pipelining, malformed heads, smuggling attempts),
// and running real clients (curl, python3) off the loop with to_thread.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <corio/corio.hpp>

#include "../http/peers/process.hpp"

namespace web_test {

using namespace std::chrono_literals;
namespace web = corio::web;
using corio_http_peers::program_result;
using corio_http_peers::run_program;

/// Serves `app` on 127.0.0.1 (a free port) while `client(port)` runs; the
/// runner's cleanup (graceful shutdown, hooks) runs after it.
inline void serve(web::application& app, std::function<corio::task<>(std::uint16_t)> client,
                  web::server_settings settings = web::server_settings()) {
    settings.access_log = false;
    auto main = [&]() -> corio::task<> {
        web::app_runner runner(app, settings);
        auto with_runner = [&](web::app_runner& r) -> corio::task<> {
            web::tcp_site site(r, "127.0.0.1", 0);
            auto with_site = [&](web::tcp_site& s) -> corio::task<> { co_await client(s.port()); };
            co_await corio::with(site, with_site);
        };
        co_await corio::with(runner, with_runner);
    };
    corio::run(main());
}

/// Writes `bytes` on a new connection, then reads until the server closes it
/// (at most `limit`); gives everything read.
inline corio::task<std::string> exchange(std::uint16_t port, std::string bytes, std::chrono::milliseconds limit = 5000ms) {
    corio::stream s = co_await corio::open_connection("127.0.0.1", port);
    s.write(bytes);
    std::string got;
    auto read_all = [&](corio::timeout_scope&) -> corio::task<> {
        for (;;) {
            std::string piece = co_await s.read(65536);
            if (piece.empty()) break;
            got += piece;
        }
    };
    try {
        auto bounded = corio::with(corio::move_on_after(limit), read_all);
        co_await std::move(bounded);
    } catch (const std::system_error&) {
        // a reset after the answer: what came is what we check
    }
    s.abort();
    co_return got;
}

/// One response parsed out of raw bytes (the first in `raw` from `at`).
struct raw_response {
    int status = 0;
    std::string head;
    std::string body;
    std::size_t end = 0;  // where the next response starts
    bool header(std::string_view line) const { return head.find(std::string(line) + "\r\n") != std::string::npos; }
};

inline raw_response parse_response(const std::string& raw, std::size_t at = 0) {
    raw_response r;
    const std::size_t head_end = raw.find("\r\n\r\n", at);
    if (head_end == std::string::npos || raw.compare(at, 9, "HTTP/1.1 ") != 0) return r;
    r.status = std::stoi(raw.substr(at + 9, 3));
    r.head = raw.substr(at, head_end + 2 - at);
    std::size_t length = 0;
    const std::size_t cl = r.head.find("Content-Length: ");
    if (cl != std::string::npos) length = std::stoul(r.head.substr(cl + 16));
    r.body = raw.substr(head_end + 4, length);
    r.end = head_end + 4 + length;
    return r;
}

/// A command line; a function call, so that no braced list stands inside a
/// co_await expression (g++ 12 miscompiles an initializer_list's array there).
template <class... Args>
std::vector<std::string> cmd(Args&&... args) {
    return std::vector<std::string>{std::string(std::forward<Args>(args))...};
}

/// Runs a program off the loop (the server keeps serving meanwhile).
inline corio::task<program_result> run(std::vector<std::string> argv, std::chrono::milliseconds limit = 30000ms) {
    auto job = [argv, limit] { return run_program(argv, limit); };  // named: g++ 12 and lambdas in co_await
    co_return co_await corio::to_thread(job);
}

inline std::string url(std::uint16_t port, std::string_view path) {
    return "http://127.0.0.1:" + std::to_string(port) + std::string(path);
}

}  // namespace web_test
