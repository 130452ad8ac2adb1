// corio/pg/errors.hpp: what corio::pg throws (asyncpg's exception classes).
//
// postgres_error: what the server reported (SQLSTATE, message, detail, hint,
// position, constraint and table), with subclasses for the classes users
// catch, chosen by SQLSTATE. connection_error: connecting, authenticating or
// a connection lost mid-query; its message names host and port, never the
// password. interface_error: misuse (a closed connection, a query with no row
// where fetchval needs one). type_error: a column read into the wrong C++
// type, or NULL into a non-optional; it names the column and both types.
// All derive from std::runtime_error; cancellation stays corio::cancelled_error.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

namespace corio::pg {

/// The fields of a server error (ErrorResponse); empty strings when absent.
struct error_fields {
    std::string sqlstate;
    std::string message;
    std::string detail;
    std::string hint;
    int position = 0;
    std::string constraint_name;
    std::string table_name;
};

class postgres_error : public std::runtime_error {
public:
    postgres_error(const std::string& what, error_fields fields)
        : std::runtime_error(what), fields_(std::make_shared<const error_fields>(std::move(fields))) {}
    const std::string& sqlstate() const noexcept { return fields_->sqlstate; }
    const std::string& message() const noexcept { return fields_->message; }
    const std::string& detail() const noexcept { return fields_->detail; }
    const std::string& hint() const noexcept { return fields_->hint; }
    /// 1-based character offset into the statement, 0 when the server sent none.
    int position() const noexcept { return fields_->position; }
    const std::string& constraint_name() const noexcept { return fields_->constraint_name; }
    const std::string& table_name() const noexcept { return fields_->table_name; }

private:
    std::shared_ptr<const error_fields> fields_;  // shared: exceptions are copied
};

// SQLSTATE 23505, 23503, 23502, 23514, 40001, 40P01, 42P01, 42601.
class unique_violation_error : public postgres_error { using postgres_error::postgres_error; };
class foreign_key_violation_error : public postgres_error { using postgres_error::postgres_error; };
class not_null_violation_error : public postgres_error { using postgres_error::postgres_error; };
class check_violation_error : public postgres_error { using postgres_error::postgres_error; };
class serialization_error : public postgres_error { using postgres_error::postgres_error; };
class deadlock_detected_error : public postgres_error { using postgres_error::postgres_error; };
class undefined_table_error : public postgres_error { using postgres_error::postgres_error; };
class syntax_error : public postgres_error { using postgres_error::postgres_error; };

class connection_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class interface_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class type_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace corio::pg
