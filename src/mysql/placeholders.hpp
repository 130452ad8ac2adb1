// src/mysql/placeholders.hpp: aiomysql's `%s` placeholders to the `?` of a
// prepared statement, skipping string literals ('...', "..."), quoted names
// (`...`) and comments (-- , #, /* */), where `%s` is text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace corio::mysql::detail {

struct rewritten_sql {
    std::string sql;          // %s -> ?, %% -> %
    std::size_t placeholders = 0;
    std::size_t values_open = std::string::npos;  // INSERT ... VALUES: where "(" of the row starts
    std::size_t values_close = std::string::npos; // one past its ")"
};

/// Rewrites `sql`; also finds, for executemany's batching, the row tuple of
/// an `INSERT ... VALUES (...)` whose tuple ends the statement.
rewritten_sql rewrite_placeholders(std::string_view sql);

}  // namespace corio::mysql::detail
