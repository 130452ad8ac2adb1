// stream, reading: the read buffer, the receives that fill it and the
// parsing on top (read_exactly, read_until, readline). See
// corio/net/stream.hpp and stream_state.hpp.
#include <algorithm>
#include <cerrno>
#include <coroutine>
#include <cstring>
#include <stdexcept>

#include <corio/detail/promise_base.hpp>
#include <corio/errors.hpp>

#include "stream_state.hpp"

namespace corio::detail {

namespace {
// A new connection's read buffer. Small, so that an idle connection costs
// little; it doubles whenever a receive fills it.
constexpr std::size_t initial_read_capacity = 1024;
constexpr std::size_t bulk_read_capacity = 64 * 1024;
}  // namespace

stream_receive::stream_receive(stream_state& st, void* into, std::size_t size, const char* operation) noexcept
    : io_await(operation), st_(st), operation_(operation) {
    code = io_opcode::recv;
    fd = st.fd;
    buffer = into;
    length = static_cast<std::uint32_t>(std::min<std::size_t>(size, std::size_t{1} << 30));
    stream_socket = true;
}

bool stream_receive::await_suspend(std::coroutine_handle<> h) {
    st_.read_op = this;
    return io_await::await_suspend(h);
}

std::int64_t stream_receive::await_resume() {
    st_.read_op = nullptr;
    const std::int64_t r = io_await::await_resume();
    if (r == -ECANCELED && st_.closed) return -ECANCELED;
    if (r < 0) st_.fail(static_cast<int>(-r), operation_);
    return r;
}

void stream_state::make_room(std::size_t want) { in.reserve(want, initial_read_capacity); }

task<bool> stream_state::fill(const char* operation) {
    make_room(1);
    if (tls) co_return co_await fill_tls(operation);
    std::int64_t r = co_await stream_receive(*this, in.space(), in.room(), operation);
    if (r < 0) r = 0;  // close() from another task: EOF, as asyncio's reader sees
    if (r == 0) {
        eof = true;
        co_return false;
    }
    const bool filled = static_cast<std::size_t>(r) == in.room();
    in.commit(static_cast<std::size_t>(r));
    // A receive that filled the buffer: more is probably coming.
    if (filled && in.capacity() < bulk_read_capacity) make_room(in.capacity() + 1);
    co_return true;
}

task<bool> stream_state::fill_tls(const char* operation) {
    for (;;) {
        std::size_t got = 0;
        const std::size_t room = in.room();
        const tls_session::read_status status = tls->read(in.space(), room, got, operation);
        send_output(false);  // a TLS 1.3 key update is answered
        if (status == tls_session::read_status::data) {
            in.commit(got);
            if (got == room && in.capacity() < bulk_read_capacity) make_room(in.capacity() + 1);
            co_return true;
        }
        if (status == tls_session::read_status::eof || !co_await receive_ciphertext(operation)) {
            eof = true;
            co_return false;
        }
    }
}

namespace {

// The shared loop of read_until and readline. Gives the length up to and
// including the separator, or npos at EOF.
task<std::size_t> find_separator(stream_state* st, std::string_view separator, const char* operation) {
    std::size_t searched = 0;  // bytes already known not to start a separator
    for (;;) {
        const std::size_t have = st->in.size();
        const std::size_t at = st->in.find(separator, searched);
        if (at != read_buffer::npos) {
            if (at + separator.size() > st->limits.limit)
                throw limit_overrun_error(at + separator.size(),
                                          st->describe(operation) + ": separator found after the limit of " +
                                              std::to_string(st->limits.limit) + " bytes");
            co_return at + separator.size();
        }
        if (have >= st->limits.limit)
            throw limit_overrun_error(have, st->describe(operation) + ": no separator within the limit of " +
                                                       std::to_string(st->limits.limit) + " bytes");
        if (st->eof) co_return std::string_view::npos;
        searched = have >= separator.size() ? have - separator.size() + 1 : 0;
        co_await st->fill(operation);
    }
}

}  // namespace

task<std::size_t> stream_state::next_line(const char* operation) {
    const std::size_t n = co_await find_separator(this, "\n", operation);
    co_return n == read_buffer::npos ? in.size() : n;
}

}  // namespace corio::detail

