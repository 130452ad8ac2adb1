// start_server / start_unix_server: listening sockets, one accepting task
// per listening socket (a multishot accept), and the connection handlers as
// children of the server's cancel scope. See corio/net/server.hpp.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <string>

#include <corio/detail/event_loop.hpp>
#include <corio/detail/io_op.hpp>
#include <corio/detail/promise_base.hpp>
#include <corio/detail/socket.hpp>
#include <corio/errors.hpp>
#include <corio/net/resolve.hpp>
#include <corio/net/server.hpp>
#include <corio/tasks/shield.hpp>
#include <corio/tasks/spawn.hpp>
#include <corio/sync/event.hpp>
#include <corio/time/timeout.hpp>
#include <corio/context/with.hpp>

#include "../runtime/report_names.hpp"
#include "stream_state.hpp"

namespace corio::detail {

struct listener : io_op {
    address where;
    bool armed = false;
    std::deque<int> ready;  // accepted, waiting for a handler
    int error = 0;          // what ended the multishot accept
    event changed;          // a connection, an error, or the end of the accept
    ~listener() {
        for (const int fd : ready) close_socket(fd);
        close_socket(fd);
    }
};

struct server_state {
    std::unique_ptr<connection_handler> handler;
    server_options options;
    corio::source_location where;
    std::vector<std::unique_ptr<listener>> listeners;
    cancel_scope scope;  // the acceptors and handlers
    std::size_t fibers = 0;
    std::size_t handlers = 0;
    bool closing = false;
    bool accepting = true;  // false after stop_accepting(): the acceptors end, handlers go on
    bool orphaned = false;  // the server object is gone: the last fiber frees us
    event slot_freed;       // a handler ended
    event all_done;         // no fiber left
    // What the acceptors' and the handlers' fibers tell when they end.
    struct done_listener : fiber_listener {
        server_state* state;
    };
    done_listener acceptor_done{};
    done_listener handler_done{};

