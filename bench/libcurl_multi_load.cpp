// libcurl_multi_load: the C++ anchor of the HTTP client benchmark (the
// "http" section of bench/compare.py): the same load as corio_http_load,
// written with libcurl's multi interface as C++ users write it.
//
//   libcurl_multi_load --url URL [--tasks 50] [--seconds S] [--requests N]
//                      [--ca FILE] [--download]
//
// Requests: `--tasks` easy handles in one multi handle
// (CURLMOPT_MAX_HOST_CONNECTIONS and CURLMOPT_MAXCONNECTS = --tasks), driven
// by the curl_multi_perform / curl_multi_poll loop of libcurl's examples.
// Each easy handle, once done, has its status (200) and body size checked
// and is added again: libcurl takes a kept-alive connection from the multi
// handle's cache, so each of them does one GET after another over
// keep-alive, as a corio task does. The body goes to a write callback that
// appends it to the handle's buffer (what a user reading the body does).
// First one request per handle, not counted (the connections are opened);
// then the measured window, until --seconds have passed or --requests
// responses have been read. Prints
//   requests N seconds T req_per_s R
// as corio_http_load does.
//
// --download: one GET, the body counted by the write callback (nothing
// kept); prints `bytes N seconds T mb_per_s R` (MB = 10^6 bytes).
//
// --ca FILE: HTTPS verified against that CA (CURLOPT_CAINFO).
#include <curl/curl.h>

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

struct transfer {
    CURL* easy = nullptr;
    std::string body;
    std::uint64_t bytes = 0;
    bool keep = true;  // false: count the bytes, keep nothing (--download)
};

std::size_t on_data(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<transfer*>(user);
    const std::size_t len = size * n;
    t->bytes += len;
    if (t->keep) t->body.append(data, len);
    return len;
}

void check(CURLcode c, const char* what) {
    if (c != CURLE_OK) throw std::runtime_error(std::string(what) + ": " + curl_easy_strerror(c));
}

void check(CURLMcode c, const char* what) {
    if (c != CURLM_OK) throw std::runtime_error(std::string(what) + ": " + curl_multi_strerror(c));
}

void setup(transfer& t, const config& cfg) {
    t.easy = curl_easy_init();
    if (t.easy == nullptr) throw std::runtime_error("curl_easy_init failed");
    check(curl_easy_setopt(t.easy, CURLOPT_URL, cfg.url.c_str()), "CURLOPT_URL");
    check(curl_easy_setopt(t.easy, CURLOPT_WRITEFUNCTION, on_data), "CURLOPT_WRITEFUNCTION");
    check(curl_easy_setopt(t.easy, CURLOPT_WRITEDATA, &t), "CURLOPT_WRITEDATA");
    check(curl_easy_setopt(t.easy, CURLOPT_PRIVATE, &t), "CURLOPT_PRIVATE");
    check(curl_easy_setopt(t.easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1), "CURLOPT_HTTP_VERSION");
    check(curl_easy_setopt(t.easy, CURLOPT_NOSIGNAL, 1L), "CURLOPT_NOSIGNAL");
    if (!cfg.ca.empty()) check(curl_easy_setopt(t.easy, CURLOPT_CAINFO, cfg.ca.c_str()), "CURLOPT_CAINFO");
}

class multi {
public:
    explicit multi(int connections) : m_(curl_multi_init()) {
        if (m_ == nullptr) throw std::runtime_error("curl_multi_init failed");
        check(curl_multi_setopt(m_, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(connections)),
              "CURLMOPT_MAX_HOST_CONNECTIONS");
        check(curl_multi_setopt(m_, CURLMOPT_MAXCONNECTS, static_cast<long>(connections)), "CURLMOPT_MAXCONNECTS");
    }
    multi(const multi&) = delete;
    multi& operator=(const multi&) = delete;
    ~multi() { curl_multi_cleanup(m_); }

    void add(transfer& t) {
        t.body.clear();
        check(curl_multi_add_handle(m_, t.easy), "curl_multi_add_handle");
        ++running_;
    }

