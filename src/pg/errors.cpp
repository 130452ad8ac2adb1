// src/pg/errors.cpp: postgres_error and its subclasses from a PGresult's
// error fields (asyncpg picks its exception classes by SQLSTATE the same way).
#include <cstdlib>
#include <string>

#include <corio/pg/errors.hpp>

#include "errors_impl.hpp"

namespace corio::pg::detail {

namespace {
std::string field(const PGresult* r, int code) {
    const char* v = PQresultErrorField(r, code);
    return v == nullptr ? std::string() : std::string(v);
}

template <class E>
std::exception_ptr make(const std::string& what, error_fields f) {
    return std::make_exception_ptr(E(what, std::move(f)));
}
}  // namespace

std::exception_ptr make_server_error(const std::string& operation, const PGresult* r) {
    error_fields f;
    f.sqlstate = field(r, PG_DIAG_SQLSTATE);
    f.message = field(r, PG_DIAG_MESSAGE_PRIMARY);
    f.detail = field(r, PG_DIAG_MESSAGE_DETAIL);
    f.hint = field(r, PG_DIAG_MESSAGE_HINT);
    const std::string pos = field(r, PG_DIAG_STATEMENT_POSITION);
    f.position = pos.empty() ? 0 : std::atoi(pos.c_str());
    f.constraint_name = field(r, PG_DIAG_CONSTRAINT_NAME);
    f.table_name = field(r, PG_DIAG_TABLE_NAME);
    if (f.message.empty()) {
        f.message = PQresultErrorMessage(r);
        while (!f.message.empty() && f.message.back() == '\n') f.message.pop_back();
    }
    std::string what = operation + ": " + f.message;
    if (!f.sqlstate.empty()) what += " (SQLSTATE " + f.sqlstate + ")";
    const std::string& s = f.sqlstate;
    if (s == "23505") return make<unique_violation_error>(what, std::move(f));
    if (s == "23503") return make<foreign_key_violation_error>(what, std::move(f));
    if (s == "23502") return make<not_null_violation_error>(what, std::move(f));
    if (s == "23514") return make<check_violation_error>(what, std::move(f));
    if (s == "40001") return make<serialization_error>(what, std::move(f));
    if (s == "40P01") return make<deadlock_detected_error>(what, std::move(f));
    if (s == "42P01") return make<undefined_table_error>(what, std::move(f));
    if (s == "42601") return make<syntax_error>(what, std::move(f));
    return make<postgres_error>(what, std::move(f));
}

}  // namespace corio::pg::detail
