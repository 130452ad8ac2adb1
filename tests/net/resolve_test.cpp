// corio::resolve: literal addresses (which never reach c-ares), services,
// arguments that cannot be right, /etc/hosts, a real DNS conversation with a
// dnsmasq the test starts (A and AAAA answers, family filters, NXDOMAIN, no
// data, a refusal, 200 lookups at once), and a name server that never
// answers (options.timeout, resolv.conf's timeout and attempts through
// RES_OPTIONS, cancellation; no descriptor left behind). Every test runs on
// the epoll and the io_uring backend.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ares.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "resolver_probe.hpp"
#include <corio/errors.hpp>
#include <corio/tasks/gather.hpp>
#include <corio/net/address.hpp>
#include <corio/net/resolve.hpp>
#include <corio/net/server.hpp>
#include <corio/net/stream.hpp>
#include <corio/run.hpp>
#include <corio/runtime/run_options.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/task.hpp>
#include <corio/time/sleep.hpp>
#include <corio/time/timeout.hpp>
#include <corio/context/with.hpp>

#include "../support/backends.hpp"
#include "../support/scoped_env.hpp"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using addresses = std::vector<corio::address>;

using corio_test::io_uring_allowed;
using corio_test::open_fd_count;
using corio_test::run_on;

corio::address ip(const char* host, std::uint16_t port) {
    std::optional<corio::address> a = corio::address::parse(host, port);
    if (!a) throw std::invalid_argument(std::string("not an IP address: ") + host);
    return *a;
}

bool contains(const addresses& list, const corio::address& a) {
    return std::find(list.begin(), list.end(), a) != list.end();
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// How a resolve ended, for assertions outside the coroutine.
struct outcome {
    addresses found;
    std::string kind = "ok";  // ok, system_error, timeout_error, invalid_argument, cancelled, other
    std::string what;
    int code = 0;
    const std::error_category* category = nullptr;
    clock_type::duration elapsed{};
};

std::ostream& operator<<(std::ostream& os, const outcome& o) {
    os << o.kind;
    if (!o.what.empty()) os << " (" << o.what << ")";
    for (const corio::address& a : o.found) os << ' ' << a;
    return os;
}

corio::task<outcome> attempt(corio::task<addresses> lookup) {
    outcome o;
    const clock_type::time_point start = clock_type::now();
    try {
        o.found = co_await std::move(lookup);
    } catch (const corio::cancelled_error&) {
        o.kind = "cancelled";
    } catch (const std::system_error& e) {
        o.kind = "system_error";
        o.what = e.what();
        o.code = e.code().value();
        o.category = &e.code().category();
    } catch (const corio::timeout_error& e) {
        o.kind = "timeout_error";
        o.what = e.what();
    } catch (const std::invalid_argument& e) {
        o.kind = "invalid_argument";
        o.what = e.what();
    } catch (const std::exception& e) {
        o.kind = "other";
        o.what = e.what();
    }
    o.elapsed = clock_type::now() - start;
    co_return o;
}

corio::resolve_options with_family(int family, std::vector<corio::address> servers = {},
                                   std::chrono::milliseconds timeout = 10s) {
    corio::resolve_options options;
    options.family = family;
    options.servers = std::move(servers);
    // A bound, so that a broken resolver fails the test rather than hanging it.
    options.timeout = timeout;
    return options;
}

// A UDP socket on 127.0.0.1 that nobody reads: a name server that never answers.
class silent_server {
public:
    silent_server() {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof sa;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &size) != 0) {
            const int e = errno;
            ::close(fd_);
            throw std::system_error(e, std::generic_category(), "bind");
        }
        address_ = corio::address(reinterpret_cast<sockaddr*>(&sa), size);
    }
    ~silent_server() { ::close(fd_); }
    silent_server(const silent_server&) = delete;
    silent_server& operator=(const silent_server&) = delete;
    const corio::address& address() const noexcept { return address_; }

private:
    int fd_ = -1;
    corio::address address_;
};

constexpr const char* dnsmasq_path = "/usr/sbin/dnsmasq";

