// How debug reports name a coroutine: "'work' (dbg.cpp:12)", from the
// coroutine_origin its promise recorded (src/runtime/report_names.cpp).
#pragma once

#include <cstdio>
#include <string>

#include <corio/detail/source_location.hpp>

namespace corio::detail {

/// The name a report shows for a compiler's function name: the qualified
/// name without return type, parameters, template arguments' "[with ...]"
/// or anonymous namespaces ("corio::task<int> {anonymous}::work(int)" ->
/// "work"); a lambda is "<lambda>" after its enclosing function.
std::string short_function_name(const char* full);

/// Writes "'work' (dbg.cpp:12)" to `out` (no file with clang 14: "(line 12)").
void print_origin(std::FILE* out, const coroutine_origin& origin) noexcept;

/// Writes "dbg.cpp:20 in amain" (the function's short name) to `out`.
void print_where(std::FILE* out, const corio::source_location& where) noexcept;

}  // namespace corio::detail
