// The client session's connection pool against real sockets (a corio server
// on 127.0.0.1), on both backends: reuse, limits and their FIFO order,
// cancellation while waiting and after a grant, keep-alive expiry, a peer
// that closed an idle connection, close(), and no slot or descriptor leaked.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <corio/corio.hpp>
#include <corio/http/connection_pool.hpp>
#include <corio/http/errors.hpp>

#include "../net/net_test_support.hpp"

using namespace std::chrono_literals;
using corio::http::connection_pool;
using corio::http::pool_key;
using corio::http::pool_lease;
using corio::http::pool_options;
using corio_net_test::backend_test;
using corio_test::open_fd_count;

namespace {

class connection_pool_test : public backend_test {};
CORIO_NET_ON_BOTH_BACKENDS(connection_pool_test);

// A peer that counts its connections and keeps each open until EOF.
struct counting_peer {
    std::shared_ptr<int> accepted = std::make_shared<int>(0);
    corio::server srv;

    static corio::task<counting_peer> start(bool close_at_once = false) {
        counting_peer p;
        auto count = p.accepted;
        // Named before the co_await: g++ 12 destroys a capturing lambda
        // written inside a co_await expression twice (README, "Compilers").
        auto handler = [count, close_at_once](corio::stream s) -> corio::task<> {
            ++*count;
            if (!close_at_once) {
                while (!(co_await s.read(4096)).empty()) {
                }
            }
            co_await s.close();
        };
        p.srv = co_await corio::start_server(std::move(handler), "127.0.0.1", 0);
        co_return p;
    }
    pool_key key() const { return pool_key{"http", "127.0.0.1", srv.port(), nullptr}; }
    corio::task<corio::stream> connect() const { return open(srv.port()); }
    static corio::task<corio::stream> open(std::uint16_t port) { co_return co_await corio::open_connection("127.0.0.1", port); }
    corio::task<> stop() {
        srv.close();
        co_await srv.wait_closed();
    }
};

// Acquires a lease with a connection: the pooled one, or a new one.
corio::task<pool_lease> lease_with_connection(connection_pool& pool, const counting_peer& peer) {
    pool_lease lease = co_await pool.acquire(peer.key());
    if (!lease.has_connection()) lease.attach(co_await peer.connect());
    co_return lease;
}

}  // namespace

TEST_P(connection_pool_test, a_released_reusable_connection_serves_the_next_request) {
    const int fds_before = open_fd_count();
    run([]() -> corio::task<> {
        auto peer = co_await counting_peer::start();
        {
            connection_pool pool;
            pool_lease first = co_await lease_with_connection(pool, peer);
            EXPECT_FALSE(first.reused());
            first.release(true);
            EXPECT_EQ(pool.idle(), 1u);
            EXPECT_EQ(pool.in_use(), 0u);
            pool_lease second = co_await pool.acquire(peer.key());
            EXPECT_TRUE(second.has_connection());
            EXPECT_TRUE(second.reused());
            EXPECT_EQ(pool.in_use(), 1u);
            EXPECT_EQ(pool.in_use(peer.key()), 1u);
            second.release(false);  // not reusable: closed
            EXPECT_EQ(pool.idle(), 0u);
            pool_lease third = co_await pool.acquire(peer.key());
            EXPECT_FALSE(third.has_connection());
        }
        for (int i = 0; i < 1000 && *peer.accepted == 0; ++i) co_await corio::sleep(1ms);
        co_await corio::sleep(10ms);  // a second connection, had there been one, is accepted by now
        EXPECT_EQ(*peer.accepted, 1);
        co_await peer.stop();
    }());
    EXPECT_EQ(open_fd_count(), fds_before);
}

TEST_P(connection_pool_test, the_limit_queues_requests_first_in_first_out) {
    run([]() -> corio::task<> {
        auto peer = co_await counting_peer::start();
        pool_options options;
        options.limit = 2;
        connection_pool pool(options);
        std::vector<int> order;
        pool_lease a = co_await pool.acquire(peer.key());
        pool_lease b = co_await pool.acquire(peer.key());
        auto waiter = [&](int id) -> corio::task<> {
            pool_lease l = co_await pool.acquire(peer.key());
            order.push_back(id);
            co_await corio::sleep(0s);
            l.release(false);
        };
        co_await corio::with(corio::task_group(), [&](corio::task_group& g) -> corio::task<> {
            for (int id = 1; id <= 3; ++id) g.spawn(waiter(id));
            co_await corio::sleep(0s);
            EXPECT_EQ(pool.waiting(), 3u);
            EXPECT_TRUE(order.empty());
            a.release(false);
            co_await corio::sleep(0s);
            EXPECT_EQ(order, (std::vector<int>{1}));
            b.release(false);
        });
        EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
        EXPECT_EQ(pool.in_use(), 0u);
        EXPECT_EQ(pool.waiting(), 0u);
        co_await peer.stop();
    }());
}

TEST_P(connection_pool_test, a_host_at_its_own_limit_does_not_hold_up_another) {
    run([]() -> corio::task<> {
        auto peer_a = co_await counting_peer::start();
        auto peer_b = co_await counting_peer::start();
        pool_options options;
        options.limit_per_host = 1;
        connection_pool pool(options);
        pool_lease a = co_await pool.acquire(peer_a.key());
        bool second_a = false;
        co_await corio::with(corio::task_group(), [&](corio::task_group& g) -> corio::task<> {
            g.spawn([&]() -> corio::task<> {
                pool_lease l = co_await pool.acquire(peer_a.key());
                second_a = true;
            });
            co_await corio::sleep(0s);
            EXPECT_EQ(pool.waiting(), 1u);
            // Host B has room: served at once, past the waiter for host A.
            pool_lease b = co_await pool.acquire(peer_b.key());
            EXPECT_EQ(pool.in_use(), 2u);
            EXPECT_FALSE(second_a);
            a.release(false);
        });
        EXPECT_TRUE(second_a);
        co_await peer_a.stop();
        co_await peer_b.stop();
    }());
}

