// TLS on both backends: corio against OpenSSL's own s_server and s_client in
// both directions, with certificates the test makes (tls_certificates.hpp);
// verification failures (wrong host name, expired, unknown CA) naming the
// host and the reason; close_notify; ALPN; start_tls; handshake timeouts,
// failures and cancellation on a server that keeps serving; misuse.
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <corio/corio.hpp>

#include "net_test_support.hpp"
#include "tls_certificates.hpp"

using namespace std::chrono_literals;
using corio_net_test::backend_test;
using corio_net_test::child_process;

namespace {

const char* const openssl = "/usr/bin/openssl";

class tls_test : public backend_test {
protected:
    static void SetUpTestSuite() { certs_ = new corio_net_test::test_certificates(); }
    static void TearDownTestSuite() {
        delete certs_;
        certs_ = nullptr;
    }
    void SetUp() override {
        backend_test::SetUp();
        if (!corio_net_test::have_program(openssl)) GTEST_SKIP() << "openssl is not installed";
    }
    static const corio_net_test::test_certificates& certs() { return *certs_; }

    corio::tls_context trusting_client() const {
        return corio::tls_context::client().load_verify_file(certs().ca.cert);
    }
    corio::tls_context server_context() const {
        return corio::tls_context::server(certs().server.cert, certs().server.key);
    }

