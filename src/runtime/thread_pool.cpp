// The worker threads of to_thread (detail/thread_pool.hpp): started on
// demand up to max_threads, each takes jobs FIFO and posts the completion
// back to the loop that submitted it. Threads wait a moment spinning before
// they sleep, so that a burst of short jobs does not pay a wake-up each.
#include <corio/detail/thread_pool.hpp>

#include <chrono>

namespace {
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}
}  // namespace

namespace corio::detail {

thread_pool::thread_pool(std::size_t max_threads) : max_threads_(max_threads == 0 ? 1 : max_threads) {}

thread_pool::~thread_pool() {
    {
        std::lock_guard<std::mutex> guard(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
}

void thread_pool::submit(pool_job* job) {
    bool start_thread = false;
    {
        std::lock_guard<std::mutex> guard(mutex_);
        job->next = nullptr;
        if (tail_ != nullptr) tail_->next = job;
        else head_ = job;
        tail_ = job;
        const std::size_t queued = queued_.fetch_add(1, std::memory_order_release) + 1;
        if (queued <= spinning_) return;  // a polling worker takes it
        // A sleeping worker already woken for an earlier job is not idle any
        // more: counting it (as this did) sent the next jobs' wake-ups to
        // nobody, and they waited for a busy worker while the pool had room
        // for more threads (to_thread calls that wait for each other hung).
        if (idle_ > wakeups_) {
            ++wakeups_;
        } else {
            start_thread = threads_.size() < max_threads_;
            if (start_thread) threads_.emplace_back([this] { work(); });
            else return;  // every worker is busy: the first to finish takes it
        }
    }
    if (!start_thread) ready_.notify_one();
}

bool thread_pool::withdraw(pool_job* job) noexcept {
    std::lock_guard<std::mutex> guard(mutex_);
    pool_job* prev = nullptr;
    for (pool_job* j = head_; j != nullptr; prev = j, j = j->next) {
        if (j != job) continue;
        if (prev != nullptr) prev->next = j->next;
        else head_ = j->next;
        if (tail_ == j) tail_ = prev;
        queued_.fetch_sub(1, std::memory_order_relaxed);
        return true;
    }
    return false;
}

void thread_pool::work() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        if (head_ == nullptr && !stopping_) {
            ++spinning_;
            lock.unlock();
            const auto give_up = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
            while (queued_.load(std::memory_order_acquire) == 0 && std::chrono::steady_clock::now() < give_up)
                for (int i = 0; i < 32; ++i) cpu_relax();
            lock.lock();
            --spinning_;
        }
        while (head_ == nullptr && !stopping_) {
            ++idle_;
            ready_.wait(lock, [this] { return wakeups_ != 0 || stopping_; });
            --idle_;
            if (wakeups_ != 0) --wakeups_;
        }
        if (head_ == nullptr) return;  // stopping, nothing left
        pool_job* job = head_;
        head_ = job->next;
        if (head_ == nullptr) tail_ = nullptr;
        queued_.fetch_sub(1, std::memory_order_relaxed);
        lock.unlock();
        job->run(job);
        lock.lock();
    }
}

}  // namespace corio::detail
