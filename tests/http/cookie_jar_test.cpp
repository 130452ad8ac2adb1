// The client's cookie jar by RFC 6265's rules: parsing, Domain and host-only,
// Path and its default, Max-Age over Expires, deletion, Secure, the order of
// the Cookie header, the date grammar, bad input ignored, and the bounds.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <corio/http/cookie_jar.hpp>

using corio::http::cookie_jar;
using corio::http::parse_cookie_date;
using namespace std::chrono_literals;

namespace {
const auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));  // 2023-11-14
}

TEST(cookie_jar, a_host_only_cookie_goes_back_to_its_host_only) {
    cookie_jar jar;
    EXPECT_TRUE(jar.update("sid=abc; Path=/", "example.com", "/login", false, t0));
    EXPECT_EQ(jar.header_for("example.com", "/", false, t0), "sid=abc");
    EXPECT_EQ(jar.header_for("www.example.com", "/", false, t0), "");
    EXPECT_EQ(jar.header_for("other.com", "/", false, t0), "");
}

TEST(cookie_jar, a_domain_cookie_goes_to_subdomains_and_a_foreign_domain_is_refused) {
    cookie_jar jar;
    EXPECT_TRUE(jar.update("a=1; Domain=.Example.COM", "www.example.com", "/", false, t0));
    EXPECT_EQ(jar.header_for("example.com", "/", false, t0), "a=1");
    EXPECT_EQ(jar.header_for("deep.www.example.com", "/x", false, t0), "a=1");
    EXPECT_EQ(jar.header_for("badexample.com", "/", false, t0), "");
    EXPECT_FALSE(jar.update("b=2; Domain=other.com", "www.example.com", "/", false, t0));
    EXPECT_FALSE(jar.update("c=3; Domain=com", "example.com", "/", false, t0));  // a public suffix
    EXPECT_FALSE(jar.update("d=4; Domain=sub.example.com", "example.com", "/", false, t0));
    EXPECT_EQ(jar.size(), 1u);
}

TEST(cookie_jar, an_ip_host_gets_host_only_cookies) {
    cookie_jar jar;
    EXPECT_TRUE(jar.update("a=1", "127.0.0.1", "/", false, t0));
    EXPECT_FALSE(jar.update("b=2; Domain=0.0.1", "127.0.0.1", "/", false, t0));
    EXPECT_EQ(jar.header_for("127.0.0.1", "/", false, t0), "a=1");
}

TEST(cookie_jar, the_default_path_is_the_request_paths_directory_and_paths_match_by_segment) {
    cookie_jar jar;
    jar.update("a=1", "h.com", "/docs/page.html", false, t0);
    jar.update("b=2; Path=/docs/", "h.com", "/", false, t0);
    jar.update("c=3; Path=relative", "h.com", "/x/y", false, t0);  // not absolute: the default path, /x
    EXPECT_EQ(jar.header_for("h.com", "/docs", false, t0), "a=1");
    EXPECT_EQ(jar.header_for("h.com", "/docs/", false, t0), "b=2; a=1");
    EXPECT_EQ(jar.header_for("h.com", "/docsx", false, t0), "");
    EXPECT_EQ(jar.header_for("h.com", "/x/z", false, t0), "c=3");
    EXPECT_EQ(jar.header_for("h.com", "/", false, t0), "");
}

TEST(cookie_jar, longer_paths_come_first_then_older_cookies) {
    cookie_jar jar;
    jar.update("late=1; Path=/", "h.com", "/", false, t0 + 1s);
    jar.update("early=2; Path=/", "h.com", "/", false, t0);
    jar.update("deep=3; Path=/a/b", "h.com", "/", false, t0 + 2s);
    EXPECT_EQ(jar.header_for("h.com", "/a/b/c", false, t0 + 3s), "deep=3; early=2; late=1");
}

