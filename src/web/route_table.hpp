// Private to src/web: the routes of an application and its sub-applications,
// flattened when a runner sets it up, each with its middleware chain built
// once (not per request), and matched against a request's decoded path.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <corio/web/application.hpp>

namespace corio::web::detail {

// A path pattern: plain ("/users") or with {name} / {name:regex} parts,
// compiled to one regex whose groups are the parts (a part's own groups are
// skipped by counting them).
struct compiled_path {
    std::string plain;  // the path when it has no parts
    bool dynamic = false;
    std::regex pattern;
    std::vector<std::pair<std::string, std::size_t>> names;  // part name, its group

    // std::invalid_argument prefixed with `operation` when the pattern is bad.
    static compiled_path compile(std::string_view path, const std::string& operation);
    bool match(std::string_view path, std::vector<std::pair<std::string, std::string>>& info) const;
};

struct table_route {
    std::string method;  // "*" any
    compiled_path path;
    handler chain;  // the handler behind its middlewares
    application* app = nullptr;
    std::size_t client_max_size = 0;
};

struct table_static {
    std::string prefix;
    std::filesystem::path folder;
    handler chain;  // serves request::match_info("filename") from the folder
    application* app = nullptr;
    std::size_t client_max_size = 0;
};

struct route_match {
    const handler* chain = nullptr;
    application* app = nullptr;
    std::size_t client_max_size = 0;
    std::vector<std::string> allowed;  // no route for the method: what the path answers (405)
};

class route_table {
public:
    // Flattens `root` (and its sub-applications) into routes.
    explicit route_table(application& root);

    // Finds the route for (method, path) and fills `info`; on no match gives
    // the root's chain around a handler throwing 404 or 405 (so middlewares
    // see those too).
    route_match resolve(std::string_view method, std::string_view path,
                        std::vector<std::pair<std::string, std::string>>& info) const;

private:
    void add_app(application& app, const std::string& prefix, std::vector<middleware> outer);
    std::vector<table_route> routes_;
    std::vector<table_static> statics_;
    // Looked up by the request's path as a string_view, without a copy.
    struct path_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view p) const noexcept { return std::hash<std::string_view>{}(p); }
    };
    std::unordered_map<std::string, std::vector<std::size_t>, path_hash, std::equal_to<>> plain_;  // path -> routes, in order
    handler missing_chain_;
    application* root_ = nullptr;
};

// The handler that serves a static folder's file (src/web/static_files.cpp).
handler static_files_handler(std::filesystem::path folder);

}  // namespace corio::web::detail
