// examples/http_fetch.cpp: the aiohttp program Python tutorials teach first,
// ported line for line: one session, many URLs fetched at once with gather.
//
//   async def fetch_url(session, url):
//       async with session.get(url) as response:
//           return await response.text()
//   async with aiohttp.ClientSession() as session:
//       pages = await asyncio.gather(*[fetch_url(session, u) for u in urls])
//
// The URLs are served by a local server that examples/run_examples.sh
// starts (python3 -m http.server); its address is in CORIO_EXAMPLE_HTTP.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <corio/corio.hpp>
#include <corio/http/client_session.hpp>

corio::task<std::string> fetch_url(corio::http::client_session& session, std::string url) {
    std::string text;
    co_await corio::with(session.get(url), [&](corio::http::response& response) -> corio::task<> {
        text = co_await response.text();
    });
    co_return text;
}

corio::task<> amain(std::string base) {
    std::vector<std::string> urls = {base + "/p1.txt", base + "/p2.txt", base + "/p3.txt"};
    co_await corio::with(corio::http::client_session(), [&](corio::http::client_session& session) -> corio::task<> {
        std::vector<corio::task<std::string>> fetches;
        for (const auto& u : urls) fetches.push_back(fetch_url(session, u));
        std::vector<std::string> pages = co_await corio::gather(std::move(fetches));
        for (const auto& page : pages) std::printf("%s", page.c_str());
    });
}

int main() {
    const char* base = std::getenv("CORIO_EXAMPLE_HTTP");
    corio::run(amain(base != nullptr ? base : "http://127.0.0.1:8000"));
}
