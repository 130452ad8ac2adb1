// corio/http/url.hpp: parsing absolute http(s) URLs, refusing anything else
// with the URL and the reason, joining references by RFC 3986 5.2 (its own
// examples), appending query parameters, origins.
#include <gtest/gtest.h>

#include <string>

#include "corio/http/url.hpp"

namespace http = corio::http;

TEST(HttpUrl, ParsesTheParts) {
    auto u = http::url::parse("https://Example.COM/a/b?x=1#top");
    EXPECT_EQ(u.scheme(), "https");
    EXPECT_TRUE(u.secure());
    EXPECT_EQ(u.host(), "example.com");
    EXPECT_EQ(u.port(), 443);
    EXPECT_TRUE(u.default_port());
    EXPECT_EQ(u.target(), "/a/b?x=1");
    EXPECT_EQ(u.host_header(), "example.com");
    EXPECT_EQ(u.str(), "https://example.com/a/b?x=1#top");

    auto plain = http::url::parse("http://localhost:8080");
    EXPECT_EQ(plain.port(), 8080);
    EXPECT_EQ(plain.target(), "/");
    EXPECT_EQ(plain.host_header(), "localhost:8080");
    EXPECT_EQ(http::url::parse("http://h:80/").host_header(), "h");
    EXPECT_EQ(http::url::parse("http://h:/").port(), 80);

    auto v6 = http::url::parse("http://[::1]:8443/x");
    EXPECT_EQ(v6.host(), "::1");
    EXPECT_EQ(v6.host_header(), "[::1]:8443");
    EXPECT_EQ(http::url::parse("http://127.0.0.1/").host(), "127.0.0.1");

    auto auth = http::url::parse("http://jane%20doe:p%40ss@example.com/");
    EXPECT_EQ(auth.user(), "jane doe");
    EXPECT_EQ(auth.password(), "p@ss");
    EXPECT_EQ(http::url::parse("http://example.com/").user(), std::nullopt);
}

TEST(HttpUrl, EncodesWhatBrowsersAcceptUnencoded) {
    EXPECT_EQ(http::url::parse("http://h/a b?q=c d|e").target(), "/a%20b?q=c%20d%7Ce");
    EXPECT_EQ(http::url::parse("http://h/caf\xc3\xa9").target(), "/caf%C3%A9");
    // Dot segments go (RFC 3986 5.2.4); escapes stay as given.
    EXPECT_EQ(http::url::parse("http://h/a/./b/../c/%7Euser").target(), "/a/c/%7Euser");
    EXPECT_EQ(http::url::parse("http://h/../../x?a=%26").target(), "/x?a=%26");
}

TEST(HttpUrl, RefusesWhatIsNotAnHttpUrlNamingIt) {
    auto expect_error = [](std::string_view text, const std::string& what) {
        try {
            http::url::parse(text);
            ADD_FAILURE() << "accepted " << text;
        } catch (const http::url_error& e) {
            EXPECT_EQ(std::string(e.what()), what);
        }
    };
    expect_error("ftp://example.com/", "http::url::parse ftp://example.com/: the scheme is not http or https");
    expect_error("/relative/path", "http::url::parse /relative/path: not an absolute URL");
    expect_error("http:///path", "http::url::parse http:///path: has no host");
    expect_error("http://h:99999/", "http::url::parse http://h:99999/: the port '99999' is not in 1..65535");
    expect_error("http://h:0/", "http::url::parse http://h:0/: the port '0' is not in 1..65535");
    expect_error("http://h/\r\nX-Evil: 1", "http::url::parse http://h/\\x0d\\x0aX-Evil: 1: holds a control character");
    expect_error("http://exa mple.com/", "http::url::parse http://exa mple.com/: the host 'exa mple.com' is not a valid name");
    expect_error("", "http::url::parse : not an absolute URL");
    try {
        http::url::parse("mailto:x@y");
        FAIL();
    } catch (const http::url_error& e) {
        EXPECT_EQ(e.url(), "mailto:x@y");
        EXPECT_EQ(e.reason(), "the scheme is not http or https");
        const std::invalid_argument& base = e;
        (void)base;
    }
}

TEST(HttpUrl, JoinFollowsRfc3986Examples) {
    // RFC 3986 5.4.1 and 5.4.2, on an http base.
    auto base = http::url::parse("http://a/b/c/d;p?q");
    std::pair<const char*, const char*> cases[] = {
        {"g", "http://a/b/c/g"},        {"./g", "http://a/b/c/g"},      {"g/", "http://a/b/c/g/"},
        {"/g", "http://a/g"},           {"//g", "http://g"},           {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},    {"#s", "http://a/b/c/d;p?q#s"}, {"g#s", "http://a/b/c/g#s"},
        {";x", "http://a/b/c/;x"},      {"", "http://a/b/c/d;p?q"},     {".", "http://a/b/c/"},
        {"..", "http://a/b/"},          {"../g", "http://a/b/g"},       {"../..", "http://a/"},
        {"../../g", "http://a/g"},      {"../../../g", "http://a/g"},   {"/./g", "http://a/g"},
        {"g.", "http://a/b/c/g."},      {"g/../h", "http://a/b/c/h"},   {"https://other:8443/x", "https://other:8443/x"},
    };
    for (auto [reference, expected] : cases) EXPECT_EQ(base.join(reference).str(), expected) << reference;
    auto joined = http::url::parse("https://api.example.com/v1/").join("users?id=7");
    EXPECT_EQ(joined.target(), "/v1/users?id=7");
    EXPECT_EQ(joined.host(), "api.example.com");
    try {
        base.join("ftp://x/");
        FAIL();
    } catch (const http::url_error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "http::url::join ftp://x/: the scheme is not http or https once joined to http://a/b/c/d;p?q");
    }
}

TEST(HttpUrl, ParamsArePercentEncodedInOrderAfterTheQuery) {
    auto u = http::url::parse("http://h/search?x=1#frag");
    auto with = u.with_params({{"q", "a b&c=d"}, {"lang", "fr"}, {"empty", ""}, {"sym", "+/?%~"}, {"q", "2"}});
    EXPECT_EQ(with.target(), "/search?x=1&q=a%20b%26c%3Dd&lang=fr&empty=&sym=%2B%2F%3F%25~&q=2");
    EXPECT_EQ(with.str(), "http://h/search?x=1&q=a%20b%26c%3Dd&lang=fr&empty=&sym=%2B%2F%3F%25~&q=2#frag");
    EXPECT_EQ(http::url::parse("http://h/p").with_params({{"k", "v"}}).target(), "/p?k=v");
    EXPECT_EQ(http::url::parse("http://h/p?").with_params({{"k", "v"}}).target(), "/p?k=v");
    EXPECT_EQ(http::url::parse("http://h/p").with_params({{"\xc3\xa9", "\xe2\x82\xac"}}).target(), "/p?%C3%A9=%E2%82%AC");
    EXPECT_EQ(http::url::parse("http://h/p").with_params({}).target(), "/p");
}

TEST(HttpUrl, Origins) {
    auto a = http::url::parse("https://Example.com/a");
    EXPECT_EQ(a.origin(), http::url::parse("https://example.com:443/b").origin());
    EXPECT_NE(a.origin(), http::url::parse("http://example.com/a").origin());
    EXPECT_NE(a.origin(), http::url::parse("https://example.com:8443/a").origin());
    EXPECT_NE(a.origin(), http::url::parse("https://www.example.com/a").origin());
    EXPECT_EQ(a.origin(), (http::origin{"https", "example.com", 443}));
}
