// corio/mysql.hpp: corio::mysql, aiomysql for corio (MySQL and MariaDB over
// MariaDB Connector/C's non-blocking API). Link corio::mysql.
#pragma once

#include <corio/mysql/connection.hpp>
#include <corio/mysql/cursor.hpp>
#include <corio/mysql/errors.hpp>
#include <corio/mysql/options.hpp>
#include <corio/mysql/pool.hpp>
#include <corio/mysql/repr.hpp>
#include <corio/mysql/row.hpp>
#include <corio/mysql/value.hpp>
