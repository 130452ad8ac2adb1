// busy_guard and the errors of a socket used in a state that forbids the
// call (private to src/net).
//
// A stream reads from one task at a time and a datagram socket receives and
// sends from one task each: two tasks receiving on one socket would race for
// its bytes. busy_guard marks one direction busy for one operation and
// refuses a second with std::logic_error (as asyncio's RuntimeError). Its
// message is built only when it refuses, so the guard costs a flag test on
// the hot path.
//
// throw_state_error reports a call on a closed, shut or aborted socket as a
// std::system_error whose code keeps its errno value (EBADF, EPIPE,
// ECONNABORTED, comparable with std::errc) and whose text says what
// happened: "stream::read from 1.2.3.4:80: the stream is closed".
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace corio::detail {

class busy_guard {
public:
    /// `refusal()` gives the logic_error's text when `flag` is already set.
    template <class Refusal>
    busy_guard(bool& flag, Refusal&& refusal) : flag_(flag) {
        if (flag) [[unlikely]]
            throw std::logic_error(std::forward<Refusal>(refusal)());
        flag = true;
    }
    ~busy_guard() { flag_ = false; }
    busy_guard(const busy_guard&) = delete;
    busy_guard& operator=(const busy_guard&) = delete;

private:
    bool& flag_;
};

/// What a socket is, for the state errors' text.
enum class socket_kind { stream, datagram_socket };

/// std::system_error(error, "<operation>: the stream is closed" and the
/// like). `error`: EBADF (closed), EPIPE (sending side shut by write_eof) or
/// ECONNABORTED (aborted).
[[noreturn]] void throw_state_error(int error, socket_kind kind, const std::string& operation);

}  // namespace corio::detail
