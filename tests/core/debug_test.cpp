// Debug mode and the reports on stderr: an exception nobody retrieved (always
// reported), steps longer than 100 ms without yielding (naming the task),
// tasks never awaited, streams, servers and datagram sockets destroyed
// without close(), the banner naming the backend, CORIO_DEBUG in the
// environment.
#include <corio/run.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <corio/errors.hpp>
#include <corio/tasks/gather.hpp>
#include <corio/net/datagram.hpp>
#include <corio/net/server.hpp>
#include <corio/net/stream.hpp>
#include <corio/runtime/run_options.hpp>
#include <corio/tasks/shield.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/task.hpp>
#include <corio/tasks/task_group.hpp>
#include <corio/time/sleep.hpp>
#include <corio/time/timeout.hpp>
#include <corio/tasks/to_thread.hpp>
#include <corio/context/with.hpp>
#include "../support/backends.hpp"
#include "../support/scoped_env.hpp"

using namespace std::chrono_literals;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

using corio_test::scoped_env;

corio::task<> fail_detached() {
    co_await corio::sleep(0s);
    throw std::runtime_error("nobody looked at me");
}

// Runs `main` with `options`, capturing what it writes to stderr.
std::string stderr_of(corio::task<> main, corio::run_options options = {}) {
    testing::internal::CaptureStderr();
    try {
        corio::run(std::move(main), options);
    } catch (...) {
        testing::internal::GetCapturedStderr();
        throw;
    }
    return testing::internal::GetCapturedStderr();
}

TEST(debug, unretrieved_exception_of_a_detached_task_is_reported_without_debug_mode) {
    scoped_env no_debug("CORIO_DEBUG", "0");
    const std::string err = stderr_of([]() -> corio::task<> {
        corio::spawn(fail_detached()).detach();
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
    }());
    EXPECT_TRUE(contains(err, "exception in a task nobody awaited")) << err;
    EXPECT_TRUE(contains(err, "std::runtime_error: nobody looked at me")) << err;
    EXPECT_TRUE(contains(err, "debug_test.cpp")) << err;  // where it was spawned
    EXPECT_FALSE(contains(err, "corio debug:")) << err;
}

TEST(debug, unretrieved_exception_is_reported_when_the_handle_is_dropped_after_the_end) {
    scoped_env no_debug("CORIO_DEBUG", "0");
    const std::string err = stderr_of([]() -> corio::task<> {
        auto h = corio::spawn(fail_detached());
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
        EXPECT_TRUE(h.done());
        h = corio::join_handle<>{};  // dropped unread
    }());
    EXPECT_TRUE(contains(err, "nobody looked at me")) << err;
}

TEST(debug, a_retrieved_exception_is_not_reported) {
    const std::string err = stderr_of(
        []() -> corio::task<> {
            auto h = corio::spawn(fail_detached());
            EXPECT_THROW(co_await h, std::runtime_error);
        }(),
        corio::run_options{.debug = true});
    EXPECT_FALSE(contains(err, "nobody awaited")) << err;
    EXPECT_FALSE(contains(err, "nobody looked at me")) << err;
}

TEST(debug, a_cancelled_detached_task_is_not_reported_as_a_failure) {
    scoped_env no_debug("CORIO_DEBUG", "0");
    const std::string err = stderr_of([]() -> corio::task<> {
        corio::spawn([]() -> corio::task<> { co_await corio::sleep(1h); }).detach();
        co_await corio::sleep(0s);
    }());  // run cancels it at the end
    EXPECT_EQ(err, "");
}

TEST(debug, a_step_longer_than_100ms_is_reported) {
    const std::string err = stderr_of(
        []() -> corio::task<> {
            auto h = corio::spawn([]() -> corio::task<> {
                co_await corio::sleep(0s);
                std::this_thread::sleep_for(120ms);  // blocks the loop
            });
            co_await h;
        }(),
        corio::run_options{.debug = true});
    EXPECT_TRUE(contains(err, "corio debug: a step of task '")) << err;
    EXPECT_TRUE(contains(err, "ms without yielding")) << err;
    EXPECT_TRUE(contains(err, "debug_test.cpp")) << err;  // the task's spawn site
}

