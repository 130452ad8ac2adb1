// corio::pg over TLS (libpq's sslmode; the test server's certificate is
// signed by a CA that scripts/servers/postgres.sh makes): require,
// verify-full against that CA, a CA that did not sign it, disable, and
// pipelined queries and a large result through TLS records (data libpq has
// decrypted ahead of the socket's readiness must not stall the reader); and
// connect_options::tls, corio's own tls_context: its CAs trusted, the
// system's alone refused, the host name checked, a server context or a
// weaker sslmode refused as misuse, no file left behind.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <corio/corio.hpp>
#include <corio/pg.hpp>

#include "pg_server.hpp"

namespace pg = corio::pg;
namespace t = corio_pg_test;

namespace {

pg::connect_options tls(const std::string& mode, const std::string& rootcert) {
    pg::connect_options o;
    o.dsn = "host=127.0.0.1 port=" + std::to_string(t::port()) + " user=" + t::user() + " password=" + t::password() +
            " dbname=" + t::database() + (rootcert.empty() ? "" : " sslrootcert=" + rootcert);
    o.sslmode = mode;
    return o;
}

corio::task<bool> uses_tls(pg::connection& c) {
    co_return co_await c.fetchval<bool>("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
}

TEST(pg_tls, require_and_verify_full_use_tls_and_disable_does_not) {
    const std::string ca = t::server_env().at("CORIO_PG_SSL_CA");
    auto body = [ca]() -> corio::task<> {
        pg::connection a = co_await pg::connect(tls("require", ""));
        EXPECT_TRUE(co_await uses_tls(a));
        co_await a.close();
        pg::connection b = co_await pg::connect(tls("verify-full", ca));
        EXPECT_TRUE(co_await uses_tls(b));
        co_await b.close();
        pg::connection c = co_await pg::connect(tls("disable", ""));
        EXPECT_FALSE(co_await uses_tls(c));
        co_await c.close();
    };
    corio::run(body());
}

TEST(pg_tls, a_certificate_from_another_ca_is_refused) {
    auto body = []() -> corio::task<std::string> {
        try {
            // The system's CAs did not sign the test server's certificate.
            pg::connection c = co_await pg::connect(tls("verify-full", "/etc/ssl/certs/ca-certificates.crt"));
        } catch (const pg::connection_error& e) {
            co_return e.what();
        }
        co_return "";
    };
    const std::string what = corio::run(body());
    EXPECT_NE(what.find("pg::connect 127.0.0.1:" + std::to_string(t::port())), std::string::npos) << what;
    EXPECT_NE(what.find("certificate verify failed"), std::string::npos) << what;
    EXPECT_EQ(what.find(t::password()), std::string::npos) << what;
}

TEST(pg_tls, pipelined_queries_and_a_large_result_over_tls) {
    const std::string ca = t::server_env().at("CORIO_PG_SSL_CA");
    auto body = [ca]() -> corio::task<> {
        pg::connection c = co_await pg::connect(tls("verify-full", ca));
        auto one = [&c](int i) -> corio::task<int> { co_return co_await c.fetchval<int>("SELECT $1::int + 1", i); };
        std::vector<corio::task<int>> many;
        for (int i = 0; i < 300; ++i) many.push_back(one(i));
        auto got = co_await corio::gather(std::move(many));
        for (int i = 0; i < 300; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i + 1);
        // About 4 MB in many TLS records.
        auto rows = co_await c.fetch("SELECT g, repeat('x', 400) FROM generate_series(1, 10000) g");
        EXPECT_EQ(rows.size(), 10000u);
        if (!rows.empty()) {
            EXPECT_EQ(rows.back().get<int>(0), 10000);
            EXPECT_EQ(rows.back().get<std::string>(1).size(), 400u);
        }
        const std::string big = co_await c.fetchval<std::string>("SELECT repeat('y', 3000000)");
        EXPECT_EQ(big.size(), 3000000u);
        co_await c.close();
    };
    corio::run(body());
}

pg::connect_options with_context(corio::tls_context ctx, const std::string& host_name = "") {
    pg::connect_options o;
    o.dsn = "hostaddr=127.0.0.1 port=" + std::to_string(t::port()) + " user=" + t::user() +
            " password=" + t::password() + " dbname=" + t::database();
    o.host = host_name.empty() ? "127.0.0.1" : host_name;
    o.tls = std::move(ctx);
    return o;
}

std::string connect_error(pg::connect_options o) {
    auto body = [](pg::connect_options opts) -> corio::task<std::string> {
        try {
            pg::connection c = co_await pg::connect(std::move(opts));
            co_await c.close();
        } catch (const pg::connection_error& e) {
            co_return std::string("connection_error: ") + e.what();
        } catch (const pg::interface_error& e) {
            co_return std::string("interface_error: ") + e.what();
        }
        co_return "";
    };
    return corio::run(body(std::move(o)));
}

TEST(pg_tls, a_corio_tls_context_verifies_the_server) {
    const std::string ca = t::server_env().at("CORIO_PG_SSL_CA");
    // No file is written for libpq: the CAs go through a memory file.
    const auto tmp = std::filesystem::temp_directory_path() / ("corio-pg-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(tmp);
    ::setenv("TMPDIR", tmp.c_str(), 1);
    auto body = [ca]() -> corio::task<> {
        auto ctx = corio::tls_context::client();
        ctx.load_verify_file(ca);
        pg::connection c = co_await pg::connect(with_context(ctx));
        EXPECT_TRUE(co_await uses_tls(c));
        EXPECT_EQ(co_await c.fetchval<int>("SELECT 41 + 1"), 42);
        co_await c.close();
        // The pool takes it through its connect options.
        pg::pool_options po;
        po.connect = with_context(ctx);
        po.min_size = 2;
        po.max_size = 2;
        pg::pool p = co_await pg::create_pool(po);
        EXPECT_EQ(co_await p.fetchval<bool>("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), true);
        co_await p.close();
    };
    corio::run(body());
    ::unsetenv("TMPDIR");
    EXPECT_TRUE(std::filesystem::is_empty(tmp));
    std::filesystem::remove_all(tmp);
}

TEST(pg_tls, a_corio_tls_context_refuses_what_it_does_not_trust_and_misuse) {
    const std::string ca = t::server_env().at("CORIO_PG_SSL_CA");
    // The system's CAs alone did not sign the test server's certificate.
    std::string what = connect_error(with_context(corio::tls_context::client()));
    EXPECT_NE(what.find("connection_error: pg::connect"), std::string::npos) << what;
    EXPECT_NE(what.find("certificate verify failed"), std::string::npos) << what;
    EXPECT_EQ(what.find(t::password()), std::string::npos) << what;
    // Trusted CA, wrong name: the host name is checked.
    auto trusted = corio::tls_context::client();
    trusted.load_verify_file(ca);
    what = connect_error(with_context(trusted, "wrong.example"));
    EXPECT_NE(what.find("connection_error: pg::connect"), std::string::npos) << what;
    EXPECT_NE(what.find("wrong.example"), std::string::npos) << what;
    // Misuse: a weaker sslmode with a context, or a server context.
    auto weaker = with_context(trusted);
    weaker.sslmode = "require";
    what = connect_error(weaker);
    EXPECT_NE(what.find("interface_error: pg::connect"), std::string::npos) << what;
    EXPECT_NE(what.find("'require'"), std::string::npos) << what;
    const std::string ssl = std::filesystem::path(ca).parent_path().string();
    what = connect_error(with_context(corio::tls_context::server(ssl + "/server.crt", ssl + "/server.key")));
    EXPECT_NE(what.find("interface_error: pg::connect: tls must be a client tls_context"), std::string::npos) << what;
}

}  // namespace
