// One kernel operation in flight, as the backends see it.
//
// An io_op lives in the awaiting coroutine's frame (no allocation) and owns
// what the kernel reads or writes (buffer, path, statx) until its completion
// has been reaped, cancellation included: the awaiter never resumes before.
// The backend fills `result` (a count, a descriptor, 0, or -errno) and calls
// `complete` on the loop thread.
//
// Backends: io_uring prepares one SQE per op and cancels with
// IORING_OP_ASYNC_CANCEL; epoll tries a non-blocking fast path where the
// kernel has one (preadv2/pwritev2 with RWF_NOWAIT, openat2 with
// RESOLVE_CACHED) and otherwise runs the system call on the loop's thread
// pool, where a job not yet started can be withdrawn.
#pragma once

#include <cstdint>

#include <corio/detail/event_loop.hpp>
#include <corio/detail/thread_pool.hpp>

struct statx;

namespace corio::detail {

enum class io_opcode : std::uint8_t {
    read,      // fd, buffer, length, offset (-1: the file position)
    write,     // fd, buffer, length, offset (-1: the file position)
    openat,    // dir_fd, path, flags, mode
    close,     // fd
    statx,     // dir_fd, path, flags (AT_*), mask, statx_buffer
    fsync,     // fd, flags (IORING_FSYNC_DATASYNC for fdatasync)
    renameat,  // dir_fd, path, dir_fd2, path2
    unlinkat,  // dir_fd, path, flags (AT_REMOVEDIR)
    mkdirat,   // dir_fd, path, mode
    // Sockets (always O_NONBLOCK): epoll tries the call at once and otherwise
    // waits for readiness (edge-triggered, registered once per socket).
    recv,     // fd, buffer, length, flags (MSG_*)
    send,     // fd, buffer, length, flags (MSG_NOSIGNAL is always added)
    recvmsg,  // fd, buffer = msghdr*, flags
    sendmsg,  // fd, buffer = msghdr*, flags (MSG_NOSIGNAL is always added)
    accept,   // fd, buffer = sockaddr*, address_length; multishot where asked
    connect,  // fd, buffer = sockaddr*, length = its size
    poll,     // fd, mode = POLLIN or POLLOUT; result: the events seen
};

struct io_op : pool_job, remote_completion {
    io_opcode code = io_opcode::read;
    int fd = -1;  // or the directory descriptor of *at operations
    int fd2 = -1;
    void* buffer = nullptr;
    std::uint32_t length = 0;
    std::int64_t offset = -1;
    const char* path = nullptr;
    const char* path2 = nullptr;
    int flags = 0;
    std::uint32_t mode = 0;  // openat's mode, statx's mask
    struct statx* statx_buffer = nullptr;
    bool may_poll = true;  // false for regular files: epoll cannot wait for them
    // A close with nothing to write back (a read-only file): quick even on
    // network filesystems, so a backend may do it inline.
    bool quick_close = false;
    // A stream socket: a read that returns less than asked drained it, so
    // the epoll backend can wait for readiness without trying first.
    bool stream_socket = false;
    // accept: keep accepting (io_uring's multishot accept; on epoll the op
    // stays parked). `complete` then runs once per connection with `more`
    // true, and a last time with `more` false (an error or cancellation).
    bool multishot = false;
    bool more = false;
    std::uint32_t* address_length = nullptr;  // accept's socklen_t

    std::int64_t result = 0;
    void (*complete)(io_op*) noexcept = nullptr;  // on the loop thread
    event_loop* loop = nullptr;                   // set by a backend that posts from the pool
};

}  // namespace corio::detail
