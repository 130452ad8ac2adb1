// corio/http/headers.hpp: `http::headers`, the fields of an HTTP message as
// aiohttp's CIMultiDict holds them: names compared without regard to ASCII
// case, several fields of one name kept, iteration in the order of addition.
//
//   corio::http::headers h{{"Content-Type", "text/html"}, {"Set-Cookie", "a=1"}};
//   h.add("set-cookie", "b=2");
//   h.get("content-type");      // "text/html"
//   h.get_all("SET-COOKIE");    // {"a=1", "b=2"}
//   h.set("Set-Cookie", "c=3"); // replaces both, at the first one's place
//
// Guarantees: `add` and `set` check what they are given, so no header can
// smuggle a line into a message: a name must be an RFC 9110 token and a value
// must not hold CR, LF or NUL (std::invalid_argument naming the header).
// Names keep the spelling they were added with. Storage is one vector of
// (name, value) string pairs: lookups are linear, which beats hashing for the
// dozen fields a message has. Views handed out by get/get_all stay valid until
// the headers are changed.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corio::http {

/// ASCII case-insensitive equality, as header names and tokens compare.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// True when `name` is an RFC 9110 token (the grammar of a field name or a method).
bool is_token(std::string_view name) noexcept;

class headers {
public:
    using field = std::pair<std::string, std::string>;
    using const_iterator = std::vector<field>::const_iterator;
    using value_type = field;

    headers() = default;
    /// headers{{"Accept", "*/*"}, {"X-Id", "7"}}: each added in order (validated).
    headers(std::initializer_list<std::pair<std::string_view, std::string_view>> fields);
    /// From (name, value) pairs, as request_options takes them (validated).
    headers(const std::vector<std::pair<std::string, std::string>>& fields);

    /// Appends a field, after any of the same name.
    headers& add(std::string_view name, std::string_view value);
    /// Replaces every field named `name` by one with `value`, at the place of
    /// the first (appended when there was none).
    headers& set(std::string_view name, std::string_view value);
    /// Removes every field named `name`; returns how many there were.
    std::size_t remove(std::string_view name);
    void clear() noexcept { fields_.clear(); }
    void reserve(std::size_t n) { fields_.reserve(n); }

    /// The value of the first field named `name`.
    std::optional<std::string_view> get(std::string_view name) const noexcept;
    /// The values of every field named `name`, in order.
    std::vector<std::string_view> get_all(std::string_view name) const;
    bool contains(std::string_view name) const noexcept;
    /// How many fields are named `name`.
    std::size_t count(std::string_view name) const noexcept;

    std::size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }
    const_iterator begin() const noexcept { return fields_.begin(); }
    const_iterator end() const noexcept { return fields_.end(); }

    /// Same fields in the same order; names compared without case.
    friend bool operator==(const headers& a, const headers& b) noexcept;

private:
    std::vector<field> fields_;
};

}  // namespace corio::http