    ~server_state() { scope.unlink(); }
};

namespace {

void fiber_ended(server_state* st) noexcept {
    --st->fibers;
    if (st->fibers == 0) {
        st->all_done.set();
        if (st->orphaned) delete st;
    }
}

void on_acceptor_done(fiber*, fiber_listener* self) noexcept {
    fiber_ended(static_cast<server_state::done_listener*>(self)->state);
}

void on_handler_done(fiber*, fiber_listener* self) noexcept {
    auto* st = static_cast<server_state::done_listener*>(self)->state;
    --st->handlers;
    st->slot_freed.set();
    fiber_ended(st);
}

template <class T>
void start_server_fiber(server_state* st, task<T> t, bool is_handler) {
    fiber* f = start_child(t, &st->scope, "start_server", st->where);
    server_state::done_listener& listener = is_handler ? st->handler_done : st->acceptor_done;
    listener.fiber_done = is_handler ? &on_handler_done : &on_acceptor_done;
    listener.state = st;
    f->on_done = &listener;
    f->set_result_retrieved();  // failures are handled inside (handlers) or are cancellations
    ++st->fibers;
    if (is_handler) ++st->handlers;
}

void accepted(io_op* op) noexcept {
    auto* l = static_cast<listener*>(op);
    if (op->result >= 0) {
        try {
            l->ready.push_back(static_cast<int>(op->result));
        } catch (...) {
            close_socket(static_cast<int>(op->result));  // out of memory: drop this one
        }
    } else if (op->result != -ECANCELED) {
        l->error = static_cast<int>(-op->result);
    }
    if (!op->more) l->armed = false;
    l->changed.set();
}

void arm(listener* l) {
    l->code = io_opcode::accept;
    l->multishot = true;
    l->buffer = nullptr;  // the peer is read with getpeername: one buffer cannot serve every completion
    l->address_length = nullptr;
    l->complete = &accepted;
    l->more = false;
    l->armed = true;
    if (tls_loop->io().submit(l)) accepted(l);  // refused at once: the result is set
}

task<> serve_connection(server_state* st, int fd) {
    address peer;
    socklen_t size = address::capacity;
    if (::getpeername(fd, peer.data(), &size) == 0) peer.resize(size);
    stream s;
    try {
        s = stream(fd, peer, stream_limits{st->options.limit, 64 * 1024, 16 * 1024});  // TCP_NODELAY on
    } catch (...) {
        close_socket(fd);
        throw;
    }
    if (st->options.tls) {
        // The handler runs only over a finished handshake; a failed or slow
        // one ends the connection here.
        std::exception_ptr refused;
        try {
            co_await handshake_within(s, *st->options.tls, std::string(), st->options.tls_handshake_timeout);
        } catch (const cancelled_error&) {
            throw;
        } catch (...) {
            refused = std::current_exception();
        }
        if (refused) {
            if (debug_enabled())
                std::fprintf(stderr, "corio debug: server started at %s:%u: %s\n", st->where.file_name(),
                             static_cast<unsigned>(st->where.line()), describe(refused).c_str());
            co_return;
        }
    }
    std::exception_ptr failure;
    try {
        co_await st->handler->serve(std::move(s));
    } catch (const cancelled_error&) {
        throw;
    } catch (...) {
        failure = std::current_exception();
    }
    // A handler's failure ends only its own connection.
    if (failure && debug_enabled()) {
        std::fprintf(stderr, "corio debug: connection handler for %s (server started at %s:%u) failed: %s\n",
                     peer.to_string().c_str(), st->where.file_name(), static_cast<unsigned>(st->where.line()),
                     describe(failure).c_str());
    }
}

bool out_of_descriptors(int error) noexcept {
    return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

task<> accept_loop(server_state* st, listener* l) {
    bool cancelled = false;
    try {
        for (;;) {
            const std::size_t max = st->options.max_connections;
            while (max != 0 && st->handlers >= max) {
                // Full: stop accepting so that the rest wait in the backlog.
                if (l->armed) tls_loop->io().cancel(l);
                st->slot_freed.clear();
                co_await st->slot_freed.wait();
            }
            if (!l->ready.empty()) {
                const int fd = l->ready.front();
                l->ready.pop_front();
                start_server_fiber(st, serve_connection(st, fd), true);
                continue;
            }
            if (!st->accepting) break;
            if (const int error = std::exchange(l->error, 0); error != 0) {
                // Out of descriptors: keep serving what we have; accept again
                // when a connection ends, or after a while (another part of
                // the process may free some).
                if (debug_enabled())
                    std::fprintf(stderr, "corio debug: accept on %s: %s; accepting again later\n",
                                 l->where.to_string().c_str(), std::strerror(error));
                st->slot_freed.clear();
                const auto pause = out_of_descriptors(error) ? std::chrono::milliseconds(100)
                                                              : std::chrono::milliseconds(10);
                // move_on_after, not wait_for: no timeout_error is thrown when
                // the pause ends (UBSan's vptr check on it needs a pipe, which
                // EMFILE refuses: a sanitized server aborted right here).
                auto until_a_slot = [st](timeout_scope&) -> task<> { co_await st->slot_freed.wait(); };
                auto paused = corio::with(corio::move_on_after(pause), std::move(until_a_slot));
                co_await std::move(paused);
            }
            if (!l->armed) arm(l);
            if (l->ready.empty() && l->error == 0) {
                l->changed.clear();
                co_await l->changed.wait();
            }
        }
    } catch (const cancelled_error&) {
        cancelled = true;
    }
    // The accept op must have ended before the listener can go.
    if (l->armed) tls_loop->io().cancel(l);
    while (l->armed) {
        l->changed.clear();
        co_await corio::shield(l->changed.wait());
    }
    if (!st->accepting) {
        // stop_accepting: new connections are refused from now on (what the
        // op accepted before it ended is served first).
        while (!l->ready.empty()) {
            const int fd = l->ready.front();
            l->ready.pop_front();
            start_server_fiber(st, serve_connection(st, fd), true);
        }
        close_socket(std::exchange(l->fd, -1));
    }
    if (cancelled) throw cancelled_error{};
}

int listen_on(const address& a, const server_options& options) {
    const char* operation = a.family() == AF_UNIX ? "start_unix_server on" : "start_server on";
    const int fd = open_socket(a.family(), SOCK_STREAM, operation, &a);
    const int one = 1;
    if (a.family() != AF_UNIX) {
        if (options.reuse_address) (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (options.reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
            const int e = errno;
            close_socket(fd);
            throw_socket_error(e, std::string(operation) + " " + a.to_string() + " (SO_REUSEPORT)", std::string_view());
        }
        if (a.family() == AF_INET6) (void)::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    if (::bind(fd, a.data(), a.size()) != 0 || ::listen(fd, options.backlog) != 0) {
        const int e = errno;
        close_socket(fd);
        throw_socket_error(e, operation, a);
    }
    return fd;
}

}  // namespace

task<server> start_server_impl(std::unique_ptr<connection_handler> handler, listen_spec spec, server_options options,
                               corio::source_location location) {
    if (options.backlog < 0) throw std::invalid_argument("start_server: backlog " + std::to_string(options.backlog) + " is negative");
    if (options.limit == 0) throw std::invalid_argument("start_server: limit must be at least 1 byte");
    if (options.tls && !options.tls->is_server())
        throw std::invalid_argument("start_server: server_options::tls is a client context (use tls_context::server(cert, key))");
    std::vector<address> addresses;
    if (!spec.unix_path.empty()) {
        addresses.push_back(address::unix_path(spec.unix_path));
        // asyncio removes a stale socket file; anything else at the path stays and fails bind.
        struct stat st {};
        if (spec.unix_path.front() != '@' && ::stat(spec.unix_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
            ::unlink(spec.unix_path.c_str());
    } else if (spec.host.empty() || spec.host == "0.0.0.0") {
        addresses.push_back(*address::parse("0.0.0.0", spec.port));
    } else if (std::optional<address> literal = address::parse(spec.host, spec.port)) {
        addresses.push_back(*literal);
    } else {
        addresses = co_await corio::resolve(spec.host, spec.port);
    }
    auto st = std::make_unique<server_state>();
    st->handler = std::move(handler);
    st->options = options;
    st->where = location;
    event_loop& loop = event_loop::current("start_server");
    st->scope.link_under(&loop.detached_scope());
    std::uint16_t port = spec.port;
    for (address a : addresses) {
        // With port 0 and several addresses, every socket takes the port
        // the first one got (asyncio does the same for "localhost").
        if (port != spec.port && a.family() == AF_INET) reinterpret_cast<sockaddr_in*>(a.data())->sin_port = htons(port);
        if (port != spec.port && a.family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(a.data())->sin6_port = htons(port);
        auto l = std::make_unique<listener>();
        l->fd = listen_on(a, options);
        socklen_t size = address::capacity;
        if (::getsockname(l->fd, l->where.data(), &size) == 0) l->where.resize(size);
        else l->where = a;
        if (port == 0) port = l->where.port();
        st->listeners.push_back(std::move(l));
    }
    for (auto& l : st->listeners) start_server_fiber(st.get(), accept_loop(st.get(), l.get()), false);
    co_return server(std::move(st));
}

}  // namespace corio::detail

namespace corio {

namespace {

// asyncio's "ResourceWarning: unclosed transport" of a listening socket, in
// debug mode: the server is closed now, its handlers end later.
void report_unclosed_server(const detail::server_state& st) noexcept {
    try {
        std::string on;
        for (const auto& l : st.listeners) on += (on.empty() ? "" : ", ") + l->where.to_string();
        std::fprintf(stderr, "corio debug: unclosed server on %s (started at ", on.c_str());
        detail::print_where(stderr, st.where);
        std::fprintf(stderr, "): destroyed without close()%s\n", st.fibers != 0 ? "; its handlers end later" : "");
    } catch (...) {
        std::fprintf(stderr, "corio debug: unclosed server: destroyed without close()\n");
    }
}

}  // namespace

server::server() noexcept = default;
server::server(std::unique_ptr<detail::server_state> state) noexcept : state_(std::move(state)) {}
server::server(server&& other) noexcept = default;
server& server::operator=(server&& other) noexcept {
    if (this != &other) {
        server old(std::move(*this));
        state_ = std::move(other.state_);
    }
    return *this;
}

server::~server() {
    if (!state_) return;
    const bool never_closed = !state_->closing;
    close();
    if (never_closed && detail::report_unclosed()) [[unlikely]]
        report_unclosed_server(*state_);
    else if (state_->fibers != 0 && detail::debug_enabled())
        std::fprintf(stderr, "corio debug: server destroyed before wait_closed(); its handlers end later\n");
    if (state_->fibers == 0) return;  // unique_ptr frees it
    state_->orphaned = true;
    (void)state_.release();
}

task<server&> server::aenter() {
    if (!state_) throw std::logic_error("server::aenter: the server is empty (moved from)");
    co_return *this;
}

task<> server::aexit(std::exception_ptr) {
    close();
    co_await wait_closed();
}

task<> server::serve_forever() {
    if (!state_) throw std::logic_error("server::serve_forever: the server is empty (moved from)");
    detail::server_state* st = state_.get();
    while (!st->closing) {
        st->all_done.clear();
        co_await st->all_done.wait();  // only close() ends the acceptors
    }
}

void server::close() noexcept {
    if (!state_ || state_->closing) return;
    state_->closing = true;
    state_->scope.cancel();
}

void server::stop_accepting() noexcept {
    if (!state_ || !state_->accepting) return;
    state_->accepting = false;
    for (auto& l : state_->listeners) {
        if (l->armed) detail::tls_loop->io().cancel(l.get());
        l->changed.set();
    }
    state_->slot_freed.set();
}

task<> server::wait_closed() {
    if (!state_) co_return;
    detail::server_state* st = state_.get();
    if (!st->closing) throw std::logic_error("server::wait_closed: call close() first");
    // Not interruptible: the handlers' exits are running (a Trio nursery's
    // exit waits the same way); a cancellation surfaces at the next await.
    while (st->fibers != 0) {
        st->all_done.clear();
        co_await corio::shield(st->all_done.wait());
    }
    st->listeners.clear();  // closes the listening sockets
}

std::uint16_t server::port() const {
    if (!state_ || state_->listeners.empty()) throw std::logic_error("server::port: the server has no listening socket");
    return state_->listeners.front()->where.port();
}

std::vector<address> server::addresses() const {
    std::vector<address> out;
    if (state_)
        for (const auto& l : state_->listeners) out.push_back(l->where);
    return out;
}

std::size_t server::connections() const noexcept { return state_ ? state_->handlers : 0; }

bool server::is_serving() const noexcept { return state_ && !state_->closing; }

}  // namespace corio
