// src/pg/errors_impl.hpp: a server's ErrorResponse as the postgres_error
// subclass its SQLSTATE names.
#pragma once

#include <libpq-fe.h>

#include <exception>
#include <string>

namespace corio::pg::detail {

std::exception_ptr make_server_error(const std::string& operation, const PGresult* r);

}  // namespace corio::pg::detail