// Where a coroutine's report points: clang gives the line of its name, g++
// the line of its closing brace; clang 14 (no std::source_location) gives
// the line without the file. Each function below is bracketed by its lines.
struct lines {
    unsigned first;
    unsigned last;
};

// The line a report gives after "debug_test.cpp:" (or "line "), else 0.
unsigned reported_line(const std::string& err, const std::string& after) {
    std::size_t at = err.find(after);
    if (at == std::string::npos) return 0;
    const std::size_t file = err.find("debug_test.cpp:", at);
    const std::size_t line = err.find("(line ", at);
    if (file != std::string::npos && (line == std::string::npos || file < line)) at = file + 15;
    else if (line != std::string::npos) at = line + 6;
    else return 0;
    return static_cast<unsigned>(std::strtoul(err.c_str() + at, nullptr, 10));
}

bool within(unsigned line, lines l) { return line >= l.first && line <= l.last; }

constexpr lines slow_worker_lines{__LINE__ + 1, __LINE__ + 4};
corio::task<> slow_worker() {
    co_await corio::sleep(0s);
    std::this_thread::sleep_for(120ms);  // blocks the loop
}

constexpr lines slow_main_lines{__LINE__ + 1, __LINE__ + 4};
corio::task<> slow_main() {
    std::this_thread::sleep_for(120ms);
    co_return;
}

TEST(debug, a_slow_step_names_the_task_and_where_it_was_made) {
    const std::string err = stderr_of(slow_main(), corio::run_options{.debug = true});
    EXPECT_TRUE(contains(err, "corio debug: a step of task 'slow_main' (")) << err;
    EXPECT_TRUE(within(reported_line(err, "task 'slow_main'"), slow_main_lines)) << err;
    EXPECT_FALSE(contains(err, "spawned at")) << err;  // run's main task was not spawned
    EXPECT_TRUE(contains(err, "ms without yielding")) << err;
}

TEST(debug, a_slow_step_of_a_spawned_task_names_it_and_its_spawn_site) {
    constexpr unsigned spawn_line = __LINE__ + 3;
    const std::string err = stderr_of(
        []() -> corio::task<> {
            auto h = corio::spawn(slow_worker());
            co_await h;
        }(),
        corio::run_options{.debug = true});
    EXPECT_TRUE(contains(err, "corio debug: a step of task 'slow_worker' (")) << err;
    EXPECT_TRUE(within(reported_line(err, "task 'slow_worker'"), slow_worker_lines)) << err;
    EXPECT_TRUE(contains(err, "spawned at ")) << err;
    EXPECT_TRUE(contains(err, "debug_test.cpp:" + std::to_string(spawn_line) + " in ")) << err;
}

TEST(debug, a_slow_step_of_a_spawned_callable_or_a_gathered_task_names_its_coroutine) {
    const std::string err = stderr_of(
        []() -> corio::task<> {
            co_await corio::spawn([] { return slow_worker(); });  // stored callable: named after its task
            co_await corio::gather(slow_worker());
        }(),
        corio::run_options{.debug = true});
    std::size_t reports = 0;
    for (std::size_t at = 0; (at = err.find("a step of task 'slow_worker'", at)) != std::string::npos; ++at)
        ++reports;
    EXPECT_EQ(reports, 2u) << err;
    EXPECT_FALSE(contains(err, "call_stored")) << err;
}

// ------------------------------------------------------------ never awaited

constexpr lines never_awaited_lines{__LINE__ + 1, __LINE__ + 4};
corio::task<int> never_awaited_work(int x) {
    co_await corio::sleep(0s);
    co_return x;
}

corio::task<> awaited_work(int& ran) {
    ++ran;
    co_return;
}

