// The route table (route_table.hpp): patterns compiled once, middleware
// chains built once, plain paths found by hash, the rest tried in order.
#include "route_table.hpp"

#include <algorithm>
#include <stdexcept>

#include <corio/web/errors.hpp>

#include "request_access.hpp"

namespace corio::web::detail {

namespace {

bool identifier(std::string_view s) noexcept {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    return true;
}

void escape_into(std::string& out, std::string_view literal) {
    static constexpr std::string_view special = R"(\^$.|?*+()[]{}/)";
    for (char c : literal) {
        if (special.find(c) != std::string_view::npos) out += '\\';
        out += c;
    }
}

// Wraps `h` in `middlewares`, the first outermost.
handler chain_of(handler h, const std::vector<middleware>& middlewares) {
    for (auto it = middlewares.rbegin(); it != middlewares.rend(); ++it) {
        h = [mw = *it, next = std::move(h)](request& req) { return mw(req, next); };
    }
    return h;
}

}  // namespace

compiled_path compiled_path::compile(std::string_view path, const std::string& operation) {
    if (path.empty() || path.front() != '/')
        throw std::invalid_argument(operation + ": a path must start with '/'");
    compiled_path out;
    std::string re;
    std::size_t group = 1;
    std::size_t i = 0;
    while (i < path.size()) {
        const std::size_t open = path.find('{', i);
        const std::size_t close_brace = path.find('}', i);
        if (close_brace != std::string_view::npos && (open == std::string_view::npos || close_brace < open))
            throw std::invalid_argument(operation + ": a '}' without its '{'");
        if (open == std::string_view::npos) {
            escape_into(re, path.substr(i));
            break;
        }
        escape_into(re, path.substr(i, open - i));
        // The part ends at the '}' that balances its '{' (a regex may hold {m,n}).
        std::size_t depth = 0, end = open;
        for (; end < path.size(); ++end) {
            if (path[end] == '{') ++depth;
            else if (path[end] == '}' && --depth == 0) break;
        }
        if (end >= path.size()) throw std::invalid_argument(operation + ": a '{' without its '}'");
        const std::string_view part = path.substr(open + 1, end - open - 1);
        const std::size_t colon = part.find(':');
        const std::string_view name = part.substr(0, colon);
        if (!identifier(name))
            throw std::invalid_argument(operation + ": '{" + std::string(part) + "}' does not start with a name");
        for (const auto& known : out.names)
            if (known.first == name)
                throw std::invalid_argument(operation + ": the part '" + std::string(name) + "' is named twice");
        out.names.emplace_back(std::string(name), group);
        if (colon == std::string_view::npos) {
            re += "([^{}/]+)";
            ++group;
        } else {
            const std::string own(part.substr(colon + 1));
            std::size_t own_groups = 0;
            try {
                own_groups = std::regex(own).mark_count();
            } catch (const std::regex_error& e) {
                throw std::invalid_argument(operation + ": the regex of '" + std::string(name) + "' (" + own +
                                            ") is bad: " + e.what());
            }
            (re += '(') += own;
            re += ')';
            group += 1 + own_groups;
        }
        i = end + 1;
    }
    if (out.names.empty()) {
        out.plain = std::string(path);
        return out;
    }
    out.dynamic = true;
    try {
        out.pattern = std::regex(re);
    } catch (const std::regex_error& e) {
        throw std::invalid_argument(operation + ": bad pattern: " + e.what());
    }
    return out;
}

bool compiled_path::match(std::string_view path, std::vector<std::pair<std::string, std::string>>& info) const {
    if (!dynamic) return path == plain;
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_match(path.begin(), path.end(), m, pattern)) return false;
    info.clear();
    for (const auto& [name, group] : names) info.emplace_back(name, m[static_cast<int>(group)].str());
    return true;
}

route_table::route_table(application& root) : root_(&root) {
    add_app(root, std::string(), std::vector<middleware>());
    // What answers a request no route takes: 404, or 405 with Allow.
    handler missing = [](request& req) -> task<response> {
        const std::vector<std::string>& allowed = request_access::allowed(req);
        if (!allowed.empty()) throw http_method_not_allowed(req.method(), allowed);
        throw http_not_found();
        co_return response();
    };
    missing_chain_ = chain_of(std::move(missing), std::as_const(root).middlewares());
}

void route_table::add_app(application& app, const std::string& prefix, std::vector<middleware> outer) {
    const application& described = app;  // the const accessors: the app is frozen by now
    for (const middleware& m : described.middlewares()) outer.push_back(m);
    for (const router::route& r : described.router().routes()) {
        const std::string full = prefix + (prefix.empty() || r.path != "/" ? r.path : std::string());
        const std::string where = "router " + r.method + " " + full;
        table_route t{r.method, compiled_path::compile(full.empty() ? "/" : full, where), chain_of(r.handler, outer),
                      &app, app.client_max_size()};
        if (!t.path.dynamic) plain_[t.path.plain].push_back(routes_.size());
        routes_.push_back(std::move(t));
    }
    for (const router::static_route& s : described.router().static_routes()) {
        statics_.push_back(table_static{prefix + s.prefix, s.folder, chain_of(static_files_handler(s.folder), outer),
                                        &app, app.client_max_size()});
    }
    for (const application::subapp& sub : app.subapps()) add_app(*sub.app, prefix + sub.prefix, outer);
}

route_match route_table::resolve(std::string_view method, std::string_view path,
                                 std::vector<std::pair<std::string, std::string>>& info) const {
    std::vector<std::string>* allowed = nullptr;
    std::vector<std::string> allowed_here;
    const auto consider = [&](const table_route& r) -> bool {
        if (r.method == "*" || r.method == method || (method == "HEAD" && r.method == "GET")) return true;
        allowed_here.push_back(r.method);
        if (r.method == "GET") allowed_here.emplace_back("HEAD");
        allowed = &allowed_here;
        return false;
    };
    info.clear();
    if (auto it = plain_.find(path); it != plain_.end()) {
        for (std::size_t i : it->second)
            if (consider(routes_[i])) return {&routes_[i].chain, routes_[i].app, routes_[i].client_max_size, {}};
    }
    for (const table_route& r : routes_) {
        if (!r.path.dynamic || !r.path.match(path, info)) continue;
        if (consider(r)) return {&r.chain, r.app, r.client_max_size, {}};
    }
    info.clear();
    for (const table_static& s : statics_) {
        if (path.size() > s.prefix.size() + 1 && path.starts_with(s.prefix) && path[s.prefix.size()] == '/') {
            if (method == "GET" || method == "HEAD") {
                info.emplace_back("filename", std::string(path.substr(s.prefix.size() + 1)));
                return {&s.chain, s.app, s.client_max_size, {}};
            }
            allowed_here.emplace_back("GET");
            allowed_here.emplace_back("HEAD");
            allowed = &allowed_here;
        }
    }
    // Nothing answers: 404, or 405 naming what would; through the root's middlewares.
    route_match missing{&missing_chain_, root_, root_->client_max_size(), {}};
    if (allowed) {
        std::sort(allowed_here.begin(), allowed_here.end());
        allowed_here.erase(std::unique(allowed_here.begin(), allowed_here.end()), allowed_here.end());
        missing.allowed = std::move(allowed_here);
    }
    info.clear();
    return missing;
}

}  // namespace corio::web::detail
