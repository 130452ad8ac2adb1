// corio/detail/source_location.hpp: where a spawn, with or enter was written, for
// debug reports. Our own because clang 14 with libstdc++ 12 has no
// std::source_location (it lacks __builtin_source_location). Where the
// standard one exists (g++ 11+, clang 15+) ours holds it: one pointer to
// static data, so a fiber or a `with` that keeps one pays 8 bytes, not 24.
// function_name() is then the compiler's spelling (a signature, as
// "corio::task<void> amain()"); the reports shorten it. Elsewhere the
// builtins give file, function name and line.
#pragma once

#include <cstdint>
#include <version>
#if defined(__cpp_lib_source_location)
#include <source_location>
#endif

namespace corio {

#if defined(__cpp_lib_source_location)
struct source_location {
    static constexpr source_location current(std::source_location where = std::source_location::current()) noexcept {
        source_location l;
        l.where_ = where;
        return l;
    }
    constexpr const char* file_name() const noexcept { return where_.file_name(); }
    constexpr const char* function_name() const noexcept { return where_.function_name(); }
    constexpr unsigned line() const noexcept { return where_.line(); }

private:
    std::source_location where_;
};
#else
struct source_location {
    static constexpr source_location current(const char* file = __builtin_FILE(),
                                             const char* function = __builtin_FUNCTION(),
                                             unsigned line = __builtin_LINE()) noexcept {
        source_location l;
        l.file_ = file;
        l.function_ = function;
        l.line_ = line;
        return l;
    }
    constexpr const char* file_name() const noexcept { return file_; }
    constexpr const char* function_name() const noexcept { return function_; }
    constexpr unsigned line() const noexcept { return line_; }

private:
    const char* file_ = "";
    const char* function_ = "";
    unsigned line_ = 0;
};
#endif

}  // namespace corio

namespace corio::detail {

// Where a coroutine is, for debug reports ("coroutine 'work' was never
// awaited"): what a task's promise constructor records through a default
// argument, which is evaluated in the coroutine itself. clang gives the
// line of the coroutine's name, g++ 12 the line of its closing brace.
// Stored in every task frame, so it is kept to one pointer where
// std::source_location exists (g++ 11+, clang 15+: a pointer to static
// data). clang 14 with libstdc++ 12 has none: there it is the function's
// name, and the line travels apart (promise_base keeps it in what was
// padding); no file name.
#if defined(__cpp_lib_source_location)
#define CORIO_DETAIL_COMPACT_ORIGIN 1
struct coroutine_origin {
    std::source_location where;

    static constexpr coroutine_origin current(std::source_location w = std::source_location::current()) noexcept {
        return coroutine_origin{w};
    }
    constexpr const char* function_name() const noexcept { return where.function_name(); }
    constexpr const char* file_name() const noexcept { return where.file_name(); }
    constexpr std::uint32_t line() const noexcept { return where.line(); }
};
#else
#define CORIO_DETAIL_COMPACT_ORIGIN 0
struct coroutine_origin {
    const char* function = "";
    std::uint32_t line_ = 0;

    static constexpr coroutine_origin current(const char* function = __builtin_FUNCTION(),
                                              std::uint32_t line = __builtin_LINE()) noexcept {
        return coroutine_origin{function, line};
    }
    constexpr const char* function_name() const noexcept { return function; }
    constexpr const char* file_name() const noexcept { return ""; }
    constexpr std::uint32_t line() const noexcept { return line_; }
};
#endif

}  // namespace corio::detail
