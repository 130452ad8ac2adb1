// stream, TLS: start_tls, the handshake and the TLS side of reading (the
// session decrypts into the read buffer; its ciphertext goes out through the
// write path's send_output). See corio/net/stream.hpp, stream_state.hpp and
// tls_session.hpp.
#include <netinet/in.h>
#include <sys/socket.h>

#include <stdexcept>
#include <system_error>

#include <corio/errors.hpp>
#include <corio/time/timeout.hpp>

#include "stream_state.hpp"

namespace corio::detail {

namespace {

constexpr const char* start_tls_operation = "stream::start_tls with";

// How TLS names the peer: the host name a client verifies, with the address.
std::string tls_peer_name(const address& peer, const std::string& server_hostname) {
    std::string name = peer.to_string();
    if (!server_hostname.empty() && server_hostname != peer.host()) name = server_hostname + " (" + name + ")";
    return name;
}

}  // namespace

task<bool> stream_state::receive_ciphertext(const char* operation) {
    const std::span<char> room = tls->input_space();
    const std::int64_t r = co_await stream_receive(*this, room.data(), room.size(), operation);
    if (r < 0) co_return false;
    if (r == 0)
        tls->input_eof();
    else
        tls->input_received(static_cast<std::size_t>(r));
    co_return true;
}

task<> stream_state::handshake() {
    for (;;) {
        bool done;
        try {
            done = tls->handshake();
        } catch (...) {
            send_output(false);  // the alert tells the peer why
            throw;
        }
        send_output(true);
        if (done) co_return;
        if (!co_await receive_ciphertext(start_tls_operation))
            throw tls_error(std::string(start_tls_operation) + " " + tls->peer_name() + ": the stream was closed");
    }
}

task<> handshake_within(stream& s, tls_context context, std::string server_hostname,
                        std::chrono::milliseconds limit) {
    const std::string peer_name = tls_peer_name(s.peer_address(), server_hostname);
    bool timed_out = false;
    try {
        co_await corio::wait_for(s.start_tls(std::move(context), std::move(server_hostname)), limit);
    } catch (const timeout_error&) {
        timed_out = true;
    }
    if (timed_out)
        throw tls_error(std::string(start_tls_operation) + " " + peer_name + ": not done within " +
                        std::to_string(limit.count()) + " ms");
}

}  // namespace corio::detail

namespace corio {

using detail::stream_state;

task<> stream::start_tls(tls_context context, std::string server_hostname) {
    using detail::start_tls_operation;
    stream_state* st = state_.get();
    if (st == nullptr || st->closed)
        throw tls_error((st != nullptr ? st->describe(start_tls_operation) : std::string(start_tls_operation)) +
                        ": the stream is closed");
    const int family = st->peer.family();
    if (server_hostname.empty() && !context.is_server() && (family == AF_INET || family == AF_INET6))
        server_hostname = st->peer.host();
    std::string peer_name = detail::tls_peer_name(st->peer, server_hostname);
    std::exception_ptr failure;
    {
        auto guard = detail::read_turn(*st, start_tls_operation);
        if (st->tls) throw std::logic_error(st->describe(start_tls_operation) + ": the stream is already TLS");
        if (st->write_shut)
            throw tls_error(st->describe(start_tls_operation) + ": the sending side is shut (write_eof)");
        try {
            // What was written in plain text goes out before the handshake.
            co_await st->wait_flush();
            if (st->write_error) std::rethrow_exception(st->write_error);
            st->tls = std::make_unique<detail::tls_session>(context, server_hostname, st->pending, peer_name);
            // Bytes read past the plain part are the peer's first TLS bytes.
            st->tls->input_prepend(st->in.view());
            st->in.clear();
            co_await st->handshake();
        } catch (...) {
            failure = std::current_exception();
        }
    }
    if (!failure) co_return;
    abort();  // a half-made TLS stream is of no use (asyncio closes the transport too)
    // A connection lost or reset during the handshake is a failed handshake
    // too: tls_error, as the cancellation and a misuse stay what they are.
    try {
        std::rethrow_exception(failure);
    } catch (const std::system_error& e) {
        throw tls_error(std::string(start_tls_operation) + " " + peer_name + ": " + e.code().message());
    }
}

bool stream::is_tls() const noexcept { return state_ && state_->tls; }

std::string stream::alpn_protocol() const { return is_tls() ? state_->tls->alpn_protocol() : std::string(); }

std::string stream::tls_version() const { return is_tls() ? state_->tls->version() : std::string(); }

}  // namespace corio
