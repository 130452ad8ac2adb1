// corio::http::headers: case-insensitive lookups, order kept, several fields
// of a name, set/remove, and refusal of names and values that would inject a
// header line.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "corio/http/headers.hpp"

namespace http = corio::http;

TEST(HttpHeaders, LookupIgnoresCaseAndKeepsOrder) {
    http::headers h{{"Content-Type", "text/html"}, {"Set-Cookie", "a=1"}, {"X-Id", "7"}};
    h.add("set-cookie", "b=2");
    EXPECT_EQ(h.size(), 4u);
    EXPECT_EQ(h.get("content-type"), "text/html");
    EXPECT_EQ(h.get("CONTENT-TYPE"), "text/html");
    EXPECT_EQ(h.get("Set-Cookie"), "a=1");
    EXPECT_EQ(h.get_all("SET-COOKIE"), (std::vector<std::string_view>{"a=1", "b=2"}));
    EXPECT_TRUE(h.contains("x-id"));
    EXPECT_FALSE(h.contains("X-Missing"));
    EXPECT_EQ(h.get("X-Missing"), std::nullopt);
    EXPECT_TRUE(h.get_all("X-Missing").empty());
    EXPECT_EQ(h.count("set-cookie"), 2u);
    std::vector<std::string> names;
    for (const auto& [name, value] : h) names.push_back(name);
    // Names keep the spelling they were added with, in order.
    EXPECT_EQ(names, (std::vector<std::string>{"Content-Type", "Set-Cookie", "X-Id", "set-cookie"}));
}

TEST(HttpHeaders, SetReplacesEveryFieldAtTheFirstPlace) {
    http::headers h{{"A", "1"}, {"B", "2"}, {"a", "3"}, {"C", "4"}};
    h.set("A", "9");
    ASSERT_EQ(h.size(), 3u);
    auto it = h.begin();
    EXPECT_EQ(it->first, "A");
    EXPECT_EQ(it->second, "9");
    ++it;
    EXPECT_EQ(it->first, "B");
    ++it;
    EXPECT_EQ(it->first, "C");
    h.set("D", "new");
    EXPECT_EQ((h.end() - 1)->first, "D");
}

TEST(HttpHeaders, RemoveCountsAndEmpty) {
    http::headers h{{"A", "1"}, {"a", "2"}, {"B", "3"}};
    EXPECT_EQ(h.remove("A"), 2u);
    EXPECT_EQ(h.remove("A"), 0u);
    EXPECT_EQ(h.size(), 1u);
    EXPECT_FALSE(h.empty());
    h.clear();
    EXPECT_TRUE(h.empty());
}

TEST(HttpHeaders, FromPairsAndEquality) {
    std::vector<std::pair<std::string, std::string>> pairs{{"Accept", "*/*"}, {"X-A", "b"}};
    http::headers h(pairs);
    EXPECT_EQ(h, (http::headers{{"accept", "*/*"}, {"x-a", "b"}}));
    EXPECT_FALSE(h == (http::headers{{"X-A", "b"}, {"Accept", "*/*"}}));  // order matters
    EXPECT_FALSE(h == (http::headers{{"Accept", "*/*"}, {"X-A", "B"}}));  // values keep case
}

TEST(HttpHeaders, HeaderInjectionIsRefusedNamingTheHeader) {
    http::headers h;
    for (std::string bad : {std::string("a\r\nX-Evil: 1"), std::string("a\nb"), std::string("a\rb"),
                            std::string("a\0b", 3)}) {
        try {
            h.add("X-Forwarded", bad);
            FAIL() << "accepted a value with CR, LF or NUL";
        } catch (const std::invalid_argument& e) {
            EXPECT_EQ(std::string(e.what()),
                      "http::headers::add 'X-Forwarded': the value holds a CR, LF or NUL byte (header injection)");
        }
    }
    EXPECT_THROW(h.set("X-A", "1\r\n"), std::invalid_argument);
    EXPECT_TRUE(h.empty());
    // Names must be tokens.
    for (std::string bad : {"", "Bad Name", "Bad:Name", "X\r\nY", "Ä"}) {
        EXPECT_THROW(h.add(bad, "v"), std::invalid_argument) << bad;
    }
    try {
        h.set("Bad Name", "v");
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("http::headers::set 'Bad Name': not a valid header name"),
                  std::string::npos)
            << e.what();
    }
    // Tabs, obs-text and empty values are fine.
    h.add("X-Tab", "a\tb");
    h.add("X-Utf8", "caf\xc3\xa9");
    h.add("X-Empty", "");
    EXPECT_EQ(h.size(), 3u);
    EXPECT_THROW((http::headers{{"X-A", "1\n"}}), std::invalid_argument);
}

TEST(HttpHeaders, Iequals) {
    EXPECT_TRUE(http::iequals("Keep-Alive", "keep-alive"));
    EXPECT_FALSE(http::iequals("keep-alive", "keep-alivf"));
    EXPECT_FALSE(http::iequals("a", "ab"));
    EXPECT_TRUE(http::is_token("GET"));
    EXPECT_FALSE(http::is_token("G T"));
}
