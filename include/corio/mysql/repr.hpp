// corio/mysql/repr.hpp: rows as Python prints what aiomysql gives, so a
// port prints the same lines: a row is a tuple (`(1, 'ada', None)`), a
// result a tuple of tuples (`((1,), (2,))`); DECIMAL as Decimal('1.50'),
// BLOB as b'...', DATE as datetime.date(2024, 1, 2), DATETIME as
// datetime.datetime(2024, 1, 2, 3, 4, 5), TIME as datetime.timedelta(...).
#pragma once

#include <string>
#include <vector>

#include <corio/mysql/row.hpp>

namespace corio::mysql {

std::string repr(const row& r);
std::string repr(const std::vector<row>& rows);

}  // namespace corio::mysql