    // openssl s_server on a free port with `pair`; `extra` options after.
    std::unique_ptr<child_process> s_server(const corio_net_test::pem_pair& pair, std::uint16_t& port,
                                            std::vector<std::string> extra = {"-rev"}) {
        port = corio_net_test::free_port();
        std::vector<std::string> argv{openssl, "s_server", "-accept", "127.0.0.1:" + std::to_string(port),
                                      "-cert", pair.cert, "-key", pair.key};
        argv.insert(argv.end(), extra.begin(), extra.end());
        auto child = std::make_unique<child_process>(std::move(argv));
        if (!corio_net_test::wait_for_port(port)) throw std::runtime_error("openssl s_server did not start");
        return child;
    }

private:
    static inline corio_net_test::test_certificates* certs_ = nullptr;
};
CORIO_NET_ON_BOTH_BACKENDS(tls_test);

// The message of the tls_error `f` throws; "" if it throws none.
template <class F>
corio::task<std::string> tls_error_of(F f) {
    try {
        co_await f();
    } catch (const corio::tls_error& e) {
        co_return std::string(e.what());
    }
    co_return std::string();
}

corio::task<> echo(corio::stream s) {
    for (;;) {
        std::string data = co_await s.read(65536);
        if (data.empty()) co_return;
        co_await s.write_all(data);
    }
}

// ------------------------------------------------------- corio against s_server

TEST_P(tls_test, client_verifies_and_talks_to_openssl_s_server) {
    std::uint16_t port = 0;
    auto server = s_server(certs().server, port);
    struct result {
        std::string reply, version;
        bool tls = false;
    };
    auto got = run([](corio::tls_context ctx, std::uint16_t port) -> corio::task<result> {
        result r;
        corio::connect_options options;
        options.tls = ctx;
        // By name: SNI and the DNS entry of the certificate.
        co_await corio::with(corio::open_connection("localhost", port, options),
                             [&](corio::stream& s) -> corio::task<> {
                                 co_await s.write_all("hello tls\n");
                                 r.reply = co_await s.readline();
                                 r.version = s.tls_version();
                                 r.tls = s.is_tls();
                             });
        co_return r;
    }(trusting_client(), port));
    EXPECT_EQ(got.reply, "slt olleh\n");  // s_server -rev reverses each line
    EXPECT_EQ(got.version, "TLSv1.3");
    EXPECT_TRUE(got.tls);
}

TEST_P(tls_test, client_verifies_an_address_literal_against_ip_entries) {
    std::uint16_t port = 0;
    auto server = s_server(certs().server, port);
    std::string reply = run([](corio::tls_context ctx, std::uint16_t port) -> corio::task<std::string> {
        corio::connect_options options;
        options.tls = ctx;
        auto s = co_await corio::open_connection("127.0.0.1", port, options);
        co_await s.write_all("abc\n");
        std::string line = co_await s.readline();
        co_await s.close();
        co_return line;
    }(trusting_client(), port));
    EXPECT_EQ(reply, "cba\n");
}

TEST_P(tls_test, wrong_host_name_is_a_tls_error_naming_host_and_reason) {
    std::uint16_t port = 0;
    auto server = s_server(certs().server, port);
    const int fds_before = corio_net_test::open_fd_count();
    std::string what = run([](corio::tls_context ctx, std::uint16_t port) -> corio::task<std::string> {
        corio::connect_options options;
        options.tls = ctx;
        options.server_hostname = "wrong.example";
        co_return co_await tls_error_of([&]() -> corio::task<> {
            auto s = co_await corio::open_connection("127.0.0.1", port, options);
        });
    }(trusting_client(), port));
    EXPECT_NE(what.find("wrong.example"), std::string::npos) << what;
    EXPECT_NE(what.find("certificate verify failed"), std::string::npos) << what;
    EXPECT_NE(what.find("hostname mismatch"), std::string::npos) << what;
    EXPECT_EQ(corio_net_test::open_fd_count(), fds_before);
}

TEST_P(tls_test, expired_certificate_is_a_tls_error) {
    std::uint16_t port = 0;
    auto server = s_server(certs().expired, port);
    std::string what = run([](corio::tls_context ctx, std::uint16_t port) -> corio::task<std::string> {
        corio::connect_options options;
        options.tls = ctx;
        co_return co_await tls_error_of([&]() -> corio::task<> {
            auto s = co_await corio::open_connection("localhost", port, options);
        });
    }(trusting_client(), port));
    EXPECT_NE(what.find("localhost"), std::string::npos) << what;
    EXPECT_NE(what.find("certificate has expired"), std::string::npos) << what;
}

TEST_P(tls_test, unknown_ca_is_a_tls_error_with_the_default_client_context) {
    std::uint16_t port = 0;
    auto server = s_server(certs().unknown_ca, port);
    // tls_context::client() trusts the system's CAs only.
    std::string what = run([](std::uint16_t port) -> corio::task<std::string> {
        corio::connect_options options;
        options.tls = corio::tls_context::client();
        co_return co_await tls_error_of([&]() -> corio::task<> {
            auto s = co_await corio::open_connection("localhost", port, options);
        });
    }(port));
    EXPECT_NE(what.find("localhost"), std::string::npos) << what;
    EXPECT_NE(what.find("unable to get local issuer certificate"), std::string::npos) << what;

    // And trusting our CA does not make a stranger's certificate good.
    std::string again = run([](corio::tls_context ctx, std::uint16_t port) -> corio::task<std::string> {
        corio::connect_options options;
        options.tls = ctx;
        co_return co_await tls_error_of([&]() -> corio::task<> {
            auto s = co_await corio::open_connection("localhost", port, options);
        });
    }(trusting_client(), port));
    EXPECT_NE(again.find("certificate verify failed"), std::string::npos) << again;
}

// ------------------------------------------------------- s_client against corio

corio::task<> upper_case_lines(corio::stream& s) {
    for (;;) {
        std::string line = co_await s.readline();
        if (line.empty()) co_return;
        for (char& c : line) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        co_await s.write_all(line);
    }
}

TEST_P(tls_test, openssl_s_client_verifies_and_talks_to_our_server) {
    const std::string ca = certs().ca.cert;
    std::string out = run([](corio::tls_context ctx, std::string ca) -> corio::task<std::string> {
        corio::server_options options;
        options.tls = ctx;
        auto srv = co_await corio::start_server(upper_case_lines, "127.0.0.1", 0, options);
        const std::uint16_t port = srv.port();
        // s_client blocks: it runs on a thread while the loop serves it (the
        // lambda is named first: g++ 12 destroys by-value captures of a
        // lambda written inside co_await twice).
        auto talk = [port, ca] {
            child_process client({openssl, "s_client", "-connect", "127.0.0.1:" + std::to_string(port), "-CAfile",
                                  ca, "-verify_return_error", "-servername", "localhost", "-verify_hostname",
                                  "localhost", "-quiet"});
            client.feed("ping\n", false);
            std::string seen = client.read_until("PING\n");
            client.stop();
            return seen;
        };
        std::string printed = co_await corio::to_thread(std::move(talk));
        srv.close();
        co_await srv.wait_closed();
        co_return printed;
    }(server_context(), ca));
    EXPECT_NE(out.find("PING\n"), std::string::npos) << out;
}

// s_client prints "closed" when the server's close_notify arrives, and an
// error when the connection just ends.
std::string s_client_after_server_ends(corio::backend_kind backend, corio::tls_context ctx, std::string ca,
                                       bool graceful) {
    return corio_net_test::run_on(backend, [](corio::tls_context ctx, std::string ca,
                                              bool graceful) -> corio::task<std::string> {
        corio::server_options options;
        options.tls = ctx;
        auto handler = [graceful](corio::stream s) -> corio::task<> {
            co_await s.write_all("bye\n");
            if (graceful)
                co_await s.close();
            else
                s.abort();
        };
        auto srv = co_await corio::start_server(handler, "127.0.0.1", 0, options);
        const std::uint16_t port = srv.port();
        auto talk = [port, ca] {
            child_process client({openssl, "s_client", "-connect", "127.0.0.1:" + std::to_string(port), "-CAfile",
                                  ca, "-verify_return_error", "-ign_eof"});
            std::string seen = client.read_all(10s);  // until s_client exits
            client.stop();
            return seen;
        };
        std::string printed = co_await corio::to_thread(std::move(talk));
        srv.close();
        co_await srv.wait_closed();
        co_return printed;
    }(std::move(ctx), std::move(ca), graceful));
}

TEST_P(tls_test, close_sends_close_notify_and_abort_does_not) {
    const std::string graceful = s_client_after_server_ends(GetParam(), server_context(), certs().ca.cert, true);
    EXPECT_NE(graceful.find("bye\n"), std::string::npos) << graceful;
    EXPECT_NE(graceful.find("\nclosed\n"), std::string::npos) << graceful;
    const std::string aborted = s_client_after_server_ends(GetParam(), server_context(), certs().ca.cert, false);
    EXPECT_EQ(aborted.find("\nclosed\n"), std::string::npos) << aborted;
}

// ------------------------------------------------------- corio against corio

TEST_P(tls_test, echo_of_a_megabyte_each_way_and_alpn) {
    struct result {
        std::string alpn_client, alpn_server, version;
        std::size_t echoed = 0;
        bool same = false;
    };
    auto got = run([](corio::tls_context server_ctx, corio::tls_context client_ctx) -> corio::task<result> {
        result r;
        server_ctx.set_alpn({"h2", "http/1.1"});
        client_ctx.set_alpn({"spdy/1", "http/1.1"});
        std::string server_alpn;
        auto handler = [&server_alpn](corio::stream s) -> corio::task<> {
            server_alpn = s.alpn_protocol();
            co_await echo(std::move(s));
        };
        corio::server_options options;
        options.tls = server_ctx;
        auto srv = co_await corio::start_server(handler, "127.0.0.1", 0, options);
        corio::connect_options copts;
        copts.tls = client_ctx;
        co_await corio::with(
            corio::open_connection("localhost", srv.port(), copts), [&](corio::stream& s) -> corio::task<> {
                r.alpn_client = s.alpn_protocol();
                r.version = s.tls_version();
                std::string data(1 << 20, '\0');
                for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + (i >> 11));
                // The writer and the reader run at once: neither side's
                // buffer has to hold the whole megabyte.
                std::string back;
                auto writer = [&s, &data]() -> corio::task<> {
                    for (std::size_t at = 0; at < data.size(); at += 10000)
                        co_await s.write_all(std::string_view(data).substr(at, 10000));
                };
                auto reader = [&s, &back, &data]() -> corio::task<> {
                    back = co_await s.read_exactly(data.size());
                };
                co_await corio::gather(writer(), reader());
                r.echoed = back.size();
                r.same = back == data;
            });
        r.alpn_server = server_alpn;
        srv.close();
        co_await srv.wait_closed();
        co_return r;
    }(server_context(), trusting_client()));
    EXPECT_EQ(got.alpn_client, "http/1.1");
    EXPECT_EQ(got.alpn_server, "http/1.1");
    EXPECT_EQ(got.version, "TLSv1.3");
    EXPECT_EQ(got.echoed, 1u << 20);
    EXPECT_TRUE(got.same);
}

