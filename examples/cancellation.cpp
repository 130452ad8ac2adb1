// cancellation: what corio's level-triggered cancellation and shielded exits
// mean in practice (docs/guide.md, rules 3 to 5, cuts its snippets from here).
//
// 1. Level-triggered: inside a cancelled scope every await throws, cleanup
//    awaits included, so a block under a deadline ends on time even when the
//    peer has stalled. (asyncio delivers one CancelledError; the cleanup
//    await after it waits for the stalled peer forever.)
// 2. Exits are shielded from the cancellation that ended the body: a pooled
//    connection's aexit still returns it (asyncpg#97: "__aexit__ also gets
//    cancelled and the connection is never returned to the pool").
// 3. ...but only from cancellations already in effect: a deadline further
//    out that expires during a stalled exit still interrupts it.
// 4. shield(): an operation that must finish runs to its end; the pending
//    cancellation surfaces at the next unshielded await.
#include <chrono>
#include <cstdio>
#include <exception>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

// ---- 1. level-triggered cancellation -------------------------------------

// A peer that has stopped reading: every send waits (here, an hour).
struct stalled_peer {
    corio::task<> send(const char* message) {
        std::printf("send(%s): waiting for the peer\n", message);
        try {
            co_await corio::sleep(1h);
        } catch (const corio::cancelled_error&) {
            std::printf("send(%s): cancelled\n", message);
            throw;
        }
    }
};

corio::task<> talk(stalled_peer& peer) {
    std::exception_ptr failure;
    try {
        co_await peer.send("hello");  // the deadline passes here
    } catch (...) {
        failure = std::current_exception();
    }
    // Cleanup, Python's `finally: await conn.send_goodbye()`. The scope is
    // still cancelled, so this await throws at once instead of waiting for
    // the stalled peer.
    co_await peer.send("goodbye");
    if (failure) std::rethrow_exception(failure);
}

// ---- 2 and 3. shielded exits ---------------------------------------------

// A pool of connections in the style of asyncpg's pool.acquire(): the
// connection goes back to the pool in aexit, after an awaited reset.
class pool {
public:
    explicit pool(int size, std::chrono::milliseconds reset_time) : free_(size), reset_time_(reset_time) {}
    int free() const { return free_; }

    class acquisition {  // what acquire() returns: an async context manager
    public:
        explicit acquisition(pool& p) : pool_(&p) {}
        corio::task<pool&> aenter() {
            --pool_->free_;
            co_return *pool_;
        }
        corio::task<> aexit(std::exception_ptr) {
            std::puts("aexit: resetting the connection");
            try {
                co_await corio::sleep(pool_->reset_time_);  // e.g. ROLLBACK on the server
            } catch (const corio::cancelled_error&) {
                std::puts("aexit: reset interrupted, connection closed and replaced");
                ++pool_->free_;
                throw;
            }
            ++pool_->free_;
            std::puts("aexit: connection back in the pool");
        }

    private:
        pool* pool_;
    };
    acquisition acquire() { return acquisition(*this); }

private:
    int free_;
    std::chrono::milliseconds reset_time_;
};

corio::task<> use_connection(pool& p) {
    co_await corio::with(p.acquire(), [](pool&) -> corio::task<> {
        co_await corio::sleep(1h);  // a query that takes too long
    });
}

// ---- 4. shield -----------------------------------------------------------

corio::task<> save_checkpoint() {
    co_await corio::sleep(50ms);  // the deadline passes meanwhile
    std::puts("checkpoint saved");
}

corio::task<> amain() {
    // 1.
    stalled_peer peer;
    const auto start = std::chrono::steady_clock::now();
    co_await corio::with(corio::move_on_after(20ms), [&peer](corio::timeout_scope&) { return talk(peer); });
    const bool on_time = std::chrono::steady_clock::now() - start < 10s;
    std::printf("1. the block ended at its deadline: %s\n", on_time ? "yes" : "no");

    // 2.
    pool fast_pool(1, 10ms);
    try {
        co_await corio::with(corio::timeout(20ms), [&](corio::timeout_scope&) { return use_connection(fast_pool); });
    } catch (const corio::timeout_error&) {
        std::printf("2. timed out; free connections: %d of 1\n", fast_pool.free());
    }

    // 3. The connection's user is cancelled (here by cancelling its task
    // group); the exit then stalls, and a deadline further out, which
    // expires later, still interrupts it.
    pool stuck_pool(1, 1h);
    auto outer = corio::move_on_after(200ms);
    co_await corio::with(outer, [&](corio::timeout_scope&) -> corio::task<> {
        co_await corio::with(corio::task_group(), [&](corio::task_group& group) -> corio::task<> {
            group.spawn(use_connection(stuck_pool));
            co_await corio::sleep(20ms);
            group.cancel();
        });
    });
    std::printf("3. outer deadline caught it: %s; free connections: %d of 1\n",
                outer.cancelled_caught() ? "yes" : "no", stuck_pool.free());

    // 4.
    co_await corio::with(corio::move_on_after(20ms), [](corio::timeout_scope&) -> corio::task<> {
        co_await corio::shield(save_checkpoint());  // runs to its end
        try {
            co_await corio::sleep(1h);  // the first unshielded await: throws at once
        } catch (const corio::cancelled_error&) {
            std::puts("4. the next unshielded await was cancelled");
            throw;
        }
    });
}

int main() { corio::run(amain()); }
