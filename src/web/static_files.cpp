// add_static's handler: a file under the folder, or 404 as if absent for
// anything else: `..` or `.` segments (percent-decoded already, so %2e%2e
// too), NUL, a folder, a missing file, or a path whose real location (after
// symlinks) is outside the folder.
#include <string>

#include <corio/web/errors.hpp>

#include "route_table.hpp"

namespace corio::web::detail {

handler static_files_handler(std::filesystem::path folder) {
    return [folder = std::move(folder)](request& req) -> task<response> {
        const std::string_view name = req.match_info("filename");
        std::string_view rest = name;
        bool ok = !name.empty() && name.find('\0') == std::string_view::npos && name.front() != '/';
        while (ok && !rest.empty()) {
            const std::size_t slash = rest.find('/');
            const std::string_view segment = rest.substr(0, slash);
            if (segment == ".." || segment == "." || segment.empty()) ok = false;
            if (slash == std::string_view::npos) break;
            rest.remove_prefix(slash + 1);
        }
        if (!ok) throw http_not_found();
        std::error_code ec;
        const std::filesystem::path real = std::filesystem::canonical(folder / std::filesystem::path(name), ec);
        if (ec) throw http_not_found();
        const std::string& inside = folder.native();
        const std::string& at = real.native();
        if (at.size() <= inside.size() || at.compare(0, inside.size(), inside) != 0 || at[inside.size()] != '/')
            throw http_not_found();
        if (!std::filesystem::is_regular_file(real, ec)) throw http_not_found();
        co_return file_response(real);
    };
}

}  // namespace corio::web::detail