TEST(debug, a_task_never_awaited_is_reported_with_its_name_and_line) {
    const std::string err = stderr_of(
        []() -> corio::task<> {
            { auto forgotten = never_awaited_work(1); }  // Python: coroutine 'work' was never awaited
            co_return;
        }(),
        corio::run_options{.debug = true});
    EXPECT_TRUE(contains(err, "corio debug: coroutine 'never_awaited_work' (")) << err;
    EXPECT_TRUE(contains(err, ") was never awaited\n")) << err;
    EXPECT_TRUE(within(reported_line(err, "'never_awaited_work'"), never_awaited_lines)) << err;
}

TEST(debug, a_member_and_a_lambda_never_awaited_are_named) {
    struct worker {
        corio::task<> run() { co_return; }
    };
    const std::string err = stderr_of(
        []() -> corio::task<> {
            worker w;
            { auto t = w.run(); }
            { auto t = []() -> corio::task<> { co_return; }(); }
            co_return;
        }(),
        corio::run_options{.debug = true});
    EXPECT_TRUE(contains(err, "run' (")) << err;  // g++: 'worker::run'; clang 14: 'run'
    EXPECT_TRUE(contains(err, "<lambda>' (")) << err;
    EXPECT_FALSE(contains(err, "operator()")) << err;
}

TEST(debug, tasks_awaited_spawned_gathered_or_moved_are_not_reported) {
    int ran = 0;
    const std::string err = stderr_of(
        [](int& ran) -> corio::task<> {
            co_await awaited_work(ran);
            auto named = awaited_work(ran);
            co_await named;
            auto moved = awaited_work(ran);
            auto into = std::move(moved);  // `moved` is empty now
            co_await into;
            auto later = awaited_work(ran);
            moved = std::move(later);  // assigned over an empty task
            co_await moved;
            co_await corio::spawn(awaited_work(ran));
            corio::spawn(awaited_work(ran)).detach();
            co_await corio::gather(awaited_work(ran), awaited_work(ran));
            std::vector<corio::task<>> tasks;
            tasks.push_back(awaited_work(ran));
            co_await corio::gather_settled(std::move(tasks));
            co_await corio::with(corio::task_group{}, [&](corio::task_group& g) -> corio::task<> {
                g.spawn(awaited_work(ran));
                g.spawn([&] { return awaited_work(ran); });
                co_return;
            });
            co_await corio::wait_for(awaited_work(ran), 1s);
            co_await corio::shield(awaited_work(ran));
            co_await corio::to_thread([] { return 1; });
            co_await corio::sleep(0s);
        }(ran),
        corio::run_options{.debug = true});
    EXPECT_EQ(ran, 13);
    EXPECT_FALSE(contains(err, "never awaited")) << err;
}

TEST(debug, an_unawaited_gather_is_reported_once_not_for_each_of_its_tasks) {
    int ran = 0;
    const std::string err = stderr_of(
        [](int& ran) -> corio::task<> {
            { auto g = corio::gather(awaited_work(ran), never_awaited_work(2)); }
            co_return;
        }(ran),
        corio::run_options{.debug = true});
    EXPECT_EQ(ran, 0);
    std::size_t reports = 0;
    for (std::size_t at = 0; (at = err.find("was never awaited", at)) != std::string::npos; ++at) ++reports;
    EXPECT_EQ(reports, 1u) << err;
    EXPECT_TRUE(contains(err, "gather")) << err;
    EXPECT_FALSE(contains(err, "never_awaited_work")) << err;
}

TEST(debug, tasks_a_corio_call_refused_are_not_reported) {
    int ran = 0;
    const std::string err = stderr_of(
        [](int& ran) -> corio::task<> {
            corio::task_group closed;
            co_await corio::with(closed, [](corio::task_group&) -> corio::task<> { co_return; });
            EXPECT_THROW(closed.spawn(awaited_work(ran)), std::logic_error);  // asyncio closes the coroutine
            corio::task<> empty;
            auto pair = corio::gather(awaited_work(ran), std::move(empty));
            EXPECT_THROW(co_await pair, std::logic_error);
            std::vector<corio::task<>> tasks;
            tasks.push_back(awaited_work(ran));
            tasks.emplace_back();
            auto all = corio::gather(std::move(tasks));
            EXPECT_THROW(co_await all, std::logic_error);
        }(ran),
        corio::run_options{.debug = true});
    EXPECT_EQ(ran, 0);
    EXPECT_FALSE(contains(err, "never awaited")) << err;
}

