// A real browser as the client: headless Chromium (Debian's chromium) loads a
// page served by corio whose script fetches a JSON view and renders it; the
// test reads the rendered DOM (--dump-dom).
#include "web_fixture.hpp"

#include <array>

using namespace web_test;

namespace {
const char* page = R"(<!doctype html>
<html><head><title>corio</title></head>
<body><ul id="users"></ul>
<script>
fetch('/api/users?limit=2').then(r => r.json()).then(users => {
  const ul = document.getElementById('users');
  for (const u of users) { const li = document.createElement('li'); li.textContent = 'user ' + u.id + ': ' + u.name; ul.appendChild(li); }
  document.title = 'loaded';
});
</script></body></html>)";
}  // namespace

TEST(web_browser, chromium_renders_a_page_whose_script_fetches_a_json_view) {
    if (!corio_http_peers::have_program("chromium")) GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh)";
    corio_http_peers::temp_dir dir("corio-web-browser");
    corio_http_peers::write_file(dir / "index.html", page);
    web::application app;
    app.router().add_static("/static", dir.path());
    app.router().add_get("/", [](web::request&) -> corio::task<web::response> { throw web::http_found("/static/index.html"); });
    app.router().add_get("/api/users", [](web::request& req) -> corio::task<web::response> {
        const int limit = std::stoi(std::string(req.query().get("limit").value_or("10")));
        nlohmann::json users = nlohmann::json::array();
        const std::array<const char*, 3> names = {"ada", "grace", "linus"};  // g++ 12: no C array in a coroutine
        for (int i = 0; i < limit && i < 3; ++i) users.push_back({{"id", i + 1}, {"name", names[i]}});
        co_return web::json_response(users);
    });
    const std::string profile = dir / "profile";
    serve(app, [profile](std::uint16_t port) -> corio::task<> {
        program_result r = co_await run(cmd("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                         "--disable-dev-shm-usage", "--user-data-dir=" + profile,
                                         "--virtual-time-budget=10000", "--dump-dom", url(port, "/")),
                                        90000ms);
        EXPECT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
        EXPECT_NE(r.out.find("<li>user 1: ada</li><li>user 2: grace</li>"), std::string::npos) << r.out << r.err.substr(0, 2000);
        EXPECT_NE(r.out.find("<title>loaded</title>"), std::string::npos);
    });
}