    /// Runs the transfers until none is left; on_done(t) for each one done,
    /// after it is removed from the multi handle (it may add it again).
    template <class F>
    void drive(F&& on_done) {
        while (running_ > 0) {
            int still = 0;
            check(curl_multi_perform(m_, &still), "curl_multi_perform");
            int queued = 0;
            while (CURLMsg* msg = curl_multi_info_read(m_, &queued)) {
                if (msg->msg != CURLMSG_DONE) continue;
                CURL* easy = msg->easy_handle;
                const CURLcode result = msg->data.result;
                transfer* t = nullptr;
                curl_easy_getinfo(easy, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
                check(curl_multi_remove_handle(m_, easy), "curl_multi_remove_handle");
                --running_;
                check(result, cfg_url(easy).c_str());
                on_done(*t);
            }
            if (running_ > 0) check(curl_multi_poll(m_, nullptr, 0, 1000, nullptr), "curl_multi_poll");
        }
    }

private:
    static std::string cfg_url(CURL* easy) {
        char* url = nullptr;
        curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url);
        return url != nullptr ? url : "?";
    }
    CURLM* m_;
    int running_ = 0;
};

long status_of(const transfer& t) {
    long code = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

void load(const config& cfg) {
    std::vector<transfer> ts(static_cast<std::size_t>(cfg.tasks));
    for (auto& t : ts) setup(t, cfg);
    multi m(cfg.tasks);
    std::optional<std::size_t> body_size;
    auto checked = [&](transfer& t) {
        if (status_of(t) != 200) throw std::runtime_error("status " + std::to_string(status_of(t)));
        if (!body_size) body_size = t.body.size();
        if (t.body.size() != *body_size)
            throw std::runtime_error("a body of " + std::to_string(t.body.size()) + " bytes, not " +
                                     std::to_string(*body_size));
    };
    // Warm-up: one request per handle, all at once.
    for (auto& t : ts) m.add(t);
    m.drive(checked);

    const auto start = clock_type::now();
    const auto deadline =
        start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(cfg.seconds));
    std::uint64_t done = 0, started = 0;
    for (auto& t : ts) {
        if (started < cfg.requests) {
            m.add(t);
            ++started;
        }
    }
    m.drive([&](transfer& t) {
        checked(t);
        ++done;
        if (started < cfg.requests && clock_type::now() < deadline) {
            m.add(t);
            ++started;
        }
    });
    const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
    for (auto& t : ts) curl_easy_cleanup(t.easy);
    std::printf("requests %llu seconds %.4f req_per_s %.1f\n", static_cast<unsigned long long>(done), secs,
                static_cast<double>(done) / secs);
}

void download(const config& cfg) {
    transfer t;
    t.keep = false;
    setup(t, cfg);
    multi m(1);
    const auto start = clock_type::now();
    m.add(t);
    m.drive([](transfer& done) {
        if (status_of(done) != 200) throw std::runtime_error("status " + std::to_string(status_of(done)));
    });
    const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
    curl_easy_cleanup(t.easy);
    std::printf("bytes %llu seconds %.4f mb_per_s %.1f\n", static_cast<unsigned long long>(t.bytes), secs,
                static_cast<double>(t.bytes) / secs / 1e6);
}

int usage() {
    std::fprintf(stderr,
                 "usage: libcurl_multi_load --url URL [--tasks N] [--seconds S] [--requests N] [--ca FILE] "
                 "[--download]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    config cfg;
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
            else return usage();
        }
    } catch (const std::exception&) {
        return usage();
    }
    if (cfg.url.empty() || cfg.tasks < 1 || cfg.seconds <= 0) return usage();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        std::fprintf(stderr, "libcurl_multi_load: curl_global_init failed\n");
        return 1;
    }
    int rc = 0;
    try {
        if (cfg.download) download(cfg);
        else load(cfg);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "libcurl_multi_load: %s\n", e.what());
        rc = 1;
    }
    curl_global_cleanup();
    return rc;
}