TEST(debug, a_task_never_awaited_is_not_reported_without_debug_mode) {
    scoped_env no_debug("CORIO_DEBUG", "0");
    const std::string err = stderr_of([]() -> corio::task<> {
        { auto forgotten = never_awaited_work(1); }
        co_return;
    }());
    EXPECT_EQ(err, "");
}

// ------------------------------------------------------- unclosed resources

std::size_t count_of(const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t at = 0; (at = haystack.find(needle, at)) != std::string::npos; at += needle.size()) ++n;
    return n;
}

// asyncio's "ResourceWarning: unclosed transport", on both backends.
class debug_unclosed : public testing::TestWithParam<corio::backend_kind> {
protected:
    void SetUp() override {
        if (GetParam() == corio::backend_kind::io_uring && !corio_test::io_uring_allowed())
            GTEST_SKIP() << "io_uring is refused here (io_uring_setup); epoll is tested";
    }
    std::string stderr_of_run(corio::task<> main, bool debug = true) {
        corio::run_options options;
        options.backend = GetParam();
        options.debug = debug;
        return stderr_of(std::move(main), std::move(options));
    }
};
CORIO_TEST_ON_BOTH_BACKENDS(debug_unclosed);

// A handler that takes the stream by value and closes it at EOF.
corio::task<> read_then_close(corio::stream s) {
    for (;;) {
        const std::string data = co_await s.read();  // named: g++ 12 built `while (!(co_await s.read()).empty())` into a SIGILL
        if (data.empty()) break;
    }
    co_await s.close();
}

// One that returns at EOF without closing it (asyncio warns about that too).
corio::task<> read_then_return(corio::stream s) {
    for (;;) {
        const std::string data = co_await s.read();
        if (data.empty()) break;
    }
}

// Connects to `port`, sends `data`, closes, and waits for the peer's EOF.
corio::task<> send_and_close(std::uint16_t port, std::string data) {
    corio::stream s = co_await corio::open_connection("127.0.0.1", port);
    co_await s.write_all(data);
    co_await s.write_eof();
    co_await s.read_all();
    co_await s.close();
}

TEST_P(debug_unclosed, a_stream_destroyed_without_close_is_reported_with_its_addresses) {
    std::string peer, local;
    const std::string err = stderr_of_run([](std::string& peer, std::string& local) -> corio::task<> {
        auto srv = co_await corio::start_server(read_then_close, "127.0.0.1", 0);
        {
            corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
            peer = s.peer_address().to_string();
            local = s.local_address().to_string();
            co_await s.write_all("bye");
        }  // dropped: its destructor closes it
        co_await corio::with(srv, [](corio::server&) -> corio::task<> { co_return; });
    }(peer, local));
    EXPECT_TRUE(
        contains(err, "corio debug: unclosed stream to " + peer + " (local " + local + "): destroyed without close()"))
        << err;
    EXPECT_EQ(count_of(err, "corio debug: unclosed"), 1u) << err;
}

TEST_P(debug_unclosed, a_stream_closed_aborted_or_used_with_with_is_not_reported) {
    const std::string err = stderr_of_run([]() -> corio::task<> {
        auto srv = co_await corio::start_server(read_then_close, "127.0.0.1", 0);
        corio::stream closed = co_await corio::open_connection("127.0.0.1", srv.port());
        co_await closed.write_all("x");
        co_await closed.close();
        corio::stream aborted = co_await corio::open_connection("127.0.0.1", srv.port());
        aborted.abort();
        co_await corio::with(corio::open_connection("127.0.0.1", srv.port()),
                             [](corio::stream& s) -> corio::task<> { co_await s.write_all("y"); });
        co_await send_and_close(srv.port(), "z");
        co_await corio::with(srv, [](corio::server&) -> corio::task<> { co_return; });
    }());
    EXPECT_FALSE(contains(err, "corio debug: unclosed")) << err;
}