TEST_P(tls_test, start_tls_upgrades_a_plain_stream_in_both_roles) {
    auto got = run([](corio::tls_context server_ctx, corio::tls_context client_ctx)
                       -> corio::task<std::vector<std::string>> {
        std::vector<std::string> seen;
        auto handler = [server_ctx](corio::stream& s) -> corio::task<> {
            std::string hello = co_await s.readline();
            if (hello != "STARTTLS\n") co_return;
            s.write("OK\n");  // buffered plain text goes out before the handshake
            co_await s.start_tls(server_ctx);
            co_await upper_case_lines(s);
        };
        auto srv = co_await corio::start_server(handler, "127.0.0.1", 0);
        co_await corio::with(corio::open_connection("127.0.0.1", srv.port()), [&](corio::stream& s) -> corio::task<> {
            co_await s.write_all("STARTTLS\n");
            seen.push_back(co_await s.readline());
            seen.push_back(s.is_tls() ? "tls" : "plain");
            co_await s.start_tls(client_ctx, "localhost");
            seen.push_back(s.is_tls() ? "tls" : "plain");
            co_await s.write_all("secret\n");
            seen.push_back(co_await s.readline());
        });
        srv.close();
        co_await srv.wait_closed();
        co_return seen;
    }(server_context(), trusting_client()));
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[0], "OK\n");
    EXPECT_EQ(got[1], "plain");
    EXPECT_EQ(got[2], "tls");
    EXPECT_EQ(got[3], "SECRET\n");
}

