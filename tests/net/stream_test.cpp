// Streams over TCP and Unix sockets on both backends: reading and writing
// semantics (docs/reference.md, Networking), real peers (socat, nc), the failures the
// issue names, back-pressure, and cancellation of pending operations.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <corio/corio.hpp>

#include "net_test_support.hpp"

using namespace std::chrono_literals;
using corio_net_test::backend_test;
using corio_net_test::child_process;

namespace {

class stream_test : public backend_test {};
CORIO_NET_ON_BOTH_BACKENDS(stream_test);

// An echo handler: what it reads, it writes back, until EOF.
corio::task<> echo(corio::stream s) {
    for (;;) {
        std::string data = co_await s.read(65536);
        if (data.empty()) co_return;
        co_await s.write_all(data);
    }
}

struct failure {
    bool thrown = false;
    int code = 0;
    std::string what;
};

template <class F>
corio::task<failure> failure_of(F f) {
    failure out;
    try {
        co_await f();
    } catch (const std::system_error& e) {
        out = {true, e.code().value(), e.what()};
    }
    co_return out;
}

TEST_P(stream_test, echo_round_trips_and_every_read_form) {
    auto result = run([]() -> corio::task<std::vector<std::string>> {
        auto srv = co_await corio::start_server(echo, "127.0.0.1", 0);
        std::vector<std::string> got;
        co_await corio::with(corio::open_connection("127.0.0.1", srv.port()),
                             [&](corio::stream& s) -> corio::task<> {
                                 co_await s.write_all("one\ntwo\n");
                                 got.push_back(co_await s.readline());
                                 got.push_back(co_await s.readline());
                                 co_await s.write_all("abcdefgh");
                                 got.push_back(co_await s.read_exactly(3));
                                 got.push_back(co_await s.read_until("fg"));
                                 got.push_back(co_await s.read_exactly(1));
                                 s.write("x;y;");
                                 got.push_back(co_await s.read_until(";"));
                                 got.push_back(co_await s.read_until(";"));
                                 co_await s.write_all("tail without newline");
                                 co_await s.write_eof();  // the echo server sees EOF and closes
                                 got.push_back(co_await s.read_all());
                                 got.push_back(s.at_eof() ? "eof" : "not eof");
                                 got.push_back(co_await s.readline());  // "" at EOF
                             });
        co_await corio::with(srv, [](corio::server&) -> corio::task<> { co_return; });
        co_return got;
    }());
    const std::vector<std::string> want = {"one\n", "two\n", "abc", "defg", "h", "x;", "y;",
                                           "tail without newline", "eof", ""};
    EXPECT_EQ(result, want);
}

TEST_P(stream_test, lines_gives_each_line_and_a_last_one_without_newline) {
    auto lines = run([]() -> corio::task<std::vector<std::string>> {
        auto srv = co_await corio::start_server(
            [](corio::stream s) -> corio::task<> { co_await s.write_all("a\nbb\n\nlast"); }, "127.0.0.1", 0);
        std::vector<std::string> out;
        corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
        auto gen = s.lines();
        while (auto line = co_await gen.next()) out.emplace_back(*line);
        co_await s.close();
        srv.close();
        co_await srv.wait_closed();
        co_return out;
    }());
    const std::vector<std::string> want = {"a\n", "bb\n", "\n", "last"};
    EXPECT_EQ(lines, want);
}

TEST_P(stream_test, ten_megabytes_each_way_at_once) {
    // Both directions full at once: the background flush must keep writing
    // while this task reads, or both sides would wait for ever.
    const std::size_t n = 10u << 20;
    const std::size_t echoed = run([](std::size_t n) -> corio::task<std::size_t> {
        auto srv = co_await corio::start_server(echo, "127.0.0.1", 0);
        corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
        std::string big(n, '\0');
        for (std::size_t i = 0; i < n; ++i) big[i] = static_cast<char>(i * 7 + i / 4096);
        s.write(big);  // buffered beyond what the kernel took
        std::string back;
        while (back.size() < n) {
            std::string part = co_await s.read(1 << 20);
            if (part.empty()) break;
            back += part;
        }
        co_await s.close();
        srv.close();
        co_await srv.wait_closed();
        co_return back == big ? back.size() : 0;
    }(n));
    EXPECT_EQ(echoed, n);
}

TEST_P(stream_test, socat_echo_peer) {
    if (!corio_net_test::have_program("/usr/bin/socat")) GTEST_SKIP() << "socat is not installed";
    const std::uint16_t port = corio_net_test::free_port();
    child_process socat({"/usr/bin/socat", "TCP-LISTEN:" + std::to_string(port) + ",bind=127.0.0.1,reuseaddr,fork",
                         "EXEC:/bin/cat"});
    ASSERT_TRUE(corio_net_test::wait_for_port(port));
    auto lines = run([](std::uint16_t port) -> corio::task<std::vector<std::string>> {
        std::vector<std::string> out;
        co_await corio::with(corio::open_connection("127.0.0.1", port), [&](corio::stream& s) -> corio::task<> {
            for (int i = 0; i < 100; ++i) {
                co_await s.write_all("line " + std::to_string(i) + "\n");
                out.push_back(co_await s.readline());
            }
        });
        co_return out;
    }(port));
    ASSERT_EQ(lines.size(), 100u);
    EXPECT_EQ(lines[0], "line 0\n");
    EXPECT_EQ(lines[99], "line 99\n");
}

TEST_P(stream_test, nc_client_against_our_server) {
    if (!corio_net_test::have_program("/bin/nc")) GTEST_SKIP() << "nc is not installed";
    std::string reply = run([]() -> corio::task<std::string> {
        auto srv = co_await corio::start_server(
            [](corio::stream s) -> corio::task<> {
                for (;;) {
                    std::string line = co_await s.readline();
                    if (line.empty()) co_return;
                    for (char& c : line) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                    co_await s.write_all(line);
                }
            },
            "127.0.0.1", 0);
        const std::uint16_t port = srv.port();
        // nc blocks: it runs on a thread while the loop serves it.
        std::string out = co_await corio::to_thread([port] {
            child_process nc({"/bin/nc", "-N", "127.0.0.1", std::to_string(port)});
            nc.feed("hello\nworld\n");
            return nc.read_all();
        });
        srv.close();
        co_await srv.wait_closed();
        co_return out;
    }());
    EXPECT_EQ(reply, "HELLO\nWORLD\n");
}

TEST_P(stream_test, unix_sockets_with_socat_client) {
    char dir[] = "/tmp/corio-net-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    const std::string path = std::string(dir) + "/echo.sock";
    auto result = run([](std::string path) -> corio::task<std::pair<std::string, std::string>> {
        auto srv = co_await corio::start_unix_server(echo, path);
        std::string ours;
        co_await corio::with(corio::open_unix_connection(path), [&](corio::stream& s) -> corio::task<> {
            co_await s.write_all("over unix\n");
            ours = co_await s.readline();
            ours += s.peer_address().to_string();
        });
        std::string theirs;
        if (corio_net_test::have_program("/usr/bin/socat")) {
            // Named first: g++ 12 destroys a by-value capture twice when the
            // lambda is a temporary inside co_await.
            auto talk = [path] {
                child_process socat({"/usr/bin/socat", "-", "UNIX-CONNECT:" + path});
                socat.feed("from socat\n");
                return socat.read_all();
            };
            theirs = co_await corio::to_thread(talk);
        }
        srv.close();
        co_await srv.wait_closed();
        co_return std::pair(ours, theirs);
    }(path));
    EXPECT_EQ(result.first, "over unix\nunix:" + path);
    if (corio_net_test::have_program("/usr/bin/socat")) {
        EXPECT_EQ(result.second, "from socat\n");
    }
    ::unlink(path.c_str());
    ::rmdir(dir);
}

TEST_P(stream_test, connection_refused_names_the_peer) {
    const std::uint16_t port = corio_net_test::free_port();
    failure f = run(failure_of([port]() -> corio::task<> {
        corio::stream s = co_await corio::open_connection("127.0.0.1", port);
    }));
    EXPECT_TRUE(f.thrown);
    EXPECT_EQ(f.code, ECONNREFUSED);
    EXPECT_EQ(f.what, "open_connection to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

TEST_P(stream_test, connect_timeout_is_a_system_error_naming_the_peer) {
    // A listener that never accepts, its backlog full: later SYNs are
    // dropped, so a connect stays pending.
    const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(l, 0), 0);
    socklen_t size = sizeof a;
    ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &size);
    const std::uint16_t port = ntohs(a.sin_port);
    const int before = corio_net_test::open_fd_count();
    failure f = run(failure_of([port]() -> corio::task<> {
        std::vector<corio::stream> fill;
        for (int i = 0; i < 4; ++i) {  // fills the backlog (0 means 1 or 2 here)
            corio::connect_options quick;
            quick.connect_timeout = 100ms;
            try {
                fill.push_back(co_await corio::open_connection("127.0.0.1", port, quick));
            } catch (const std::system_error&) {
                break;  // already pending: the backlog is full
            }
        }
        corio::connect_options options;
        options.connect_timeout = 200ms;
        corio::stream s = co_await corio::open_connection("127.0.0.1", port, options);
    }));
    EXPECT_EQ(corio_net_test::open_fd_count(), before);
    ::close(l);
    EXPECT_TRUE(f.thrown);
    EXPECT_EQ(f.code, ETIMEDOUT);
    EXPECT_EQ(f.what, "open_connection to 127.0.0.1:" + std::to_string(port) +
                          " (no connection within 200 ms): Connection timed out");
}

TEST_P(stream_test, reset_by_peer_during_read_names_the_peer) {
    failure f = run(failure_of([]() -> corio::task<> {
        auto srv = co_await corio::start_server(
            [](corio::stream s) -> corio::task<> {
                co_await s.readline();
                const linger hard{1, 0};  // close with RST
                ::setsockopt(s.native_handle(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
            },
            "127.0.0.1", 0);
        co_await corio::with(srv, [](corio::server& srv) -> corio::task<> {
            corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
            co_await s.write_all("go\n");
            co_await s.read(100);
        });
    }));
    EXPECT_TRUE(f.thrown);
    EXPECT_EQ(f.code, ECONNRESET);
    EXPECT_EQ(f.what.rfind("stream::read from 127.0.0.1:", 0), 0u) << f.what;
    EXPECT_NE(f.what.find(": Connection reset by peer"), std::string::npos) << f.what;
}

TEST_P(stream_test, writing_to_a_reset_peer_fails_without_sigpipe) {
    failure f = run(failure_of([]() -> corio::task<> {
        auto srv = co_await corio::start_server(
            [](corio::stream s) -> corio::task<> {
                const linger hard{1, 0};
                ::setsockopt(s.native_handle(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
                co_return;
            },
            "127.0.0.1", 0);
        co_await corio::with(srv, [](corio::server& srv) -> corio::task<> {
            corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
            co_await corio::sleep(50ms);  // the reset has arrived
            std::string chunk(64 * 1024, 'x');
            for (int i = 0; i < 100; ++i) co_await s.write_all(chunk);
        });
    }));
    EXPECT_TRUE(f.thrown);  // and the process is still alive: no SIGPIPE
    EXPECT_TRUE(f.code == ECONNRESET || f.code == EPIPE) << f.what;
    EXPECT_EQ(f.what.rfind("stream::write to 127.0.0.1:", 0), 0u) << f.what;
}

TEST_P(stream_test, a_closed_stream_used_again_is_a_system_error) {
    std::string peer;
    failure f = run(failure_of([&peer]() -> corio::task<> {
        auto srv = co_await corio::start_server(echo, "127.0.0.1", 0);
        co_await corio::with(srv, [&peer](corio::server& srv) -> corio::task<> {
            corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
            peer = s.peer_address().to_string();
            co_await s.close();
            co_await s.close();  // twice is harmless
            co_await s.read(10);
        });
    }));
    EXPECT_TRUE(f.thrown);
    EXPECT_EQ(f.code, EBADF);
    EXPECT_EQ(f.what, "stream::read from " + peer + ": the stream is closed");
}

// The misuses of a stream say what the stream's state is, in the pattern
// every error follows: the call, the peer, then the reason.
TEST_P(stream_test, state_errors_name_the_call_the_peer_and_the_state) {
    auto got = run([]() -> corio::task<std::vector<std::string>> {
        std::vector<std::string> seen;
        auto note = [&seen](const std::system_error& e) {
            seen.push_back(std::to_string(e.code().value()) + " " + e.what());
        };
        auto srv = co_await corio::start_server(echo, "127.0.0.1", 0);
        corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
        const std::string peer = s.peer_address().to_string();
        seen.push_back(peer);
        co_await s.write_eof();
        try {
            s.write("late");
        } catch (const std::system_error& e) {
            note(e);
        }
        co_await s.close();
        try {
            s.write("closed");
        } catch (const std::system_error& e) {
            note(e);
        }
        try {
            co_await s.readline();
        } catch (const std::system_error& e) {
            note(e);
        }
        corio::stream empty;
        try {
            co_await empty.read(1);
        } catch (const std::system_error& e) {
            note(e);
        }
        srv.close();
        co_await srv.wait_closed();
        co_return seen;
    }());
    ASSERT_EQ(got.size(), 5u);
    const std::string& peer = got[0];
    EXPECT_EQ(got[1], std::to_string(EPIPE) + " stream::write to " + peer + ": the sending side is shut (write_eof)");
    EXPECT_EQ(got[2], std::to_string(EBADF) + " stream::write to " + peer + ": the stream is closed");
    EXPECT_EQ(got[3], std::to_string(EBADF) + " stream::readline from " + peer + ": the stream is closed");
    EXPECT_EQ(got[4], std::to_string(EBADF) + " stream::read: the stream is closed");
}

// asyncio sets TCP_NODELAY on every TCP transport; a stream made from a
// descriptor does too, whoever connected it.
TEST_P(stream_test, a_stream_made_from_an_fd_has_tcp_nodelay) {
    auto got = run([]() -> corio::task<std::vector<int>> {
        auto srv = co_await corio::start_server(echo, "127.0.0.1", 0);
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const corio::address to = *corio::address::parse("127.0.0.1", srv.port());
        std::vector<int> seen;
        if (::connect(fd, to.data(), to.size()) != 0) {
            ::close(fd);
            co_return seen;
        }
        int value = -1;
        socklen_t size = sizeof value;
        ::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &size);
        seen.push_back(value);  // the kernel's default: off
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        corio::stream s(fd, to);
        value = -1;
        ::getsockopt(s.native_handle(), IPPROTO_TCP, TCP_NODELAY, &value, &size);
        seen.push_back(value);
        co_await s.write_all("ping");
        seen.push_back(static_cast<int>((co_await s.read_exactly(4)).size()));
        co_await s.close();
        srv.close();
        co_await srv.wait_closed();
        co_return seen;
    }());
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0], 0);
    EXPECT_NE(got[1], 0);
    EXPECT_EQ(got[2], 4);
}

TEST_P(stream_test, incomplete_read_and_limit_overrun) {
    struct outcome {
        std::string partial;
        std::size_t expected = 0;
        std::size_t overrun_consumed = 0;
        std::string after_overrun;
    };
    outcome o = run([]() -> corio::task<outcome> {
        outcome o;
        auto srv = co_await corio::start_server(
            [](corio::stream s) -> corio::task<> {
                std::string what = co_await s.readline();
                if (what == "short\n") co_await s.write_all("12345");
                else co_await s.write_all(std::string(3000, 'z') + "\nnext\n");
            },
            "127.0.0.1", 0);
        {
            corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
            co_await s.write_all("short\n");
            try {
                co_await s.read_exactly(10);
            } catch (const corio::incomplete_read_error& e) {
                o.partial = e.partial();
                o.expected = e.expected();
            }
            co_await s.close();
        }
        {
            corio::connect_options small;
            small.limits.limit = 1000;
            corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port(), small);
            co_await s.write_all("long\n");
            try {
                co_await s.readline();
            } catch (const corio::limit_overrun_error& e) {
                o.overrun_consumed = e.consumed();
            }
            // The bytes stay buffered: they can still be read.
            std::string rest = co_await s.read_exactly(3000);
            o.after_overrun = co_await s.readline();
            o.after_overrun += rest.substr(0, 2);
            co_await s.close();
        }
        srv.close();
        co_await srv.wait_closed();
        co_return o;
    }());
    EXPECT_EQ(o.partial, "12345");
    EXPECT_EQ(o.expected, 10u);
    EXPECT_GE(o.overrun_consumed, 1000u);
    EXPECT_EQ(o.after_overrun, "\nzz");
}

TEST_P(stream_test, an_endless_line_costs_bounded_memory) {
    // The peer sends 64 MiB without a newline: readline stops at the limit.
    const std::size_t buffered = run([]() -> corio::task<std::size_t> {
        auto srv = co_await corio::start_server(
            [](corio::stream s) -> corio::task<> {
                std::string chunk(1 << 20, 'a');
                for (int i = 0; i < 64; ++i) co_await s.write_all(chunk);
            },
            "127.0.0.1", 0);
        std::size_t consumed = 0;
        co_await corio::with(corio::open_connection("127.0.0.1", srv.port()), [&](corio::stream& s) -> corio::task<> {
            try {
                co_await s.readline();
            } catch (const corio::limit_overrun_error& e) {
                consumed = e.consumed();
            }
        });
        srv.close();
        co_await srv.wait_closed();
        co_return consumed;
    }());
    EXPECT_GE(buffered, 64u * 1024);
    EXPECT_LE(buffered, 2u * 64 * 1024);  // the buffer never grew past twice the limit
}

TEST_P(stream_test, back_pressure_holds_a_writer_whose_peer_never_reads) {
    struct outcome {
        bool timed_out = false;
        std::size_t max_buffered = 0;
        std::size_t written = 0;
    };
    outcome o = run([]() -> corio::task<outcome> {
        outcome o;
        corio::event release;
        auto srv = co_await corio::start_server(
            [&release](corio::stream s) -> corio::task<> {
                co_await release.wait();
                co_await s.read_all();  // then everything held back arrives
            },
            "127.0.0.1", 0);
        corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
        std::string chunk(16 * 1024, 'w');
        try {
            co_await corio::with(corio::timeout(500ms), [&](auto&) -> corio::task<> {
                for (;;) {
                    co_await s.write_all(chunk);
                    o.written += chunk.size();
                    o.max_buffered = std::max(o.max_buffered, s.write_buffer_size());
                }
            });
        } catch (const corio::timeout_error&) {
            o.timed_out = true;
        }
        release.set();
        co_await s.close();
        srv.close();
        co_await srv.wait_closed();
        co_return o;
    }());
    EXPECT_TRUE(o.timed_out);
    EXPECT_LE(o.max_buffered, 64u * 1024 + 16 * 1024);  // high water + one chunk
    EXPECT_LT(o.written, 64u << 20);  // held: the kernel buffers are a few MiB at most
}

TEST_P(stream_test, cancelled_read_loses_nothing_and_the_stream_goes_on) {
    std::string got = run([]() -> corio::task<std::string> {
        // The server writes only once the client's read has timed out (an
        // event, not a sleep that a busy machine could let run out first).
        corio::event timed_out;
        auto srv = co_await corio::start_server(
            [&timed_out](corio::stream s) -> corio::task<> {
                co_await timed_out.wait();
                co_await s.write_all("late\n");
                co_await s.readline();
            },
            "127.0.0.1", 0);
        corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
        std::string out;
        try {
            co_await corio::wait_for(s.readline(), 50ms);
        } catch (const corio::timeout_error&) {
            out = "timeout;";
        }
        timed_out.set();
        out += co_await s.readline();
        co_await s.close();
        srv.close();
        co_await srv.wait_closed();
        co_return out;
    }());
    EXPECT_EQ(got, "timeout;late\n");
}

TEST_P(stream_test, cancelling_pending_connect_read_and_write_leaks_no_descriptor) {
    const int before = corio_net_test::open_fd_count();
    run([]() -> corio::task<> {
        corio::event release;
        auto srv = co_await corio::start_server(
            [&release](corio::stream) -> corio::task<> { co_await release.wait(); }, "127.0.0.1", 0);
        for (int i = 0; i < 50; ++i) {
            corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
            try {
                co_await corio::wait_for(s.read(10), std::chrono::milliseconds(1 + i % 3));
            } catch (const corio::timeout_error&) {
            }
            // A write that waits: the peer never reads.
            std::string big(8 << 20, 'b');
            try {
                co_await corio::wait_for(s.write_all(big), std::chrono::milliseconds(1 + i % 3));
            } catch (const corio::timeout_error&) {
            } catch (const std::system_error&) {
            }
            if (i % 2 == 0) {
                s.abort();  // the peer never reads: a graceful close would wait for ever
            } else {
                try {
                    co_await corio::wait_for(s.close(), 2ms);  // cancelled while flushing: aborts
                } catch (const corio::timeout_error&) {
                }
            }
            if (!s.is_closed()) throw std::logic_error("not closed");
        }
        release.set();
        srv.close();
        co_await srv.wait_closed();
    }());
    EXPECT_EQ(corio_net_test::open_fd_count(), before);
}

TEST_P(stream_test, close_from_another_task_ends_a_pending_read_with_eof) {
    std::string got = run([]() -> corio::task<std::string> {
        corio::event release;
        auto srv = co_await corio::start_server(
            [&release](corio::stream) -> corio::task<> { co_await release.wait(); }, "127.0.0.1", 0);
        corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
        auto reader = corio::spawn([&s]() -> corio::task<std::string> { co_return "read:" + co_await s.read(10); });
        co_await corio::sleep(20ms);
        co_await s.close();
        std::string out = co_await reader;
        release.set();
        srv.close();
        co_await srv.wait_closed();
        co_return out;
    }());
    EXPECT_EQ(got, "read:");
}

// abort() while a background flush runs and other tasks wait on the stream
// (drain, a read): they wake up to ECONNABORTED and EOF, the stream's state
// outlives them (ASan caught a use after free here), nothing leaks.
TEST_P(stream_test, abort_during_a_flush_wakes_waiters_with_an_error) {
    const int fds_before = corio_net_test::open_fd_count();
    auto got = run([]() -> corio::task<std::vector<std::string>> {
        corio::event release;
        auto never_reads = [&release](corio::stream) -> corio::task<> { co_await release.wait(); };
        auto srv = co_await corio::start_server(never_reads, "127.0.0.1", 0);
        std::vector<std::string> seen;
        {
            corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
            s.write(std::string(32 << 20, 'x'));  // far more than the socket buffers take
            auto drainer_body = [&s]() -> corio::task<std::string> {
                try {
                    co_await s.drain();
                } catch (const std::system_error& e) {
                    co_return "drain: " + std::to_string(e.code().value()) + " " + e.what();
                }
                co_return "drain: returned";
            };
            auto reader_body = [&s]() -> corio::task<std::string> { co_return "read:" + co_await s.read(10); };
            auto drainer = corio::spawn(drainer_body);
            auto reader = corio::spawn(reader_body);
            co_await corio::sleep(30ms);
            s.abort();
            seen.push_back(co_await drainer);
            seen.push_back(co_await reader);
            seen.push_back(s.is_closed() ? "closed" : "open");
            co_await s.close();  // harmless after abort
        }
        release.set();
        srv.close();
        co_await srv.wait_closed();
        co_return seen;
    }());
    ASSERT_EQ(got.size(), 3u);
    EXPECT_NE(got[0].find("drain: " + std::to_string(ECONNABORTED)), std::string::npos) << got[0];
    EXPECT_NE(got[0].find("aborted"), std::string::npos) << got[0];
    EXPECT_EQ(got[1], "read:");
    EXPECT_EQ(got[2], "closed");
    EXPECT_EQ(corio_net_test::open_fd_count(), fds_before);
}

TEST_P(stream_test, two_readers_at_once_is_a_logic_error) {
    bool logic = run([]() -> corio::task<bool> {
        corio::event release;
        auto srv = co_await corio::start_server(
            [&release](corio::stream) -> corio::task<> { co_await release.wait(); }, "127.0.0.1", 0);
        corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
        auto first = corio::spawn([&s]() -> corio::task<> { co_await s.read(10); });
        co_await corio::sleep(10ms);
        bool thrown = false;
        try {
            co_await s.read(10);
        } catch (const std::logic_error&) {
            thrown = true;
        }
        first.cancel();
        try {
            co_await first;
        } catch (const corio::cancelled_error&) {
        }
        co_await s.close();
        release.set();
        srv.close();
        co_await srv.wait_closed();
        co_return thrown;
    }());
    EXPECT_TRUE(logic);
}

TEST_P(stream_test, addresses_and_nodelay) {
    int accepted_nodelay = -1;
    auto text = run([](int& accepted_nodelay) -> corio::task<std::string> {
        // Accepted connections have TCP_NODELAY too, as asyncio's.
        auto handler = [&accepted_nodelay](corio::stream s) -> corio::task<> {
            int on = 0;
            socklen_t on_size = sizeof on;
            ::getsockopt(s.native_handle(), IPPROTO_TCP, TCP_NODELAY, &on, &on_size);
            accepted_nodelay = on;
            co_await echo(std::move(s));
        };
        auto srv = co_await corio::start_server(handler, "127.0.0.1", 0);
        corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
        co_await s.write_all("x");
        (void)co_await s.read_exactly(1);
        int nodelay = 0;
        socklen_t size = sizeof nodelay;
        ::getsockopt(s.native_handle(), IPPROTO_TCP, TCP_NODELAY, &nodelay, &size);
        s.set_nodelay(false);
        int after = 1;
        ::getsockopt(s.native_handle(), IPPROTO_TCP, TCP_NODELAY, &after, &size);
        std::string out = s.peer_address().to_string() + " " + s.local_address().host() + " " +
                          std::to_string(nodelay) + std::to_string(after) + " " +
                          std::to_string(srv.addresses().size());
        co_await s.close();
        srv.close();
        co_await srv.wait_closed();
        co_return out;
    }(accepted_nodelay));
    EXPECT_NE(text.find("127.0.0.1:"), std::string::npos) << text;
    EXPECT_NE(text.find(" 127.0.0.1 10 1"), std::string::npos) << text;
    EXPECT_EQ(accepted_nodelay, 1);
}

TEST_P(stream_test, ipv6_loopback) {
    std::string got = run([]() -> corio::task<std::string> {
        auto srv = co_await corio::start_server(echo, "::1", 0);
        corio::stream s = co_await corio::open_connection("::1", srv.port());
        co_await s.write_all("six\n");
        std::string line = co_await s.readline();
        std::string peer = s.peer_address().to_string();
        co_await s.close();
        srv.close();
        co_await srv.wait_closed();
        co_return line + peer.substr(0, 5);
    }());
    EXPECT_EQ(got, "six\n[::1]");
}

TEST_P(stream_test, a_hundred_thousand_connect_close_cycles_leak_nothing) {
    const int before = corio_net_test::open_fd_count();
    const int cycles = run([]() -> corio::task<int> {
        auto srv = co_await corio::start_server([](corio::stream) -> corio::task<> { co_return; }, "127.0.0.1", 0);
        int done = 0;
        for (int i = 0; i < 100000; ++i) {
            corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
            // An abortive close: 100 000 TIME_WAIT sockets would exhaust the
            // loopback's ephemeral ports, which is not what is tested here.
            const linger hard{1, 0};
            ::setsockopt(s.native_handle(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
            co_await s.close();
            ++done;
        }
        srv.close();
        co_await srv.wait_closed();
        co_return done;
    }());
    EXPECT_EQ(cycles, 100000);
    EXPECT_EQ(corio_net_test::open_fd_count(), before);
}

}  // namespace