// A dnsmasq on 127.0.0.1 that knows only the names the tests ask for:
//   corio-test.example (and below it)  A 10.1.2.3, AAAA fd00::7
//   v4only.corio-v4.example             A 10.9.8.7 only (AAAA: no data, the
//                                       domain being local)
//   anything under corio-nx.example     NXDOMAIN
// and has no upstream server (--no-resolv) for any other name.
class dnsmasq {
public:
    // Empty with `why` set when it could not be started.
    static std::unique_ptr<dnsmasq> start(std::string& why) {
        for (int attempt = 0; attempt < 5; ++attempt) {
            auto server = std::unique_ptr<dnsmasq>(new dnsmasq());
            if (server->launch(why)) return server;
            // Another process may have taken the port between the probe and
            // dnsmasq's bind: try another one.
        }
        return nullptr;
    }
    ~dnsmasq() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        if (!log_path_.empty()) ::unlink(log_path_.c_str());
    }
    dnsmasq(const dnsmasq&) = delete;
    dnsmasq& operator=(const dnsmasq&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    corio::address address() const { return ip("127.0.0.1", port_); }

private:
    dnsmasq() = default;

    // A port free for both UDP and TCP on 127.0.0.1 (dnsmasq binds both).
    static std::uint16_t free_port() {
        for (;;) {
            const int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            sockaddr_in sa{};
            sa.sin_family = AF_INET;
            sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            socklen_t size = sizeof sa;
            ::bind(udp, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
            ::getsockname(udp, reinterpret_cast<sockaddr*>(&sa), &size);
            const int tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            const bool tcp_free = ::bind(tcp, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
            ::close(tcp);
            ::close(udp);
            if (tcp_free && ntohs(sa.sin_port) != 0) return ntohs(sa.sin_port);
        }
    }

    std::string log() const {
        std::ifstream in(log_path_);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

    bool launch(std::string& why) {
        port_ = free_port();
        char log_name[] = "/tmp/corio-dnsmasq-XXXXXX";
        const int log_fd = ::mkstemp(log_name);
        if (log_fd < 0) {
            why = "mkstemp: " + std::string(std::strerror(errno));
            return false;
        }
        log_path_ = log_name;
        const std::string port_arg = "--port=" + std::to_string(port_);
        std::vector<std::string> args = {dnsmasq_path,
                                         "--no-daemon",  // foreground, logs to stderr, keeps our uid
                                         "--conf-file=/dev/null",
                                         "--pid-file=",
                                         port_arg,
                                         "--listen-address=127.0.0.1",
                                         "--bind-interfaces",
                                         "--no-resolv",
                                         "--no-hosts",
                                         "--address=/corio-test.example/10.1.2.3",
                                         "--address=/corio-test.example/fd00::7",
                                         "--host-record=both.corio-loopback.example,127.0.0.1,::1",
                                         "--host-record=v4only.corio-v4.example,10.9.8.7",
                                         "--local=/corio-v4.example/",
                                         "--local=/corio-nx.example/",
                                         "--log-facility=-"};
        std::vector<char*> argv;
        for (std::string& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        const pid_t pid = ::fork();
        if (pid < 0) {
            why = "fork: " + std::string(std::strerror(errno));
            ::close(log_fd);
            return false;
        }
        if (pid == 0) {
            // Only async-signal-safe calls between fork and exec. If the test
            // dies, dnsmasq goes with it.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            const int null_fd = ::open("/dev/null", O_RDONLY);
            ::dup2(null_fd, 0);
            ::dup2(log_fd, 1);
            ::dup2(log_fd, 2);
            ::execv(dnsmasq_path, argv.data());
            ::_exit(127);
        }
        ::close(log_fd);
        pid_ = pid;
        // Ready when it answers a query, not when the process exists.
        const clock_type::time_point give_up = clock_type::now() + 10s;
        while (clock_type::now() < give_up) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                why = "dnsmasq exited at start (status " + std::to_string(status) + "): " + log();
                return false;
            }
            if (answers()) return true;
        }
        why = "dnsmasq did not answer on port " + std::to_string(port_) + " within 10s: " + log();
        return false;
    }

    // Sends one A query for corio-test.example and waits up to 100ms for a reply.
    bool answers() const {
        static const unsigned char query[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                              10,   'c',  'o',  'r',  'i', 'o', '-', 't', 'e', 's', 't',
                                              7,    'e',  'x',  'a',  'm', 'p', 'l', 'e', 0,   0,   1,
                                              0,    1};
        const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        const corio::address to = address();
        bool ok = false;
        if (::connect(fd, to.data(), to.size()) == 0 && ::send(fd, query, sizeof query, 0) == sizeof query) {
            pollfd p{fd, POLLIN, 0};
            unsigned char reply[512];
            ok = ::poll(&p, 1, 100) == 1 && ::recv(fd, reply, sizeof reply, 0) > 12 && reply[0] == 0x12 &&
                 reply[1] == 0x34;
        }
        ::close(fd);
        if (!ok) std::this_thread::sleep_for(20ms);
        return ok;
    }

    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
    std::string log_path_;
};

class resolve_test : public testing::TestWithParam<corio::backend_kind> {
protected:
    void SetUp() override {
        if (GetParam() == corio::backend_kind::io_uring && !io_uring_allowed())
            GTEST_SKIP() << "io_uring is refused here (io_uring_setup); epoll is tested";
    }

    template <class T>
    T run(corio::task<T> t) {
        return run_on(GetParam(), std::move(t));
    }

    outcome resolve(std::string host, std::uint16_t port, corio::resolve_options options = with_family(AF_UNSPEC)) {
        return run(attempt(corio::resolve(std::move(host), port, std::move(options))));
    }
    outcome resolve(std::string host, std::string service,
                    corio::resolve_options options = with_family(AF_UNSPEC)) {
        return run(attempt(corio::resolve(std::move(host), std::move(service), std::move(options))));
    }
};

// The tests that talk to dnsmasq: one server for the whole suite.
class resolve_dns_test : public resolve_test {
protected:
    static void SetUpTestSuite() {
        if (::access(dnsmasq_path, X_OK) != 0) return;
        server_ = dnsmasq::start(start_error_).release();
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    void SetUp() override {
        resolve_test::SetUp();
        if (IsSkipped()) return;
        if (::access(dnsmasq_path, X_OK) != 0)
            GTEST_SKIP() << dnsmasq_path << " is missing (Debian package dnsmasq-base, installed by "
                         << "scripts/install-deps.sh): the tests against a local DNS server are skipped";
        ASSERT_NE(server_, nullptr) << "could not start dnsmasq: " << start_error_;
    }

    static corio::resolve_options via_dnsmasq(int family = AF_UNSPEC) {
        std::vector<corio::address> servers;
        servers.push_back(server_->address());
        return with_family(family, std::move(servers));
    }

    static dnsmasq* server_;
    static std::string start_error_;
};

dnsmasq* resolve_dns_test::server_ = nullptr;
std::string resolve_dns_test::start_error_;

std::string backend_name(const testing::TestParamInfo<corio::backend_kind>& info) {
    return corio::to_string(info.param);
}

// --- literal addresses, arguments and services -------------------------------------------------

TEST_P(resolve_test, literal_addresses_never_reach_the_resolver) {
    const std::uint64_t channels_before = corio::detail::resolver_channels_opened();
    bool other_task_ran = false;
    struct results {
        addresses v4, v6, bracketed, named_service;
    };
    const results r = run([&]() -> corio::task<results> {
        // Spawned tasks run only when this one suspends: a literal never does.
        auto other = [&]() -> corio::task<> {
            other_task_ran = true;
            co_return;
        };
        auto h = corio::spawn(other());
        results out;
        out.v4 = co_await corio::resolve("127.0.0.1", 8080);
        out.v6 = co_await corio::resolve("::1", 8080);
        out.bracketed = co_await corio::resolve("[::1]", 443);
        out.named_service = co_await corio::resolve("10.0.0.1", "http");
        EXPECT_FALSE(other_task_ran) << "resolving a literal address suspended the task";
        co_await h;
        co_return out;
    }());
    EXPECT_EQ(corio::detail::resolver_channels_opened(), channels_before) << "a literal address reached c-ares";
    EXPECT_EQ(r.v4, addresses{ip("127.0.0.1", 8080)});
    EXPECT_EQ(r.v6, addresses{ip("::1", 8080)});
    EXPECT_EQ(r.bracketed, addresses{ip("::1", 443)});
    EXPECT_EQ(r.named_service, addresses{ip("10.0.0.1", 80)});
    EXPECT_TRUE(other_task_ran);
}

TEST_P(resolve_test, a_literal_of_the_other_family_is_an_error_naming_it) {
    const outcome o = resolve("::1", 80, with_family(AF_INET));
    EXPECT_EQ(o.kind, "system_error") << o;
    EXPECT_EQ(o.category, &corio::resolve_category());
    EXPECT_EQ(o.code, ARES_EBADFAMILY);
    EXPECT_TRUE(contains(o.what, "resolve '::1'")) << o.what;

    const outcome v6 = resolve("127.0.0.1", 80, with_family(AF_INET6));
    EXPECT_EQ(v6.kind, "system_error") << v6;
    EXPECT_TRUE(contains(v6.what, "'127.0.0.1'")) << v6.what;

    const outcome same = resolve("127.0.0.1", 80, with_family(AF_INET));
    EXPECT_EQ(same.found, addresses{ip("127.0.0.1", 80)}) << same;
}

TEST_P(resolve_test, arguments_that_cannot_be_right_are_invalid_argument) {
    const outcome empty = resolve("", 80);
    EXPECT_EQ(empty.kind, "invalid_argument") << empty;
    EXPECT_TRUE(contains(empty.what, "resolve")) << empty.what;
    EXPECT_TRUE(contains(empty.what, "empty")) << empty.what;

    const outcome empty_with_service = resolve("", "http");
    EXPECT_EQ(empty_with_service.kind, "invalid_argument") << empty_with_service;

    const outcome family = resolve("localhost", 80, with_family(AF_UNIX));
    EXPECT_EQ(family.kind, "invalid_argument") << family;
    EXPECT_TRUE(contains(family.what, "family")) << family.what;

    std::vector<corio::address> servers;
    servers.push_back(corio::address::unix_path("/tmp/not-a-name-server"));
    const outcome server = resolve("localhost", 80, with_family(AF_UNSPEC, servers));
    EXPECT_EQ(server.kind, "invalid_argument") << server;
    EXPECT_TRUE(contains(server.what, "name server")) << server.what;

    corio::resolve_options negative;
    negative.timeout = -1ms;
    const outcome timeout = resolve("localhost", 80, negative);
    EXPECT_EQ(timeout.kind, "invalid_argument") << timeout;
}

TEST_P(resolve_test, services_are_port_numbers_or_names_from_etc_services) {
    EXPECT_EQ(resolve("127.0.0.1", "80").found, addresses{ip("127.0.0.1", 80)});
    EXPECT_EQ(resolve("127.0.0.1", "65535").found, addresses{ip("127.0.0.1", 65535)});
    EXPECT_EQ(resolve("127.0.0.1", "").found, addresses{ip("127.0.0.1", 0)});
    EXPECT_EQ(resolve("127.0.0.1", "https").found, addresses{ip("127.0.0.1", 443)});
    EXPECT_EQ(resolve("::1", "ssh").found, addresses{ip("::1", 22)});
}

TEST_P(resolve_test, an_unknown_service_is_an_error_naming_it) {
    for (const char* service : {"no-such-service", "65536", "0x50", "-1", "http "}) {
        const outcome o = resolve("127.0.0.1", service);
        EXPECT_EQ(o.kind, "system_error") << service << ": " << o;
        EXPECT_EQ(o.category, &corio::resolve_category()) << service;
        EXPECT_EQ(o.code, ARES_ESERVICE) << service;
        EXPECT_TRUE(contains(o.what, "service '" + std::string(service) + "'")) << o.what;
        EXPECT_TRUE(contains(o.what, "'127.0.0.1'")) << o.what;
        EXPECT_TRUE(contains(o.what, "/etc/services")) << o.what;
    }
}

TEST_P(resolve_test, the_category_is_named_resolve_and_speaks_ares_strerror) {
    const std::error_category& c = corio::resolve_category();
    EXPECT_STREQ(c.name(), "resolve");
    EXPECT_EQ(c.message(ARES_ENOTFOUND), ares_strerror(ARES_ENOTFOUND));
    EXPECT_EQ(c.message(ARES_ETIMEOUT), ares_strerror(ARES_ETIMEOUT));
}

// --- /etc/hosts ----------------------------------------------------------------------------------

TEST_P(resolve_test, localhost_is_a_loopback_address) {
    const outcome o = resolve("localhost", 631);
    ASSERT_EQ(o.kind, "ok") << o;
    ASSERT_FALSE(o.found.empty());
    EXPECT_TRUE(contains(o.found, ip("127.0.0.1", 631)) || contains(o.found, ip("::1", 631))) << o;
    for (const corio::address& a : o.found) {
        EXPECT_TRUE(a.host() == "::1" || a.host().rfind("127.", 0) == 0) << a;
        EXPECT_EQ(a.port(), 631);
    }
    // Per family too: from /etc/hosts, or else the loopback address (RFC 6761),
    // never asking a name server.
    const outcome v6 = resolve("localhost", 80, with_family(AF_INET6));
    EXPECT_EQ(v6.found, addresses{ip("::1", 80)}) << v6;
    const outcome v4 = resolve("localhost", 80, with_family(AF_INET));
    EXPECT_TRUE(contains(v4.found, ip("127.0.0.1", 80))) << v4;
}

// The first name in /etc/hosts (other than localhost) with its IPv4 addresses.
struct hosts_entry {
    std::string name;
    std::vector<std::string> v4;
};

std::optional<hosts_entry> first_hosts_entry() {
    std::ifstream in("/etc/hosts");
    std::vector<std::pair<std::string, std::string>> pairs;  // (name, IPv4 address)
    for (std::string line; std::getline(in, line);) {
        line = line.substr(0, line.find('#'));
        std::istringstream words(line);
        std::string addr;
        if (!(words >> addr)) continue;
        in_addr v4{};
        if (::inet_pton(AF_INET, addr.c_str(), &v4) != 1) continue;
        for (std::string name; words >> name;) pairs.emplace_back(name, addr);
    }
    for (const auto& [name, addr] : pairs) {
        if (name == "localhost" || name.find("localhost") != std::string::npos) continue;
        hosts_entry e{name, {}};
        for (const auto& [n, a] : pairs) {
            if (n == name) e.v4.push_back(a);
        }
        return e;
    }
    return std::nullopt;
}

TEST_P(resolve_test, names_in_etc_hosts_resolve_without_a_name_server) {
    const std::optional<hosts_entry> entry = first_hosts_entry();
    if (!entry) GTEST_SKIP() << "/etc/hosts names nothing but localhost with an IPv4 address";
    // A silent name server: only /etc/hosts can answer within the timeout.
    silent_server silent;
    std::vector<corio::address> servers;
    servers.push_back(silent.address());
    const outcome o = resolve(entry->name, 8443, with_family(AF_INET, servers, 3s));
    ASSERT_EQ(o.kind, "ok") << entry->name << ": " << o;
    for (const std::string& a : entry->v4) EXPECT_TRUE(contains(o.found, ip(a.c_str(), 8443))) << a << " " << o;
}

// --- a real DNS server ---------------------------------------------------------------------------

TEST_P(resolve_dns_test, both_families_come_back_with_the_port) {
    const std::uint64_t channels_before = corio::detail::resolver_channels_opened();
    const outcome o = resolve("corio-test.example", 8080, via_dnsmasq());
    ASSERT_EQ(o.kind, "ok") << o;
    EXPECT_EQ(o.found.size(), 2u) << o;
    EXPECT_TRUE(contains(o.found, ip("10.1.2.3", 8080))) << o;
    EXPECT_TRUE(contains(o.found, ip("fd00::7", 8080))) << o;
    EXPECT_EQ(corio::detail::resolver_channels_opened(), channels_before + 1);

    const outcome below = resolve("www.corio-test.example", "http", via_dnsmasq());
    ASSERT_EQ(below.kind, "ok") << below;
    EXPECT_TRUE(contains(below.found, ip("10.1.2.3", 80))) << below;
    EXPECT_TRUE(contains(below.found, ip("fd00::7", 80))) << below;
}

// open_connection resolves through connect_options::resolve; a name with
// ::1 and 127.0.0.1 where only IPv4 listens: Happy Eyeballs moves on from
// the refused address to the one that answers.
TEST_P(resolve_dns_test, open_connection_resolves_with_its_options_and_tries_every_address) {
    struct result {
        std::string peer, reply;
    };
    const result r = run([](corio::resolve_options via) -> corio::task<result> {
        auto echo_line = [](corio::stream& s) -> corio::task<> {
            std::string line = co_await s.readline();
            co_await s.write_all(line);
        };
        auto srv = co_await corio::start_server(echo_line, "127.0.0.1", 0);
        corio::connect_options options;
        options.resolve = std::move(via);
        options.connect_timeout = std::chrono::milliseconds(5000);
        result out;
        auto s = co_await corio::open_connection("both.corio-loopback.example", srv.port(), options);
        out.peer = s.peer_address().host();
        co_await s.write_all("over dns\n");
        out.reply = co_await s.readline();
        co_await s.close();
        srv.close();
        co_await srv.wait_closed();
        co_return out;
    }(via_dnsmasq()));
    EXPECT_EQ(r.peer, "127.0.0.1");
    EXPECT_EQ(r.reply, "over dns\n");
}

TEST_P(resolve_dns_test, a_family_filter_gives_only_that_family) {
    const outcome v4 = resolve("corio-test.example", 53, via_dnsmasq(AF_INET));
    EXPECT_EQ(v4.found, addresses{ip("10.1.2.3", 53)}) << v4;
    const outcome v6 = resolve("corio-test.example", 53, via_dnsmasq(AF_INET6));
    EXPECT_EQ(v6.found, addresses{ip("fd00::7", 53)}) << v6;
    const outcome v4_only = resolve("v4only.corio-v4.example", 53, via_dnsmasq());
    EXPECT_EQ(v4_only.found, addresses{ip("10.9.8.7", 53)}) << v4_only;
}

TEST_P(resolve_dns_test, nxdomain_is_a_system_error_naming_the_host) {
    const outcome o = resolve("missing.corio-nx.example", 80, via_dnsmasq());
    EXPECT_EQ(o.kind, "system_error") << o;
    EXPECT_EQ(o.category, &corio::resolve_category());
    EXPECT_EQ(o.code, ARES_ENOTFOUND) << o;
    EXPECT_TRUE(contains(o.what, "resolve 'missing.corio-nx.example'")) << o.what;
    EXPECT_TRUE(contains(o.what, ares_strerror(ARES_ENOTFOUND))) << o.what;
}

TEST_P(resolve_dns_test, a_name_without_that_family_is_no_data) {
    const outcome o = resolve("v4only.corio-v4.example", 80, via_dnsmasq(AF_INET6));
    EXPECT_EQ(o.kind, "system_error") << o;
    EXPECT_EQ(o.category, &corio::resolve_category());
    EXPECT_EQ(o.code, ARES_ENODATA) << o;
    EXPECT_TRUE(contains(o.what, "'v4only.corio-v4.example'")) << o.what;
}

TEST_P(resolve_dns_test, a_name_the_server_cannot_look_up_is_an_error_naming_it) {
    // dnsmasq has no upstream server (--no-resolv): it refuses the query.
    const outcome o = resolve("unknown.corio-elsewhere.example", 80, via_dnsmasq());
    EXPECT_EQ(o.kind, "system_error") << o;
    EXPECT_EQ(o.category, &corio::resolve_category());
    EXPECT_TRUE(o.code == ARES_ENOTFOUND || o.code == ARES_ECONNREFUSED || o.code == ARES_EREFUSED ||
                o.code == ARES_ESERVFAIL)
        << o;
    EXPECT_TRUE(contains(o.what, "'unknown.corio-elsewhere.example'")) << o.what;
    EXPECT_LT(o.elapsed, 5s) << "a refusal is an answer: no timeout needed";
}

TEST_P(resolve_dns_test, two_hundred_lookups_at_once_all_succeed_and_leave_no_descriptor) {
    constexpr int count = 200;
    struct results {
        std::vector<addresses> answers;
        int fds_before = 0, fds_after = 0;
    };
    const results r = run([&]() -> corio::task<results> {
        results out;
        out.fds_before = open_fd_count();
        std::vector<corio::task<addresses>> lookups;
        for (int i = 0; i < count; ++i) {
            corio::resolve_options options = via_dnsmasq(i % 3 == 0 ? AF_INET : AF_UNSPEC);
            const std::string host =
                i % 2 == 0 ? "corio-test.example" : "n" + std::to_string(i) + ".corio-test.example";
            lookups.push_back(corio::resolve(host, static_cast<std::uint16_t>(1000 + i), std::move(options)));
        }
        out.answers = co_await corio::gather(std::move(lookups));
        out.fds_after = open_fd_count();
        co_return out;
    }());
    ASSERT_EQ(r.answers.size(), static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        const auto port = static_cast<std::uint16_t>(1000 + i);
        EXPECT_TRUE(contains(r.answers[i], ip("10.1.2.3", port))) << i;
        EXPECT_EQ(r.answers[i].size(), i % 3 == 0 ? 1u : 2u) << i;
    }
    EXPECT_EQ(r.fds_after, r.fds_before);
}

// --- a name server that never answers -------------------------------------------------------------

TEST_P(resolve_test, options_timeout_gives_timeout_error_naming_the_host) {
    silent_server silent;
    std::vector<corio::address> servers;
    servers.push_back(silent.address());
    struct results {
        outcome o;
        int fds_before = 0, fds_after = 0;
    };
    const results r = run([&]() -> corio::task<results> {
        results out;
        out.fds_before = open_fd_count();
        corio::resolve_options options = with_family(AF_UNSPEC, servers, 200ms);
        out.o = co_await attempt(corio::resolve("quiet.corio-test.example", 80, std::move(options)));
        out.fds_after = open_fd_count();
        co_return out;
    }());
    EXPECT_EQ(r.o.kind, "timeout_error") << r.o;
    EXPECT_TRUE(contains(r.o.what, "'quiet.corio-test.example'")) << r.o.what;
    EXPECT_GE(r.o.elapsed, 190ms);
    EXPECT_LT(r.o.elapsed, 2s);
    EXPECT_EQ(r.fds_after, r.fds_before);
}

TEST_P(resolve_test, the_resolvers_own_timeout_and_attempts_end_the_lookup) {
    silent_server silent;
    std::vector<corio::address> servers;
    servers.push_back(silent.address());
    // resolv.conf's options, from the environment as resolv.conf(5) allows:
    // one attempt of one second, then c-ares gives up by itself.
    corio_test::scoped_env res_options("RES_OPTIONS", "timeout:1 attempts:1");
    const outcome o = resolve("quiet.corio-test.example", 80, with_family(AF_UNSPEC, servers, 10s));
    EXPECT_EQ(o.kind, "system_error") << o;
    EXPECT_EQ(o.category, &corio::resolve_category());
    EXPECT_EQ(o.code, ARES_ETIMEOUT) << o;
    EXPECT_TRUE(contains(o.what, "'quiet.corio-test.example'")) << o.what;
    EXPECT_GE(o.elapsed, 900ms);
    EXPECT_LT(o.elapsed, 5s);
}

TEST_P(resolve_test, cancelling_a_lookup_abandons_it_and_closes_its_sockets) {
    silent_server silent;
    std::vector<corio::address> servers;
    servers.push_back(silent.address());
    struct results {
        std::string spawned;
        outcome waited, moved_on;
        int fds_before = 0, fds_after = 0;
        clock_type::duration cancel_took{};
    };
    const results r = run([&]() -> corio::task<results> {
        results out;
        out.fds_before = open_fd_count();
        // No timeout of its own: only the cancellation ends it.
        corio::resolve_options options;
        options.servers = servers;
        auto h = corio::spawn(corio::resolve("quiet.corio-test.example", 80, options));
        co_await corio::sleep(50ms);
        const clock_type::time_point cancelled_at = clock_type::now();
        h.cancel();
        try {
            co_await h;
            out.spawned = "ok";
        } catch (const corio::cancelled_error&) {
            out.spawned = "cancelled";
        } catch (const std::exception& e) {
            out.spawned = e.what();
        }
        out.cancel_took = clock_type::now() - cancelled_at;

        out.waited = co_await attempt(corio::wait_for(corio::resolve("quiet.corio-test.example", 80, options), 100ms));

        auto m = corio::move_on_after(100ms);
        auto body = [&](corio::timeout_scope&) -> corio::task<> {
            out.moved_on = co_await attempt(corio::resolve("quiet.corio-test.example", 80, options));
        };
        co_await corio::with(m, body);
        out.fds_after = open_fd_count();
        co_return out;
    }());
    EXPECT_EQ(r.spawned, "cancelled");
    EXPECT_LT(r.cancel_took, 1s);
    EXPECT_EQ(r.waited.kind, "timeout_error") << r.waited;
    EXPECT_LT(r.waited.elapsed, 2s);
    // attempt() caught the cancellation inside the block, so the block itself ended normally.
    EXPECT_EQ(r.moved_on.kind, "cancelled") << r.moved_on;
    EXPECT_LT(r.moved_on.elapsed, 2s);
    EXPECT_EQ(r.fds_after, r.fds_before);
}

INSTANTIATE_TEST_SUITE_P(backends, resolve_test,
                         testing::Values(corio::backend_kind::epoll, corio::backend_kind::io_uring), backend_name);
INSTANTIATE_TEST_SUITE_P(backends, resolve_dns_test,
                         testing::Values(corio::backend_kind::epoll, corio::backend_kind::io_uring), backend_name);

}  // namespace