TEST(cookie_jar, max_age_wins_over_expires_and_a_past_one_deletes) {
    cookie_jar jar;
    jar.update("a=1; Max-Age=60; Expires=Wed, 09 Jun 2021 10:18:14 GMT", "h.com", "/", false, t0);
    EXPECT_EQ(jar.header_for("h.com", "/", false, t0 + 59s), "a=1");
    EXPECT_EQ(jar.header_for("h.com", "/", false, t0 + 61s), "");
    jar.update("b=2; Expires=Wed, 09 Jun 2100 10:18:14 GMT", "h.com", "/", false, t0);
    EXPECT_EQ(jar.header_for("h.com", "/", false, t0), "a=1; b=2");
    EXPECT_TRUE(jar.update("b=gone; Max-Age=0", "h.com", "/", false, t0));
    EXPECT_TRUE(jar.update("a=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "h.com", "/", false, t0));
    EXPECT_EQ(jar.size(), 0u);
}

TEST(cookie_jar, a_replaced_cookie_keeps_its_creation_time_and_place) {
    cookie_jar jar;
    jar.update("a=1", "h.com", "/", false, t0);
    jar.update("b=2", "h.com", "/", false, t0 + 1s);
    jar.update("a=3", "h.com", "/", false, t0 + 2s);
    EXPECT_EQ(jar.header_for("h.com", "/", false, t0 + 3s), "a=3; b=2");
    EXPECT_EQ(jar.size(), 2u);
}

TEST(cookie_jar, secure_cookies_are_set_and_sent_only_over_https) {
    cookie_jar jar;
    EXPECT_FALSE(jar.update("s=1; Secure", "h.com", "/", false, t0));
    EXPECT_TRUE(jar.update("s=1; Secure; HttpOnly", "h.com", "/", true, t0));
    EXPECT_EQ(jar.header_for("h.com", "/", false, t0), "");
    EXPECT_EQ(jar.header_for("h.com", "/", true, t0), "s=1");
    EXPECT_TRUE(jar.cookies().front().http_only);
}

TEST(cookie_jar, malformed_set_cookie_values_are_ignored) {
    cookie_jar jar;
    EXPECT_FALSE(jar.update("no-equals-sign", "h.com", "/", false, t0));
    EXPECT_FALSE(jar.update("=value-without-name", "h.com", "/", false, t0));
    EXPECT_FALSE(jar.update(std::string("a=b\r\nInjected: 1"), "h.com", "/", false, t0));
    EXPECT_TRUE(jar.update("ok=1; Max-Age=abc; Expires=not a date", "h.com", "/", false, t0));  // bad attributes: dropped
    EXPECT_FALSE(jar.cookies().front().expires.has_value());
    EXPECT_EQ(jar.size(), 1u);
}

TEST(cookie_jar, the_store_is_bounded_per_domain_and_in_all_oldest_first) {
    cookie_jar jar;
    for (int i = 0; i < 60; ++i)
        jar.update("c" + std::to_string(i) + "=v", "h.com", "/", false, t0 + std::chrono::seconds(i));
    EXPECT_EQ(jar.size(), cookie_jar::max_per_domain);
    EXPECT_EQ(jar.cookies().front().name, "c10");  // c0..c9 were the oldest
}

TEST(cookie_jar, dates_follow_rfc_6265_section_5_1_1) {
    using std::chrono::seconds;
    auto at = [](long s) { return std::chrono::system_clock::time_point(seconds(s)); };
    EXPECT_EQ(parse_cookie_date("Wed, 09 Jun 2021 10:18:14 GMT"), at(1623233894));
    EXPECT_EQ(parse_cookie_date("Wednesday, 09-Jun-21 10:18:14 GMT"), at(1623233894));  // RFC 850, 2-digit year
    EXPECT_EQ(parse_cookie_date("Wed Jun  9 10:18:14 2021"), at(1623233894));           // asctime
    EXPECT_EQ(parse_cookie_date("Thu, 01 Jan 1970 00:00:00 GMT"), at(0));
    EXPECT_EQ(parse_cookie_date("01 Jan 1970 00:00:00 GMT 70"), at(0));
    EXPECT_FALSE(parse_cookie_date("Wed, 31 Jun 2021 10:18:14 GMT"));  // no June 31st
    EXPECT_FALSE(parse_cookie_date("Thu, 29 Feb 2021 00:00:00 GMT"));  // not a leap year
    EXPECT_FALSE(parse_cookie_date("Wed, 09 Jun 2021 25:18:14 GMT"));
    EXPECT_FALSE(parse_cookie_date("Wed, 09 Jun 1600 10:18:14 GMT"));
    EXPECT_FALSE(parse_cookie_date("tomorrow"));
    EXPECT_FALSE(parse_cookie_date(""));
}
