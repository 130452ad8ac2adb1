// UDP sockets on both backends: bind/connect, send/recv, send_to/recv_from,
// a socat peer, ECONNREFUSED from a closed port, and cancellation.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <corio/corio.hpp>

#include "net_test_support.hpp"

using namespace std::chrono_literals;
using corio_net_test::backend_test;

namespace {

class datagram_test : public backend_test {};
CORIO_NET_ON_BOTH_BACKENDS(datagram_test);

TEST_P(datagram_test, echo_with_send_to_and_recv_from) {
    std::string got = run([]() -> corio::task<std::string> {
        auto server = co_await corio::datagram_socket::bind("127.0.0.1", 0);
        const std::uint16_t port = server.local_address().port();
        auto echo = corio::spawn([&server]() -> corio::task<> {
            for (int i = 0; i < 3; ++i) {
                auto [data, from] = co_await server.recv_from();
                co_await server.send_to("echo:" + data, from);
            }
        });
        auto client = co_await corio::datagram_socket::connect("127.0.0.1", port);
        std::string out;
        for (int i = 0; i < 3; ++i) {
            co_await client.send("d" + std::to_string(i));
            out += co_await client.recv();
            out += ";";
        }
        co_await echo;
        co_return out + client.peer_address().to_string().substr(0, 10);
    }());
    EXPECT_EQ(got, "echo:d0;echo:d1;echo:d2;127.0.0.1:");
}

TEST_P(datagram_test, a_datagram_longer_than_max_is_cut_and_empty_ones_arrive) {
    auto got = run([]() -> corio::task<std::string> {
        auto a = co_await corio::datagram_socket::bind("127.0.0.1", 0);
        auto b = co_await corio::datagram_socket::connect("127.0.0.1", a.local_address().port());
        co_await b.send("0123456789");
        co_await b.send("");
        std::string first = co_await a.recv(4);
        std::string second = co_await a.recv();
        co_return first + "|" + second + "|";
    }());
    EXPECT_EQ(got, "0123||");
}

TEST_P(datagram_test, socat_peer) {
    if (!corio_net_test::have_program("/usr/bin/socat")) GTEST_SKIP() << "socat is not installed";
    const std::uint16_t port = corio_net_test::free_port();
    corio_net_test::child_process socat(
        {"/usr/bin/socat", "UDP-RECVFROM:" + std::to_string(port) + ",bind=127.0.0.1,fork", "EXEC:/bin/cat"});
    std::string got = run([](std::uint16_t port) -> corio::task<std::string> {
        auto s = co_await corio::datagram_socket::connect("127.0.0.1", port);
        // socat may not be listening yet: ask again until it answers.
        for (int i = 0; i < 100; ++i) {
            try {
                co_await s.send("hello socat");
                co_return co_await corio::wait_for(s.recv(), 100ms);
            } catch (const corio::timeout_error&) {
            } catch (const std::system_error&) {  // ECONNREFUSED before it binds
            }
            co_await corio::sleep(20ms);
        }
        co_return std::string("no answer");
    }(port));
    EXPECT_EQ(got, "hello socat");
}

TEST_P(datagram_test, a_closed_port_gives_connection_refused) {
    const std::uint16_t port = corio_net_test::free_port();
    std::string what = run([](std::uint16_t port) -> corio::task<std::string> {
        auto s = co_await corio::datagram_socket::connect("127.0.0.1", port);
        co_await s.send("anyone?");
        try {
            co_await corio::wait_for(s.recv(), 2s);
        } catch (const std::system_error& e) {
            co_return std::to_string(e.code().value()) + " " + e.what();
        }
        co_return std::string("no error");
    }(port));
    EXPECT_EQ(what, std::to_string(ECONNREFUSED) + " datagram_socket::recv from 127.0.0.1:" + std::to_string(port) +
                        ": Connection refused");
}

// Misuses name the call, then the socket's state: recv_from says recv_from,
// a closed socket says it is closed (EBADF), a second receiver is refused.
TEST_P(datagram_test, errors_name_the_call_and_the_state) {
    auto got = run([]() -> corio::task<std::vector<std::string>> {
        std::vector<std::string> seen;
        auto s = co_await corio::datagram_socket::bind("127.0.0.1", 0);
        const std::string local = s.local_address().to_string();
        seen.push_back(local);
        auto first = corio::spawn(s.recv_from());
        co_await corio::sleep(0ms);  // the first receive is waiting
        try {
            co_await s.recv_from();
        } catch (const std::logic_error& e) {
            seen.push_back(e.what());
        }
        first.cancel();
        try {
            co_await first;
        } catch (const corio::cancelled_error&) {
        }
        s.close();
        try {
            co_await s.recv_from();
        } catch (const std::system_error& e) {
            seen.push_back(std::to_string(e.code().value()) + " " + e.what());
        }
        const corio::address to = *corio::address::parse("127.0.0.1", 9);
        try {
            co_await s.send_to("x", to);
        } catch (const std::system_error& e) {
            seen.push_back(std::to_string(e.code().value()) + " " + e.what());
        }
        co_return seen;
    }());
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[1], "datagram_socket::recv_from on " + got[0] + ": another task is already receiving");
    EXPECT_EQ(got[2], std::to_string(EBADF) + " datagram_socket::recv_from: the socket is closed");
    EXPECT_EQ(got[3], std::to_string(EBADF) + " datagram_socket::send_to 127.0.0.1:9: the socket is closed");
}

TEST_P(datagram_test, a_pending_recv_is_cancellable_and_leaks_nothing) {
    const int before = corio_net_test::open_fd_count();
    bool timed_out = run([]() -> corio::task<bool> {
        auto s = co_await corio::datagram_socket::bind("127.0.0.1", 0);
        try {
            co_await corio::wait_for(s.recv(), 20ms);
        } catch (const corio::timeout_error&) {
            co_return true;
        }
        co_return false;
    }());
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(corio_net_test::open_fd_count(), before);
}

}  // namespace
