// How debug reports name code (report_names.hpp): a compiler's function
// name shortened to what a reader recognizes ("corio::task<int>
// {anonymous}::work(int)" -> "work"), and "file:line in function".
#include <cstdio>
#include <string>
#include <string_view>

#include "report_names.hpp"

namespace corio::detail {

namespace {

bool is_open(char c) noexcept { return c == '(' || c == '<' || c == '[' || c == '{'; }
bool is_close(char c) noexcept { return c == ')' || c == '>' || c == ']' || c == '}'; }

void erase_all(std::string& s, std::string_view what) {
    for (std::size_t at; (at = s.find(what)) != std::string::npos;) s.erase(at, what.size());
}

// The index just past the bracket that closes the one at `open_at`.
std::size_t past_match(const std::string& s, std::size_t open_at) {
    int depth = 0;
    for (std::size_t i = open_at; i < s.size(); ++i) {
        if (is_open(s[i])) ++depth;
        else if (is_close(s[i]) && --depth == 0) return i + 1;
    }
    return s.size();
}

void name_lambdas(std::string& s) {
    // g++: "<lambda(int)>".
    for (std::size_t at = 0; (at = s.find("<lambda(", at)) != std::string::npos; at += 8)
        s.replace(at, past_match(s, at) - at, "<lambda>");
    // clang: "(anonymous class)::operator()", then its parameters when it
    // encloses another function, and qualifiers (" const") up to "::".
    const std::string_view clang = "(anonymous class)::operator()";
    for (std::size_t at = 0; (at = s.find(clang, at)) != std::string::npos; at += 8) {
        std::size_t end = at + clang.size();
        if (end < s.size() && s[end] == '(') end = past_match(s, end);
        const std::size_t next = s.find("::", end);
        s.replace(at, (next == std::string::npos ? s.size() : next) - at, "<lambda>");
    }
}

}  // namespace

std::string short_function_name(const char* full) {
    std::string_view s = full != nullptr ? full : "";
    // " [with T = int]" (g++) or " [T = int]" (clang): the first " [" at depth 0.
    int depth = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '[' && depth == 0 && i > 0 && s[i - 1] == ' ') {
            s = s.substr(0, i - 1);
            break;
        }
        if (is_open(s[i])) ++depth;
        else if (is_close(s[i]) && depth > 0) --depth;
    }
    // The parameter list: the last ')' when only qualifiers follow it
    // (" const", " &&", " noexcept"); g++'s "f()::<lambda()>" has none.
    std::size_t end = s.size();
    if (const std::size_t close = s.rfind(')'); close != std::string_view::npos) {
        bool qualifiers_only = true;
        for (char c : s.substr(close + 1))
            if (!(c == ' ' || c == '&' || (c >= 'a' && c <= 'z'))) qualifiers_only = false;
        if (qualifiers_only) {
            int parens = 0;
            for (std::size_t i = close + 1; i-- > 0;) {
                if (s[i] == ')') ++parens;
                else if (s[i] == '(' && --parens == 0) {
                    end = i;
                    break;
                }
            }
        }
    }
    // The return type ends at the last space outside brackets.
    std::size_t begin = 0;
    depth = 0;
    for (std::size_t i = end; i-- > 0;) {
        if (is_close(s[i])) ++depth;
        else if (is_open(s[i]) && depth > 0) --depth;
        else if (s[i] == ' ' && depth == 0) {
            begin = i + 1;
            break;
        }
    }
    std::string name(s.substr(begin, end - begin));
    if (name == "operator") name = "<lambda>";  // clang 14's __builtin_FUNCTION in a lambda: "operator()"
    erase_all(name, "(anonymous namespace)::");
    erase_all(name, "{anonymous}::");
    name_lambdas(name);
    return name;
}

void print_where(std::FILE* out, const corio::source_location& where) noexcept {
    std::fprintf(out, "%s:%u in ", where.file_name(), static_cast<unsigned>(where.line()));
    try {
        std::fprintf(out, "%s", short_function_name(where.function_name()).c_str());
    } catch (...) {  // out of memory: the compiler's spelling
        std::fprintf(out, "%s", where.function_name());
    }
}

void print_origin(std::FILE* out, const coroutine_origin& origin) noexcept {
    try {
        std::fprintf(out, "'%s'", short_function_name(origin.function_name()).c_str());
    } catch (...) {  // out of memory: the compiler's spelling
        std::fprintf(out, "'%s'", origin.function_name());
    }
    const char* file = origin.file_name();
    if (file != nullptr && *file != '\0') std::fprintf(out, " (%s:%u)", file, static_cast<unsigned>(origin.line()));
    else if (origin.line() != 0) std::fprintf(out, " (line %u)", static_cast<unsigned>(origin.line()));
}

}  // namespace corio::detail