TEST_P(tls_test, peer_closing_without_close_notify_reads_as_eof) {
    auto got = run([](corio::tls_context server_ctx, corio::tls_context client_ctx) -> corio::task<std::string> {
        auto handler = [](corio::stream s) -> corio::task<> {
            co_await s.write_all("last words\n");
            s.abort();
        };
        corio::server_options options;
        options.tls = server_ctx;
        auto srv = co_await corio::start_server(handler, "127.0.0.1", 0, options);
        corio::connect_options copts;
        copts.tls = client_ctx;
        auto s = co_await corio::open_connection("localhost", srv.port(), copts);
        std::string all = co_await s.read_all();
        all += s.at_eof() ? "<eof>" : "<more>";
        co_await s.close();
        srv.close();
        co_await srv.wait_closed();
        co_return all;
    }(server_context(), trusting_client()));
    EXPECT_EQ(got, "last words\n<eof>");
}

TEST_P(tls_test, server_survives_failed_and_silent_handshakes) {
    const int fds_before = corio_net_test::open_fd_count();
    auto got = run([](corio::tls_context server_ctx, corio::tls_context client_ctx) -> corio::task<std::vector<std::string>> {
        std::vector<std::string> seen;
        int handled = 0;
        auto handler = [&handled](corio::stream& s) -> corio::task<> {
            ++handled;
            co_await upper_case_lines(s);
        };
        corio::server_options options;
        options.tls = server_ctx;
        options.tls_handshake_timeout = 300ms;
        auto srv = co_await corio::start_server(handler, "127.0.0.1", 0, options);
        const std::uint16_t port = srv.port();

        // Plain text to a TLS server: the handshake fails, the connection is closed.
        auto plain = co_await corio::open_connection("127.0.0.1", port);
        co_await plain.write_all("GET / HTTP/1.0\r\n\r\n");
        std::string answer = co_await plain.read_all();
        seen.push_back(answer.size() < 100 ? "closed" : "answered");
        co_await plain.close();

        // Silent (slowloris): closed after tls_handshake_timeout.
        const auto start = std::chrono::steady_clock::now();
        auto silent = co_await corio::open_connection("127.0.0.1", port);
        std::string nothing = co_await silent.read_all();
        const auto waited = std::chrono::steady_clock::now() - start;
        seen.push_back(nothing.empty() && waited >= 250ms && waited < 5s ? "timed out" : "not timed out");
        co_await silent.close();

        // A client that does not trust the server: its alert ends it.
        corio::connect_options distrust;
        distrust.tls = corio::tls_context::client();
        std::string refused = co_await tls_error_of([&]() -> corio::task<> {
            auto s = co_await corio::open_connection("localhost", port, distrust);
        });
        seen.push_back(refused.empty() ? "no error" : "tls_error");

        // The server still serves a good client, and called the handler for it alone.
        corio::connect_options trust;
        trust.tls = client_ctx;
        auto good = co_await corio::open_connection("localhost", port, trust);
        co_await good.write_all("still here\n");
        seen.push_back(co_await good.readline());
        co_await good.close();
        seen.push_back("handled " + std::to_string(handled));
        srv.close();
        co_await srv.wait_closed();
        co_return seen;
    }(server_context(), trusting_client()));
    ASSERT_EQ(got.size(), 5u);
    EXPECT_EQ(got[0], "closed");
    EXPECT_EQ(got[1], "timed out");
    EXPECT_EQ(got[2], "tls_error");
    EXPECT_EQ(got[3], "STILL HERE\n");
    EXPECT_EQ(got[4], "handled 1");
    EXPECT_EQ(corio_net_test::open_fd_count(), fds_before);
}