TEST_P(debug_unclosed, a_stream_dropped_while_an_exception_unwinds_is_not_reported) {
    const std::string err = stderr_of_run([]() -> corio::task<> {
        auto srv = co_await corio::start_server(read_then_close, "127.0.0.1", 0);
        try {
            corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
            co_await s.write_all("x");
            throw std::runtime_error("the body failed");  // no co_await close() possible in a catch
        } catch (const std::runtime_error&) {
        }
        co_await corio::with(srv, [](corio::server&) -> corio::task<> { co_return; });
    }());
    EXPECT_FALSE(contains(err, "corio debug: unclosed")) << err;
}

TEST_P(debug_unclosed, a_server_destroyed_without_close_is_reported_with_its_address_and_start) {
    std::uint16_t port = 0;
    constexpr unsigned start_line = __LINE__ + 3;
    const std::string err = stderr_of_run([](std::uint16_t& port) -> corio::task<> {
        {
            auto srv = co_await corio::start_server(read_then_close, "127.0.0.1", 0);
            port = srv.port();
        }
        co_await corio::sleep(0s);
    }(port));
    EXPECT_TRUE(contains(err, "corio debug: unclosed server on 127.0.0.1:" + std::to_string(port) + " (started at "))
        << err;
    EXPECT_TRUE(contains(err, "debug_test.cpp:" + std::to_string(start_line) + " in ")) << err;
    EXPECT_TRUE(contains(err, "destroyed without close()")) << err;
    EXPECT_EQ(count_of(err, "corio debug: unclosed"), 1u) << err;
}

TEST_P(debug_unclosed, a_server_closed_by_with_or_close_is_not_reported) {
    const std::string err = stderr_of_run([]() -> corio::task<> {
        auto a = co_await corio::start_server(read_then_close, "127.0.0.1", 0);
        co_await send_and_close(a.port(), "a");
        co_await corio::with(a, [](corio::server&) -> corio::task<> { co_return; });
        auto b = co_await corio::start_server(read_then_close, "127.0.0.1", 0);
        b.close();
        co_await b.wait_closed();
    }());
    EXPECT_FALSE(contains(err, "corio debug: unclosed")) << err;
    EXPECT_FALSE(contains(err, "destroyed")) << err;
}

TEST_P(debug_unclosed, a_handler_that_returns_without_closing_its_stream_is_reported) {
    std::string client;
    std::uint16_t port = 0;
    const std::string err = stderr_of_run([](std::string& client, std::uint16_t& port) -> corio::task<> {
        auto srv = co_await corio::start_server(read_then_return, "127.0.0.1", 0);
        port = srv.port();
        corio::stream s = co_await corio::open_connection("127.0.0.1", port);
        client = s.local_address().to_string();
        co_await s.write_eof();
        co_await s.read_all();  // EOF: the handler has returned, its stream is gone
        co_await s.close();
        co_await corio::with(srv, [](corio::server&) -> corio::task<> { co_return; });
    }(client, port));
    EXPECT_TRUE(contains(err, "corio debug: unclosed stream to " + client + " (local 127.0.0.1:" +
                                  std::to_string(port) + "): destroyed without close()"))
        << err;
    EXPECT_EQ(count_of(err, "corio debug: unclosed"), 1u) << err;
}

