// src/mysql/placeholders.cpp: see placeholders.hpp.
#include "placeholders.hpp"

#include <cctype>

namespace corio::mysql::detail {

namespace {
bool keyword_at(std::string_view sql, std::size_t i, std::string_view word) {
    if (i + word.size() > sql.size()) return false;
    for (std::size_t k = 0; k < word.size(); ++k)
        if (std::toupper(static_cast<unsigned char>(sql[i + k])) != word[k]) return false;
    auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; };
    if (i > 0 && ident(sql[i - 1])) return false;
    if (i + word.size() < sql.size() && ident(sql[i + word.size()])) return false;
    return true;
}
}  // namespace

rewritten_sql rewrite_placeholders(std::string_view sql) {
    rewritten_sql out;
    out.sql.reserve(sql.size());
    const bool is_insert = [&] {
        std::size_t i = 0;
        while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
        return keyword_at(sql, i, "INSERT") || keyword_at(sql, i, "REPLACE");
    }();
    bool after_values = false;
    int depth = 0;
    std::size_t i = 0;
    while (i < sql.size()) {
        const char c = sql[i];
        if (c == '\'' || c == '"' || c == '`') {
            // A quoted run: doubled quotes and (for ' and ") backslash escapes stay inside.
            std::size_t j = i + 1;
            while (j < sql.size()) {
                if (sql[j] == '\\' && c != '`') {
                    j += 2;
                    continue;
                }
                if (sql[j] == c) {
                    if (j + 1 < sql.size() && sql[j + 1] == c) {
                        j += 2;
                        continue;
                    }
                    break;
                }
                ++j;
            }
            j = j < sql.size() ? j + 1 : sql.size();
            out.sql.append(sql.substr(i, j - i));
            i = j;
            continue;
        }
        if (c == '#' || (c == '-' && i + 2 < sql.size() && sql[i + 1] == '-' &&
                         std::isspace(static_cast<unsigned char>(sql[i + 2])))) {
            std::size_t j = sql.find('\n', i);
            j = j == std::string_view::npos ? sql.size() : j;
            out.sql.append(sql.substr(i, j - i));
            i = j;
            continue;
        }
        if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
            std::size_t j = sql.find("*/", i + 2);
            j = j == std::string_view::npos ? sql.size() : j + 2;
            out.sql.append(sql.substr(i, j - i));
            i = j;
            continue;
        }
        if (c == '%' && i + 1 < sql.size() && sql[i + 1] == 's') {
            out.sql += '?';
            ++out.placeholders;
            i += 2;
            continue;
        }
        if (c == '%' && i + 1 < sql.size() && sql[i + 1] == '%') {
            out.sql += '%';
            i += 2;
            continue;
        }
        if (is_insert && depth == 0 && (keyword_at(sql, i, "VALUES") || keyword_at(sql, i, "VALUE"))) {
            after_values = true;
        }
        if (c == '(') {
            if (after_values && depth == 0 && out.values_open == std::string::npos) out.values_open = out.sql.size();
            ++depth;
        } else if (c == ')') {
            --depth;
            if (after_values && depth == 0 && out.values_close == std::string::npos) out.values_close = out.sql.size() + 1;
        }
        out.sql += c;
        ++i;
    }
    // Batching needs the tuple to end the statement (nothing but ; and blanks after).
    if (out.values_close != std::string::npos) {
        for (std::size_t k = out.values_close; k < out.sql.size(); ++k) {
            const char ch = out.sql[k];
            if (!std::isspace(static_cast<unsigned char>(ch)) && ch != ';') {
                out.values_open = out.values_close = std::string::npos;
                break;
            }
        }
    } else {
        out.values_open = std::string::npos;
    }
    return out;
}

}  // namespace corio::mysql::detail
