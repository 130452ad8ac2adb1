// The loop's pool of threads for blocking work (`to_thread`, and later the
// epoll backend's file operations, as aiofiles and libuv do).
//
// A job is an intrusive node, usually inside the awaiting coroutine's frame,
// so submitting one allocates nothing. Workers start lazily, up to
// `max_threads`, and are joined when the loop ends. A worker that runs out of
// jobs polls for a new one for a few microseconds before it sleeps: waking a
// sleeping thread costs tens of microseconds on a virtual machine, more than
// a page-cache write of 1 MiB leaves between two jobs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

namespace corio::detail {

struct pool_job {
    pool_job* next = nullptr;
    void (*run)(pool_job*) noexcept = nullptr;  // runs on a worker thread
};

class thread_pool {
public:
    explicit thread_pool(std::size_t max_threads);
    ~thread_pool();
    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;

    void submit(pool_job* job);
    /// Takes `job` back if no worker has started it yet.
    bool withdraw(pool_job* job) noexcept;

private:
    void work();

    std::mutex mutex_;
    std::condition_variable ready_;
    pool_job* head_ = nullptr;
    pool_job* tail_ = nullptr;
    std::size_t idle_ = 0;                // workers asleep on `ready_`
    std::size_t wakeups_ = 0;             // of those, woken for a job and not yet up
    std::size_t spinning_ = 0;            // workers polling `queued_` before they sleep
    std::atomic<std::size_t> queued_{0};  // jobs in the list, readable without the lock
    std::size_t max_threads_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace corio::detail
