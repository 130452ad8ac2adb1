// add_static and file_response: files served with their type, Range (206 and
// 416), If-None-Match and If-Modified-Since (304), HEAD; and nothing outside
// the folder: `..`, `%2e%2e`, a symlink out, a folder, a missing file, a NUL
// byte all 404.
#include "web_fixture.hpp"

#include <filesystem>

using namespace web_test;

namespace {

struct site_files {
    corio_http_peers::temp_dir dir{"corio-web-static"};
    std::string root = dir / "public";
    std::string secret = dir / "secret.txt";
    site_files() {
        std::filesystem::create_directories(root + "/sub");
        corio_http_peers::write_file(root + "/index.html", "<h1>hi</h1>");
        corio_http_peers::write_file(root + "/sub/data.txt", "0123456789");
        corio_http_peers::write_file(secret, "top secret");
        std::filesystem::create_symlink(secret, root + "/link-out.txt");
    }
};

corio::task<raw_response> request(std::uint16_t port, std::string target, std::string extra = std::string(),
                                  std::string method = "GET") {
    co_return parse_response(co_await exchange(
        port, method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extra + "\r\n"));
}

}  // namespace

TEST(web_static, serves_files_with_type_length_etag_and_last_modified) {
    site_files files;
    web::application app;
    app.router().add_static("/static", files.root);
    serve(app, [](std::uint16_t port) -> corio::task<> {
        raw_response r = co_await request(port, "/static/index.html");
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "<h1>hi</h1>");
        EXPECT_TRUE(r.header("Content-Type: text/html; charset=utf-8")) << r.head;
        EXPECT_NE(r.head.find("ETag: \""), std::string::npos);
        EXPECT_NE(r.head.find("Last-Modified: "), std::string::npos);
        raw_response nested = co_await request(port, "/static/sub/data.txt");
        EXPECT_EQ(nested.body, "0123456789");
        raw_response head = co_await request(port, "/static/sub/data.txt", "", "HEAD");
        EXPECT_TRUE(head.header("Content-Length: 10"));
        EXPECT_EQ(head.body, "");
    });
}

TEST(web_static, nothing_outside_the_folder_is_served) {
    site_files files;
    web::application app;
    app.router().add_static("/static", files.root);
    serve(app, [](std::uint16_t port) -> corio::task<> {
        for (const char* target : {"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/%2E%2E/secret.txt",
                                   "/static/sub/../../secret.txt", "/static/link-out.txt", "/static/sub",
                                   "/static/missing.txt", "/static/sub/%2e%2e/%2e%2e/secret.txt", "/static/%00"}) {
            raw_response r = co_await request(port, target);
            EXPECT_EQ(r.status, 404) << target;  // a NUL byte too: no such file is served
            EXPECT_EQ(r.body.find("top secret"), std::string::npos) << target;
        }
        // curl sends what it is given with --path-as-is.
        program_result curl = co_await run(cmd("curl", "-sS", "--path-as-is", url(port, "/static/../secret.txt")));
        EXPECT_EQ(curl.out.find("top secret"), std::string::npos);
    });
}

TEST(web_static, range_and_conditional_requests) {
    site_files files;
    web::application app;
    app.router().add_static("/static", files.root);
    serve(app, [](std::uint16_t port) -> corio::task<> {
        raw_response part = co_await request(port, "/static/sub/data.txt", "Range: bytes=2-5\r\n");
        EXPECT_EQ(part.status, 206);
        EXPECT_EQ(part.body, "2345");
        EXPECT_TRUE(part.header("Content-Range: bytes 2-5/10")) << part.head;
        raw_response tail = co_await request(port, "/static/sub/data.txt", "Range: bytes=-3\r\n");
        EXPECT_EQ(tail.body, "789");
        raw_response beyond = co_await request(port, "/static/sub/data.txt", "Range: bytes=50-\r\n");
        EXPECT_EQ(beyond.status, 416);
        EXPECT_TRUE(beyond.header("Content-Range: bytes */10"));
        raw_response full = co_await request(port, "/static/sub/data.txt");
        const std::size_t at = full.head.find("ETag: ");
        const std::string etag = full.head.substr(at + 6, full.head.find("\r\n", at) - at - 6);
        raw_response same = co_await request(port, "/static/sub/data.txt", "If-None-Match: " + etag + "\r\n");
        EXPECT_EQ(same.status, 304);
        EXPECT_EQ(same.body, "");
        const std::size_t lm = full.head.find("Last-Modified: ");
        const std::string modified = full.head.substr(lm + 15, full.head.find("\r\n", lm) - lm - 15);
        raw_response unchanged = co_await request(port, "/static/sub/data.txt", "If-Modified-Since: " + modified + "\r\n");
        EXPECT_EQ(unchanged.status, 304);
        raw_response old = co_await request(port, "/static/sub/data.txt", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n");
        EXPECT_EQ(old.status, 200);
        // curl's own range request.
        program_result curl = co_await run(cmd("curl", "-sS", "-r", "0-3", url(port, "/static/sub/data.txt")));
        EXPECT_EQ(curl.out, "0123");
    });
}

TEST(web_static, file_response_of_a_missing_file_is_404) {
    web::application app;
    app.router().add_get("/f", [](web::request&) -> corio::task<web::response> {
        co_return web::file_response("/nonexistent/corio/file.txt");
    });
    serve(app, [](std::uint16_t port) -> corio::task<> {
        raw_response r = co_await request(port, "/f");
        EXPECT_EQ(r.status, 404);
    });
}

TEST(web_static, a_large_file_arrives_whole_with_compression_off_and_gzip_for_buffered_bodies) {
    corio_http_peers::temp_dir dir("corio-web-big");
    std::string big;
    for (int i = 0; i < 300000; ++i) big += static_cast<char>('a' + i % 26);
    corio_http_peers::write_file(dir / "big.bin", big);
    web::application app;
    const std::string path = dir / "big.bin";
    app.router().add_get("/big", [path](web::request&) -> corio::task<web::response> { co_return web::file_response(path); });
    app.router().add_get("/text", [](web::request&) -> corio::task<web::response> {
        web::response r = web::response::text(std::string(5000, 'z'));
        r.enable_compression();
        co_return r;
    });
    serve(app, [big](std::uint16_t port) -> corio::task<> {
        program_result r = co_await run(cmd("curl", "-sS", url(port, "/big")));
        EXPECT_EQ(r.out.size(), big.size());
        EXPECT_TRUE(r.out == big);
        program_result z = co_await run(cmd("curl", "-sS", "--compressed", "-D", "/dev/stderr", url(port, "/text")));
        EXPECT_EQ(z.out, std::string(5000, 'z'));
        EXPECT_NE(z.err.find("Content-Encoding: gzip"), std::string::npos) << z.err;
    });
}