TEST_P(tls_test, client_handshake_timeout_and_cancellation_leak_nothing) {
    const int fds_before = corio_net_test::open_fd_count();
    auto got = run([](corio::tls_context client_ctx) -> corio::task<std::vector<std::string>> {
        std::vector<std::string> seen;
        // A plain server that never answers the ClientHello.
        auto mute = [](corio::stream& s) -> corio::task<> { (void)co_await s.read_all(); };
        auto srv = co_await corio::start_server(mute, "127.0.0.1", 0);
        corio::connect_options options;
        options.tls = client_ctx;
        options.tls_handshake_timeout = 200ms;
        seen.push_back(co_await tls_error_of([&]() -> corio::task<> {
            auto s = co_await corio::open_connection("localhost", srv.port(), options);
        }));
        // Cancelled from outside while the handshake waits.
        options.tls_handshake_timeout = 60s;
        bool cancelled = false;
        try {
            co_await corio::wait_for(corio::open_connection("localhost", srv.port(), options), 100ms);
        } catch (const corio::timeout_error&) {
            cancelled = true;
        }
        seen.push_back(cancelled ? "cancelled" : "not cancelled");
        srv.close();
        co_await srv.wait_closed();
        co_return seen;
    }(trusting_client()));
    ASSERT_EQ(got.size(), 2u);
    EXPECT_NE(got[0].find("not done within 200 ms"), std::string::npos) << got[0];
    EXPECT_NE(got[0].find("localhost"), std::string::npos) << got[0];
    EXPECT_EQ(got[1], "cancelled");
    EXPECT_EQ(corio_net_test::open_fd_count(), fds_before);
}

// ------------------------------------------------------- misuse

