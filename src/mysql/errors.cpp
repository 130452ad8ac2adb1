// src/mysql/errors.cpp: Connector/C's and the server's error numbers to
// corio::mysql's classes (PyMySQL's map, with unknown column as a
// programming error and every failure while connecting as operational).
#include <string>
#include <string_view>

#include "state.hpp"

namespace corio::mysql::detail {

std::string quote_sql(std::string_view sql) {
    constexpr std::size_t limit = 100;
    std::string out = "'";
    if (sql.size() > limit) {
        out.append(sql.substr(0, limit));
        out += "...";
    } else {
        out.append(sql);
    }
    out += '\'';
    return out;
}

void throw_error(unsigned code, const char* sqlstate, const char* message, const char* operation,
                 std::string_view what, bool connecting) {
    std::string text = operation;
    if (!what.empty()) {
        text += ' ';
        text.append(what);
    }
    text += ": ";
    text += (message && *message) ? message : "unknown error";
    text += " (" + std::to_string(code);
    std::string state = (sqlstate && *sqlstate) ? sqlstate : "HY000";
    text += ", " + state + ")";
    if (connecting) throw operational_error(text, code, state);
    switch (code) {
    case 1062:  // ER_DUP_ENTRY
    case 1586:  // ER_DUP_ENTRY_WITH_KEY_NAME
    case 1451:  // ER_ROW_IS_REFERENCED_2
    case 1452:  // ER_NO_REFERENCED_ROW_2
    case 1216:  // ER_NO_REFERENCED_ROW
    case 1217:  // ER_ROW_IS_REFERENCED
    case 1048:  // ER_BAD_NULL_ERROR
    case 1557:  // ER_FOREIGN_DUPLICATE_KEY
    case 4025:  // ER_CONSTRAINT_FAILED (CHECK)
        throw integrity_error(text, code, state);
    case 1064:  // ER_PARSE_ERROR
    case 1149:  // ER_SYNTAX_ERROR
    case 1146:  // ER_NO_SUCH_TABLE
    case 1054:  // ER_BAD_FIELD_ERROR
    case 1049:  // ER_BAD_DB_ERROR (USE)
    case 1007:  // ER_DB_CREATE_EXISTS
    case 1050:  // ER_TABLE_EXISTS_ERROR
    case 1051:  // ER_BAD_TABLE_ERROR
    case 1060:  // ER_DUP_FIELDNAME
    case 1102:  // ER_WRONG_DB_NAME
    case 1103:  // ER_WRONG_TABLE_NAME
    case 1110:  // ER_FIELD_SPECIFIED_TWICE
    case 1111:  // ER_INVALID_GROUP_FUNC_USE
    case 1113:  // ER_TABLE_MUST_HAVE_COLUMNS
    case 1166:  // ER_WRONG_COLUMN_NAME
    case 1179:  // ER_CANT_DO_THIS_DURING_AN_TRANSACTION
    case 1210:  // ER_WRONG_ARGUMENTS
    case 1243:  // ER_UNKNOWN_STMT_HANDLER
    case 1295:  // ER_UNSUPPORTED_PS
    case 1305:  // ER_SP_DOES_NOT_EXIST
        throw programming_error(text, code, state);
    case 1264:  // ER_WARN_DATA_OUT_OF_RANGE
    case 1265:  // WARN_DATA_TRUNCATED
    case 1292:  // ER_TRUNCATED_WRONG_VALUE
    case 1366:  // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
    case 1406:  // ER_DATA_TOO_LONG
    case 1416:  // ER_CANT_CREATE_GEOMETRY_OBJECT
        throw mysql_error(text, code, state);  // PyMySQL's DataError
    default:
        // PyMySQL: an unmapped server error is operational, a client one (2000+)
        // is about the connection too; below 1000 is the server's internals.
        if (code < 1000) throw mysql_error(text, code, state);
        throw operational_error(text, code, state);
    }
}

}  // namespace corio::mysql::detail
