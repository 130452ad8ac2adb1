// corio/pg.hpp: corio::pg, PostgreSQL in the asyncpg model (API.md section 12):
// connect, connection, transaction, pool, records and binary types, errors.
// Link corio::pg (libpq is its private dependency).
#pragma once

#include <corio/pg/connection.hpp>
#include <corio/pg/errors.hpp>
#include <corio/pg/options.hpp>
#include <corio/pg/record.hpp>
#include <corio/pg/transaction.hpp>
#include <corio/pg/types.hpp>
#include <corio/pg/pool.hpp>
#include <corio/pg/notification.hpp>
#include <corio/pg/prepared_statement.hpp>