TEST_P(tls_test, misuse_gets_clear_errors) {
    EXPECT_THROW(
        {
            try {
                corio::tls_context::server("/nonexistent/cert.pem", certs().server.key);
            } catch (const corio::tls_error& e) {
                EXPECT_NE(std::string(e.what()).find("/nonexistent/cert.pem"), std::string::npos) << e.what();
                throw;
            }
        },
        corio::tls_error);
    EXPECT_THROW(
        {
            try {
                corio::tls_context::server(certs().unknown_ca.cert, certs().ca.key);  // key of another certificate
            } catch (const corio::tls_error& e) {
                EXPECT_NE(std::string(e.what()).find("does not match"), std::string::npos) << e.what();
                throw;
            }
        },
        corio::tls_error);
    EXPECT_THROW(corio::tls_context::client().load_verify_file("/nonexistent/ca.pem"), corio::tls_error);
    EXPECT_THROW(corio::tls_context::client().set_alpn({"h2", ""}), std::invalid_argument);
    EXPECT_THROW(corio::tls_context::client().set_alpn({std::string(256, 'x')}), std::invalid_argument);

    auto errors = run([](corio::tls_context server_ctx, corio::tls_context client_ctx) -> corio::task<std::vector<std::string>> {
        std::vector<std::string> seen;
        corio::server_options wrong_server;
        wrong_server.tls = client_ctx;
        try {
            auto srv = co_await corio::start_server(echo, "127.0.0.1", 0, wrong_server);
        } catch (const std::invalid_argument& e) {
            seen.push_back(e.what());
        }
        auto srv = co_await corio::start_server(echo, "127.0.0.1", 0);
        corio::connect_options wrong_client;
        wrong_client.tls = server_ctx;
        try {
            auto s = co_await corio::open_connection("127.0.0.1", srv.port(), wrong_client);
        } catch (const std::invalid_argument& e) {
            seen.push_back(e.what());
        }
        // start_tls over a closed stream: a failed handshake, as every other
        // way a handshake fails
        auto s = co_await corio::open_connection("127.0.0.1", srv.port());
        const std::string peer = s.peer_address().to_string();
        s.abort();
        try {
            co_await s.start_tls(client_ctx, "localhost");
        } catch (const corio::tls_error& e) {
            seen.push_back(std::string(e.what()) + " | " + peer);
        }
        srv.close();
        co_await srv.wait_closed();
        co_return seen;
    }(server_context(), trusting_client()));
    ASSERT_EQ(errors.size(), 3u);
    EXPECT_NE(errors[0].find("client context"), std::string::npos) << errors[0];
    EXPECT_NE(errors[1].find("server context"), std::string::npos) << errors[1];
    const std::string peer = errors[2].substr(errors[2].find(" | ") + 3);
    EXPECT_EQ(errors[2], "stream::start_tls with " + peer + ": the stream is closed | " + peer);
}

TEST_P(tls_test, unix_socket_tls_needs_a_host_name) {
    const std::string path = certs().dir() + "/tls.sock";
    auto got = run([](corio::tls_context server_ctx, corio::tls_context client_ctx,
                      std::string path) -> corio::task<std::vector<std::string>> {
        std::vector<std::string> seen;
        corio::server_options options;
        options.tls = server_ctx;
        auto srv = co_await corio::start_unix_server(upper_case_lines, path, options);
        corio::connect_options copts;
        copts.tls = client_ctx;
        try {
            auto s = co_await corio::open_unix_connection(path, copts);
        } catch (const std::invalid_argument& e) {
            seen.push_back(e.what());
        }
        copts.server_hostname = "localhost";
        auto s = co_await corio::open_unix_connection(path, copts);
        co_await s.write_all("over unix\n");
        seen.push_back(co_await s.readline());
        co_await s.close();
        srv.close();
        co_await srv.wait_closed();
        co_return seen;
    }(server_context(), trusting_client(), path));
    ASSERT_EQ(got.size(), 2u);
    EXPECT_NE(got[0].find("host name"), std::string::npos) << got[0];
    EXPECT_EQ(got[1], "OVER UNIX\n");
}

}  // namespace
