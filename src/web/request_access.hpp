// Private to src/web: what the server reads and writes of a request that its
// public interface does not offer.
#pragma once

#include <string>
#include <vector>

#include <corio/web/request.hpp>

namespace corio::web::detail {

struct request_access {
    static std::vector<std::string>& allowed(request& r) noexcept { return r.allowed_; }
    static connection_state* connection(request& r) noexcept { return r.connection_; }
};

}  // namespace corio::web::detail
