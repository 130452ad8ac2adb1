// corio/web/multi_dict.hpp: an order-keeping multimap of string pairs, what
// aiohttp's MultiDict is for a query string, a form and cookies.
//
//   auto page = req.query().get("page");          // std::optional<std::string_view>
//   for (auto tag : req.query().get_all("tag")) ...
//   for (const auto& [name, value] : req.query()) ...
//
// Names compare exactly (case matters, unlike http::headers). Lookups are
// linear: a query or a form has a handful of fields. Views stay valid until
// the dict is changed.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corio::web {

class multi_dict {
public:
    using value_type = std::pair<std::string, std::string>;
    using const_iterator = std::vector<value_type>::const_iterator;

    void add(std::string name, std::string value) { items_.emplace_back(std::move(name), std::move(value)); }
    /// The first value of `name`.
    std::optional<std::string_view> get(std::string_view name) const noexcept {
        for (const auto& item : items_)
            if (item.first == name) return std::string_view(item.second);
        return std::nullopt;
    }
    /// Every value of `name`, in order.
    std::vector<std::string_view> get_all(std::string_view name) const {
        std::vector<std::string_view> out;
        for (const auto& item : items_)
            if (item.first == name) out.emplace_back(item.second);
        return out;
    }
    bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    const_iterator begin() const noexcept { return items_.begin(); }
    const_iterator end() const noexcept { return items_.end(); }
    void clear() noexcept { items_.clear(); }

private:
    std::vector<value_type> items_;
};

/// Parses "a=1&b=x%20y&a=2" (application/x-www-form-urlencoded: '+' is a
/// space, %XX a byte; a malformed %-escape is kept as written, as browsers do).
multi_dict parse_urlencoded(std::string_view text);

/// Percent-decodes `text` ('+' stays '+'); nullopt when an escape is malformed.
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace corio::web
