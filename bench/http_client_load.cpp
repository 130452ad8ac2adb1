// corio_http_load: corio's HTTP client under load, for the "http" section
// of bench/compare.py (bench/compare_http.py), written as a user would
// write it with aiohttp.
//
//   corio_http_load --url URL [--tasks 50] [--seconds S] [--requests N]
//                   [--ca FILE] [--backend io_uring|epoll] [--download]
//
// Requests: `--tasks` tasks share one client_session; each loops
//   async with session.get(url) as r: body = await r.read()
// checking the status (200) and that every body has the same size, until
// --seconds have passed or --requests responses have been read in all.
// First each task makes one request (the 50 connections are opened and
// kept alive: the pool hands them back), not counted; then the measured
// window. Prints
//   requests N seconds T req_per_s R
// where N counts the responses read in the window and T is from the start
// of the window to the end of the last task's last request.
//
// --download: one GET of URL, its body streamed through
// content().iter_any() (each piece as it arrives), counting bytes, never
// keeping more than a piece. Prints
//   bytes N seconds T mb_per_s R      (MB = 10^6 bytes)
// T covers the whole request: connecting, the head and the body.
//
// --ca FILE: HTTPS verified against that CA (tls_context::client() plus
// load_verify_file), as a user with a private CA would.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <corio/corio.hpp>
#include <corio/http/client_session.hpp>
#include <corio/net/tls.hpp>

namespace {

using clock_type = std::chrono::steady_clock;

struct config {
    std::string url;
    int tasks = 50;
    double seconds = 5;
    std::uint64_t requests = 100'000'000;
    std::string ca;
    bool download = false;
};

struct shared {
    clock_type::time_point deadline;
    std::uint64_t max_requests = 0;
    std::uint64_t done = 0;
    std::optional<std::size_t> body_size;  // the first body's; every other one must match
};

corio::task<> one_get(corio::http::client_session& session, const std::string& url, shared& st) {
    auto read_body = [&st](corio::http::response& r) -> corio::task<> {
        std::string body = co_await r.read();
        if (r.status() != 200) throw std::runtime_error("status " + std::to_string(r.status()) + " from " + r.url());
        if (!st.body_size) st.body_size = body.size();
        if (body.size() != *st.body_size)
            throw std::runtime_error("a body of " + std::to_string(body.size()) + " bytes, not " +
                                     std::to_string(*st.body_size));
    };
    co_await corio::with(session.get(url), read_body);
}

corio::task<> worker(corio::http::client_session& session, const std::string& url, shared& st) {
    while (st.done < st.max_requests && clock_type::now() < st.deadline) {
        co_await one_get(session, url, st);
        ++st.done;
    }
}

corio::http::session_options session_options_for(const config& cfg) {
    corio::http::session_options o;
    o.limit = static_cast<std::size_t>(cfg.tasks);  // one connection per task, as aiohttp's limit would give
    if (!cfg.ca.empty()) {
        o.tls = corio::tls_context::client();
        o.tls->load_verify_file(cfg.ca);
    }
    return o;
}

corio::task<> load(const config& cfg) {
    corio::http::client_session session(session_options_for(cfg));
    shared st;
    // Warm-up: one request per task, all at once, so that the window starts
    // with every connection open.
    {
        std::vector<corio::task<>> warm;
        for (int i = 0; i < cfg.tasks; ++i) warm.push_back(one_get(session, cfg.url, st));
        co_await corio::gather(std::move(warm));
    }
    const auto start = clock_type::now();
    st.deadline = start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(cfg.seconds));
    st.max_requests = cfg.requests;
    std::vector<corio::task<>> workers;
    for (int i = 0; i < cfg.tasks; ++i) workers.push_back(worker(session, cfg.url, st));
    co_await corio::gather(std::move(workers));
    const double t = std::chrono::duration<double>(clock_type::now() - start).count();
    co_await session.close();
    std::printf("requests %llu seconds %.4f req_per_s %.1f\n", static_cast<unsigned long long>(st.done), t,
                static_cast<double>(st.done) / t);
}

corio::task<> download(const config& cfg) {
    corio::http::client_session session(session_options_for(cfg));
    std::uint64_t bytes = 0;
    const auto start = clock_type::now();
    auto stream_body = [&bytes](corio::http::response& r) -> corio::task<> {
        if (r.status() != 200) throw std::runtime_error("status " + std::to_string(r.status()) + " from " + r.url());
        auto pieces = r.content().iter_any();
        while (auto piece = co_await pieces.next()) bytes += piece->size();
    };
    co_await corio::with(session.get(cfg.url), stream_body);
    const double t = std::chrono::duration<double>(clock_type::now() - start).count();
    co_await session.close();
    std::printf("bytes %llu seconds %.4f mb_per_s %.1f\n", static_cast<unsigned long long>(bytes), t,
                static_cast<double>(bytes) / t / 1e6);
}

int usage() {
    std::fprintf(stderr,
                 "usage: corio_http_load --url URL [--tasks N] [--seconds S] [--requests N] [--ca FILE] "
                 "[--backend io_uring|epoll] [--download]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    config cfg;
    corio::run_options options;
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string_view arg = argv[i];
            const bool has_value = i + 1 < argc;
            if (arg == "--url" && has_value) cfg.url = argv[++i];
            else if (arg == "--tasks" && has_value) cfg.tasks = std::stoi(argv[++i]);
            else if (arg == "--seconds" && has_value) cfg.seconds = std::stod(argv[++i]);
            else if (arg == "--requests" && has_value) cfg.requests = std::stoull(argv[++i]);
            else if (arg == "--ca" && has_value) cfg.ca = argv[++i];
            else if (arg == "--download") cfg.download = true;
            else if (arg == "--backend" && has_value) {
                const std::string_view b = argv[++i];
                if (b == "io_uring") options.backend = corio::backend_kind::io_uring;
                else if (b == "epoll") options.backend = corio::backend_kind::epoll;
                else return usage();
            } else {
                return usage();
            }
        }
    } catch (const std::exception&) {  // stoi and friends
        return usage();
    }
    if (cfg.url.empty() || cfg.tasks < 1 || cfg.seconds <= 0) return usage();
    try {
        if (cfg.download) corio::run(download(cfg), options);
        else corio::run(load(cfg), options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "corio_http_load: %s\n", e.what());
        return 1;
    }
    return 0;
}
