// src/mysql/result.hpp: reading results into rows: the columns' description
// from Connector/C's MYSQL_FIELD, a text-protocol cell (plain queries) to a
// value, and the binary protocol's result binding (prepared statements),
// which grows a string column's buffer when a value did not fit.
#pragma once

#include <mysql.h>

#include <memory>
#include <string>
#include <vector>

#include <corio/mysql/row.hpp>
#include <corio/mysql/value.hpp>

namespace corio::mysql::detail {

enum class cell_kind { signed_integer, unsigned_integer, floating, text, bytes, temporal };

struct result_shape {
    std::shared_ptr<const std::vector<column>> columns;
    std::vector<cell_kind> kinds;
};

result_shape describe(const MYSQL_FIELD* fields, unsigned count);

/// A text-protocol cell (data may be null for NULL).
value text_cell(cell_kind kind, const MYSQL_FIELD& field, const char* data, unsigned long length);

/// The buffers a prepared statement's rows are fetched into.
class result_binding {
public:
    explicit result_binding(const result_shape& shape);
    MYSQL_BIND* binds() noexcept { return binds_.data(); }
    /// The row just fetched (0 or MYSQL_DATA_TRUNCATED from mysql_stmt_fetch):
    /// re-reads columns that did not fit (mysql_stmt_fetch_column; no I/O).
    row take_row(MYSQL_STMT* stmt, const result_shape& shape);

private:
    std::vector<MYSQL_BIND> binds_;
    std::vector<unsigned long> lengths_;
    std::vector<my_bool> nulls_;
    std::vector<my_bool> errors_;
    std::vector<long long> ints_;
    std::vector<double> doubles_;
    std::vector<MYSQL_TIME> times_;
    std::vector<std::string> buffers_;
};

/// Binds `args` as a statement's parameters (the binds point into args).
class param_binding {
public:
    explicit param_binding(const std::vector<value>& args);
    MYSQL_BIND* binds() noexcept { return binds_.data(); }

private:
    std::vector<MYSQL_BIND> binds_;
    std::vector<unsigned long> lengths_;
    std::vector<MYSQL_TIME> times_;
};

}  // namespace corio::mysql::detail
