// corio/mysql/errors.hpp: corio::mysql's exceptions (PyMySQL's and aiomysql's
// classes, by the server's error number).
//
//   mysql_error : std::runtime_error     code() (the server's or the client's
//   │                                    error number), sqlstate(), message
//   ├── integrity_error      duplicate key (1062), foreign key (1451, 1452,
//   │                        1216, 1217), NULL into NOT NULL (1048), CHECK (4025)
//   ├── programming_error    syntax (1064), unknown table (1146) or column
//   │                        (1054), a %s count that does not match the
//   │                        arguments (code 0), ...
//   └── operational_error    connecting (wrong password 1045, unknown database
//                            1049, unreachable 2002/2003), a lost or killed
//                            connection (2006, 2013, 1927), an interrupted
//                            query (1317), deadlocks and lock waits
//   type_error : std::runtime_error      row::get<T> of a column that does
//                                        not hold a T (or NULL into a non-optional)
//
// Every message names the operation and what it worked on: the SQL (cut to
// 100 characters) for queries, `host:port` (or the socket path) for
// connecting; never the password. A timeout is corio::timeout_error and a
// cancellation corio::cancelled_error, as everywhere in corio.
#pragma once

#include <stdexcept>
#include <string>

namespace corio::mysql {

class mysql_error : public std::runtime_error {
public:
    mysql_error(const std::string& what, unsigned code, std::string sqlstate)
        : std::runtime_error(what), code_(code), sqlstate_(std::move(sqlstate)) {}
    /// The server's error number (1062, ...), or Connector/C's (2002, 2013,
    /// ...), or 0 for a client-side check such as a %s count.
    unsigned code() const noexcept { return code_; }
    /// The five-character SQLSTATE ("23000"), "HY000" when the error has none.
    const std::string& sqlstate() const noexcept { return sqlstate_; }

private:
    unsigned code_;
    std::string sqlstate_;
};

class integrity_error : public mysql_error {
public:
    using mysql_error::mysql_error;
};

class programming_error : public mysql_error {
public:
    using mysql_error::mysql_error;
};

class operational_error : public mysql_error {
public:
    using mysql_error::mysql_error;
};

/// row::get<T> asked for a type the column's value cannot give, or for a
/// non-optional T of a NULL; the message names the column and both types.
class type_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace corio::mysql