namespace corio {

using detail::stream_state;

task<std::string> stream::read(std::size_t max) {
    constexpr const char* operation = "stream::read from";
    stream_state* st = detail::open_state(state_, operation);
    auto guard = detail::read_turn(*st, operation);
    if (max == 0) co_return std::string();
    if (st->in.size() == 0 && !st->eof) co_await st->fill(operation);
    co_return st->in.take(std::min(max, st->in.size()));
}

task<std::size_t> stream::read_some(std::span<std::byte> into) {
    constexpr const char* operation = "stream::read_some from";
    stream_state* st = detail::open_state(state_, operation);
    auto guard = detail::read_turn(*st, operation);
    if (into.empty()) co_return 0;
    if (st->in.size() == 0 && !st->eof) {
        if (!st->tls && into.size() >= st->in.capacity()) {
            // Large reads go straight into the caller's memory.
            std::int64_t r = co_await detail::stream_receive(*st, into.data(), into.size(), operation);
            if (r < 0) r = 0;  // ended by close(): EOF
            if (r == 0) st->eof = true;
            co_return static_cast<std::size_t>(r);
        }
        co_await st->fill(operation);
    }
    co_return st->in.take_into(reinterpret_cast<char*>(into.data()), into.size());
}

task<std::string> stream::read_exactly(std::size_t n) {
    constexpr const char* operation = "stream::read_exactly from";
    stream_state* st = detail::open_state(state_, operation);
    auto guard = detail::read_turn(*st, operation);
    while (st->in.size() < n && !st->eof) {
        st->make_room(std::min(n - st->in.size(), std::size_t{1} << 20));
        co_await st->fill(operation);
    }
    if (st->in.size() < n) {
        const std::size_t got = st->in.size();
        throw incomplete_read_error(st->in.take(got), n,
                                    st->describe(operation) + ": EOF after " + std::to_string(got) + " of " +
                                        std::to_string(n) + " bytes");
    }
    co_return st->in.take(n);
}

task<std::string> stream::read_until(std::string separator) {
    constexpr const char* operation = "stream::read_until from";
    stream_state* st = detail::open_state(state_, operation);
    auto guard = detail::read_turn(*st, operation);
    if (separator.empty()) throw std::invalid_argument("stream::read_until: the separator is empty");
    const std::size_t n = co_await detail::find_separator(st, separator, operation);
    if (n == std::string_view::npos) {
        const std::size_t got = st->in.size();
        throw incomplete_read_error(st->in.take(got), 0,
                                    st->describe(operation) + ": EOF after " + std::to_string(got) +
                                        " bytes without the separator");
    }
    co_return st->in.take(n);
}

task<std::string> stream::readline() {
    constexpr const char* operation = "stream::readline from";
    stream_state* st = detail::open_state(state_, operation);
    auto guard = detail::read_turn(*st, operation);
    std::size_t n = st->buffered_line();
    if (n == 0) n = co_await st->next_line(operation);
    co_return st->in.take(n);
}

task<std::string> stream::read_all() {
    constexpr const char* operation = "stream::read_all from";
    stream_state* st = detail::open_state(state_, operation);
    auto guard = detail::read_turn(*st, operation);
    while (!st->eof) {
        st->make_room(std::max<std::size_t>(st->in.capacity() / 2, 1));
        co_await st->fill(operation);
    }
    co_return st->in.take(st->in.size());
}

// Each line is a view of the read buffer, consumed at once: taking bytes
// does not move them, and only the next receive (the next line asked for,
// or another read) reuses their memory.
async_generator<std::string_view> stream::lines() {
    constexpr const char* operation = "stream::lines from";
    for (;;) {
        stream_state* st = detail::open_state(state_, operation);
        std::size_t n;
        {
            auto guard = detail::read_turn(*st, operation);
            n = st->buffered_line();
            if (n == 0) n = co_await st->next_line(operation);
        }
        if (n == 0) co_return;
        std::string_view line(st->in.data(), n);
        st->in.consume(n);
        co_yield line;
    }
}

bool stream::at_eof() const noexcept { return state_ && state_->eof && state_->in.size() == 0; }

}  // namespace corio
