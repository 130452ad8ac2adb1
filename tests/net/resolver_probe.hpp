// Test hook: what resolve() did, for the tests that must see it (a literal
// address never reaches c-ares) rather than infer it from timing. Defined in
// src/net/resolve.cpp; not an installed header, so not part of corio's API.
#pragma once

#include <cstdint>

namespace corio::detail {

/// c-ares channels opened by resolve() in this process so far (one per
/// lookup that was not a literal address).
std::uint64_t resolver_channels_opened() noexcept;

}  // namespace corio::detail
