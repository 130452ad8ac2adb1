// corio/source_location.hpp: where a spawn, with or enter was written, for
// debug reports. Our own because clang 14 with libstdc++ 12 has no
// corio::source_location (it lacks __builtin_source_location); the builtins
// used here exist in both g++ and clang.
#pragma once

namespace corio {

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

}  // namespace corio