TEST_P(debug_unclosed, handler_streams_the_server_closes_are_not_reported) {
    const std::string err = stderr_of_run([]() -> corio::task<> {
        // By reference: the server closes the stream after the handler.
        auto by_ref = co_await corio::start_server(
            [](corio::stream& s) -> corio::task<> { co_await s.read_all(); }, "127.0.0.1", 0);
        co_await send_and_close(by_ref.port(), "r");
        co_await corio::with(by_ref, [](corio::server&) -> corio::task<> { co_return; });
        // By value, failing: the server drops it (asyncio closes the transport).
        auto failing = co_await corio::start_server(
            [](corio::stream s) -> corio::task<> {
                co_await s.read_all();
                throw std::runtime_error("handler failed");
            },
            "127.0.0.1", 0);
        co_await send_and_close(failing.port(), "f");
        co_await corio::with(failing, [](corio::server&) -> corio::task<> { co_return; });
        // By value, cancelled by the server's close while it reads.
        auto waiting = co_await corio::start_server(read_then_return, "127.0.0.1", 0);
        corio::stream idle = co_await corio::open_connection("127.0.0.1", waiting.port());
        co_await corio::sleep(20ms);  // the handler waits in read()
        co_await corio::with(waiting, [](corio::server&) -> corio::task<> { co_return; });
        co_await idle.close();
    }());
    EXPECT_TRUE(contains(err, "handler failed")) << err;  // the failure itself is reported
    EXPECT_FALSE(contains(err, "corio debug: unclosed")) << err;
}

TEST_P(debug_unclosed, a_datagram_socket_destroyed_without_close_is_reported) {
    std::string bound, connected, to;
    const std::string err = stderr_of_run([](std::string& bound, std::string& connected, std::string& to) -> corio::task<> {
        auto closed = co_await corio::datagram_socket::bind("127.0.0.1", 0);
        {
            auto d = co_await corio::datagram_socket::bind("127.0.0.1", 0);
            bound = d.local_address().to_string();
        }
        {
            auto c = co_await corio::datagram_socket::connect("127.0.0.1", closed.local_address().port());
            connected = c.local_address().to_string();
            to = c.peer_address().to_string();
        }
        closed.close();
    }(bound, connected, to));
    EXPECT_TRUE(contains(err, "corio debug: unclosed datagram socket on " + bound + ": destroyed without close()"))
        << err;
    EXPECT_TRUE(contains(err, "corio debug: unclosed datagram socket on " + connected + " (to " + to +
                                  "): destroyed without close()"))
        << err;
    EXPECT_EQ(count_of(err, "corio debug: unclosed"), 2u) << err;
}

TEST_P(debug_unclosed, nothing_is_reported_without_debug_mode) {
    scoped_env no_debug("CORIO_DEBUG", "0");
    const std::string err = stderr_of_run(
        []() -> corio::task<> {
            auto srv = co_await corio::start_server(read_then_return, "127.0.0.1", 0);
            {
                corio::stream s = co_await corio::open_connection("127.0.0.1", srv.port());
                co_await s.write_all("x");
            }
            auto d = co_await corio::datagram_socket::bind("127.0.0.1", 0);
            co_await corio::sleep(10ms);
        }(),
        false);
    EXPECT_EQ(err, "");
}

TEST(debug, banner_names_the_backend) {
    const std::string err = stderr_of([]() -> corio::task<> { co_return; }(),
                                      corio::run_options{.backend = corio::backend_kind::epoll, .debug = true});
    EXPECT_TRUE(contains(err, "corio debug: event loop started, backend epoll")) << err;
}

TEST(debug, corio_debug_environment_turns_debug_mode_on) {
    scoped_env debug("CORIO_DEBUG", "1");
    corio::backend_kind used = corio::backend_kind::automatic;
    const std::string err = stderr_of([&]() -> corio::task<> {
        used = corio::current_backend();
        co_return;
    }());
    EXPECT_TRUE(contains(err, std::string("corio debug: event loop started, backend ") + corio::to_string(used)))
        << err;
}

TEST(debug, no_banner_without_debug_mode) {
    scoped_env no_debug("CORIO_DEBUG", "0");
    const std::string err = stderr_of([]() -> corio::task<> { co_return; }());
    EXPECT_EQ(err, "");
}

}  // namespace
