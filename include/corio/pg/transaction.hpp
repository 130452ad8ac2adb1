// corio/pg/transaction.hpp: transaction, asyncpg's Transaction as an async
// context manager.
//
//   co_await corio::with(c.transaction(), [&](pg::transaction&) -> corio::task<> {
//       co_await c.execute("UPDATE accounts SET balance = balance - $1 WHERE id = $2", 10, 1);
//   });
//
// aenter sends BEGIN [ISOLATION LEVEL ...] [READ ONLY] [DEFERRABLE], or
// SAVEPOINT when a transaction of this connection is already open (nested).
// aexit sends COMMIT (RELEASE SAVEPOINT) when the body succeeded, ROLLBACK
// (ROLLBACK TO SAVEPOINT) when it threw or was cancelled; the exit runs
// shielded (corio::with's rule), so a cancelled body still rolls back. A
// failed COMMIT (a serialization failure) throws from aexit. start(),
// commit() and rollback() do the same by hand. Misuse (start twice, commit
// before start) is pg::interface_error. Options on a nested transaction are
// interface_error too (a savepoint has none).
#pragma once

#include <exception>
#include <memory>
#include <string>

#include <corio/pg/options.hpp>
#include <corio/task.hpp>

namespace corio::pg {

namespace detail {
struct conn_state;
}

class transaction {
public:
    transaction(std::shared_ptr<detail::conn_state> state, transaction_options options) noexcept
        : state_(std::move(state)), options_(options) {}

    task<transaction&> aenter();
    task<void> aexit(std::exception_ptr error);

    task<void> start();
    task<void> commit();
    task<void> rollback();

    /// True for a SAVEPOINT inside an outer transaction (after start()).
    bool nested() const noexcept { return depth_ > 0; }

private:
    enum class phase { created, started, done };
    std::shared_ptr<detail::conn_state> state_;
    transaction_options options_;
    phase phase_ = phase::created;
    int depth_ = 0;  // 0: the outermost (BEGIN); n: savepoint corio_savepoint_n
};

}  // namespace corio::pg
