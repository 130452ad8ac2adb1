// web::router (corio/web/router.hpp): routes are checked when added; the
// matching itself is the route table's (src/web/route_table.cpp), built when
// a runner sets the application up.
#include <corio/web/router.hpp>

#include <cctype>
#include <stdexcept>

#include <corio/http/headers.hpp>

#include "route_table.hpp"

namespace corio::web {

void router::add(std::string method, std::string path, web::handler h) {
    if (method != "*" && !http::is_token(method))
        throw std::invalid_argument("router::add_route " + method + " " + path + ": the method is not a token");
    for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!h) throw std::invalid_argument("router::add_route " + method + " " + path + ": the handler is empty");
    detail::compiled_path::compile(path, "router::add_route " + method + " " + path);  // throws when bad
    routes_.push_back(route{std::move(method), std::move(path), std::move(h)});
}

void router::add_static(std::string prefix, std::filesystem::path folder) {
    if (prefix.empty() || prefix.front() != '/')
        throw std::invalid_argument("router::add_static '" + prefix + "': the prefix must start with '/'");
    while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
    std::error_code ec;
    if (!std::filesystem::is_directory(folder, ec))
        throw std::invalid_argument("router::add_static '" + prefix + "' '" + folder.string() +
                                    "': the folder does not exist");
    statics_.push_back(static_route{std::move(prefix), std::filesystem::canonical(folder)});
}

}  // namespace corio::web