TEST_P(connection_pool_test, a_waiter_cancelled_in_the_queue_takes_no_slot) {
    run([]() -> corio::task<> {
        auto peer = co_await counting_peer::start();
        pool_options options;
        options.limit = 1;
        connection_pool pool(options);
        pool_lease held = co_await pool.acquire(peer.key());
        auto h = corio::spawn([&]() -> corio::task<> { pool_lease l = co_await pool.acquire(peer.key()); });
        co_await corio::sleep(0s);
        EXPECT_EQ(pool.waiting(), 1u);
        h.cancel();
        EXPECT_THROW(co_await h, corio::cancelled_error);
        EXPECT_EQ(pool.waiting(), 0u);
        held.release(false);
        EXPECT_EQ(pool.in_use(), 0u);
        pool_lease next = co_await pool.acquire(peer.key());  // the slot is there
        EXPECT_EQ(pool.in_use(), 1u);
        co_await peer.stop();
    }());
}

TEST_P(connection_pool_test, a_waiter_granted_then_cancelled_passes_the_slot_on) {
    run([]() -> corio::task<> {
        auto peer = co_await counting_peer::start();
        pool_options options;
        options.limit = 1;
        connection_pool pool(options);
        pool_lease held = co_await pool.acquire(peer.key());
        bool second_served = false;
        auto first = corio::spawn([&]() -> corio::task<> { pool_lease l = co_await pool.acquire(peer.key()); });
        auto second = corio::spawn([&]() -> corio::task<> {
            pool_lease l = co_await pool.acquire(peer.key());
            second_served = true;
        });
        co_await corio::sleep(0s);
        EXPECT_EQ(pool.waiting(), 2u);
        held.release(false);  // grants the first waiter...
        first.cancel();       // ...which is cancelled before it runs
        EXPECT_THROW(co_await first, corio::cancelled_error);
        co_await second;
        EXPECT_TRUE(second_served);
        EXPECT_EQ(pool.in_use(), 0u);
        co_await peer.stop();
    }());
}

TEST_P(connection_pool_test, a_connection_idle_past_keepalive_timeout_is_closed_not_reused) {
    const int fds_before = open_fd_count();
    run([]() -> corio::task<> {
        auto peer = co_await counting_peer::start();
        {
            pool_options options;
            options.keepalive_timeout = 50ms;
            connection_pool pool(options);
            pool_lease l = co_await lease_with_connection(pool, peer);
            l.release(true);
            co_await corio::sleep(120ms);
            pool_lease again = co_await pool.acquire(peer.key());
            EXPECT_FALSE(again.has_connection());
            EXPECT_EQ(pool.idle(), 0u);
        }
        co_await peer.stop();
    }());
    EXPECT_EQ(open_fd_count(), fds_before);
}

TEST_P(connection_pool_test, a_connection_its_peer_closed_while_idle_is_not_handed_out) {
    run([]() -> corio::task<> {
        auto peer = co_await counting_peer::start(/*close_at_once=*/true);
        connection_pool pool;
        pool_lease l = co_await lease_with_connection(pool, peer);
        l.release(true);
        // Let the peer's FIN arrive.
        for (int i = 0; i < 100 && *peer.accepted == 0; ++i) co_await corio::sleep(1ms);
        co_await corio::sleep(20ms);
        pool_lease again = co_await pool.acquire(peer.key());
        EXPECT_FALSE(again.has_connection());
        co_await peer.stop();
    }());
}

TEST_P(connection_pool_test, close_fails_the_waiters_and_closes_idle_connections) {
    const int fds_before = open_fd_count();
    run([]() -> corio::task<> {
        auto peer = co_await counting_peer::start();
        {
            pool_options options;
            options.limit = 1;
            connection_pool pool(options);
            pool_lease idle = co_await lease_with_connection(pool, peer);
            idle.release(true);
            pool_lease held = co_await lease_with_connection(pool, peer);
            std::string error;
            auto waiter = corio::spawn([&]() -> corio::task<> {
                try {
                    pool_lease l = co_await pool.acquire(peer.key());
                } catch (const corio::http::client_error& e) {
                    error = e.what();
                }
            });
            co_await corio::sleep(0s);
            pool.close();
            co_await waiter;
            EXPECT_EQ(error, "client_session::request http://127.0.0.1:" + std::to_string(peer.srv.port()) +
                                 ": the session is closed");
            EXPECT_EQ(pool.idle(), 0u);
            held.release(true);  // closed, not kept: the pool is closed
            EXPECT_EQ(pool.idle(), 0u);
            EXPECT_THROW((void)co_await pool.acquire(peer.key()), corio::http::client_error);
        }
        co_await peer.stop();
    }());
    EXPECT_EQ(open_fd_count(), fds_before);
}

TEST_P(connection_pool_test, a_lease_dropped_without_release_closes_its_connection_and_frees_the_slot) {
    run([]() -> corio::task<> {
        auto peer = co_await counting_peer::start();
        pool_options options;
        options.limit = 1;
        connection_pool pool(options);
        {
            pool_lease l = co_await lease_with_connection(pool, peer);
            EXPECT_EQ(pool.in_use(), 1u);
        }
        EXPECT_EQ(pool.in_use(), 0u);
        EXPECT_EQ(pool.idle(), 0u);  // maybe half-read: never kept
        co_await peer.stop();
    }());
}
