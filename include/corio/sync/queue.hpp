// corio/sync/queue.hpp: queue<T>, priority_queue<T, Compare>, lifo_queue<T>
// (asyncio.Queue, PriorityQueue, LifoQueue, with Python 3.13's shutdown).
//
// put/get (awaited), put_nowait/get_nowait, task_done/join, size/empty/full,
// shutdown(immediate); `while (auto v = co_await q.next())` iterates until
// shut down and drained. maxsize 0: unbounded.
// Fairness: getters and putters are each served FIFO: put() hands its item
// straight to the first waiting getter, and a freed slot is kept for the
// first waiting putter. Allocation: only the items' storage (deque, vector).
// Throws: queue_full / queue_empty (the _nowait forms), queue_shut_down,
// std::logic_error (task_done once too often), cancelled_error.
// Cancel safety: in a cancelled scope get/put/join throw having taken or put
// nothing; a cancelled waiter takes nothing; a getter woken with an item and
// cancelled before it runs puts it back at the head (or hands it to the next
// getter); a putter woken for a slot and cancelled leaves its item out and
// the slot to the next putter. Destroying a queue with waiters is undefined.
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <corio/detail/event_loop.hpp>
#include <corio/detail/fiber.hpp>
#include <corio/errors.hpp>
#include <corio/sync/waiter_queue.hpp>

namespace corio {

/// put_nowait on a full queue (asyncio.QueueFull).
class queue_full : public std::runtime_error {
public:
    queue_full() : std::runtime_error("queue_full: the queue is full") {}
    using std::runtime_error::runtime_error;
};

/// get_nowait on an empty queue (asyncio.QueueEmpty).
class queue_empty : public std::runtime_error {
public:
    queue_empty() : std::runtime_error("queue_empty: the queue is empty") {}
    using std::runtime_error::runtime_error;
};

/// put on a shut-down queue, or get on one shut down and drained
/// (asyncio.QueueShutDown).
class queue_shut_down : public std::runtime_error {
public:
    queue_shut_down() : std::runtime_error("queue_shut_down: the queue is shut down") {}
    using std::runtime_error::runtime_error;
};

namespace detail {

// ---- item storage: which item is "the head" is all that differs.

template <class T>
class fifo_storage {
public:
    static constexpr const char* name = "queue";
    bool empty() const noexcept { return items_.empty(); }
    std::size_t size() const noexcept { return items_.size(); }
    void push(T&& v) { items_.push_back(std::move(v)); }
    /// Back to where pop() took it from.
    void push_head(T&& v) { items_.push_front(std::move(v)); }
    T pop() {
        T v = std::move(items_.front());
        items_.pop_front();
        return v;
    }
    void clear() noexcept { items_.clear(); }

private:
    std::deque<T> items_;
};

template <class T>
class lifo_storage {
public:
    static constexpr const char* name = "lifo_queue";
    bool empty() const noexcept { return items_.empty(); }
    std::size_t size() const noexcept { return items_.size(); }
    void push(T&& v) { items_.push_back(std::move(v)); }
    void push_head(T&& v) { items_.push_back(std::move(v)); }  // the top is the head
    T pop() {
        T v = std::move(items_.back());
        items_.pop_back();
        return v;
    }
    void clear() noexcept { items_.clear(); }

private:
    std::vector<T> items_;
};

template <class T, class Compare>
class heap_storage {
public:
    static constexpr const char* name = "priority_queue";
    explicit heap_storage(Compare c) : compare_(std::move(c)) {}
    bool empty() const noexcept { return items_.empty(); }
    std::size_t size() const noexcept { return items_.size(); }
    void push(T&& v) {
        items_.push_back(std::move(v));
        std::push_heap(items_.begin(), items_.end(), later());
    }
    void push_head(T&& v) { push(std::move(v)); }  // the smallest is the head anyway
    T pop() {
        std::pop_heap(items_.begin(), items_.end(), later());
        T v = std::move(items_.back());
        items_.pop_back();
        return v;
    }
    void clear() noexcept { items_.clear(); }

private:
    // std:: heaps put the largest first; inverting the order puts the
    // smallest per Compare first, as heapq does.
    auto later() {
        return [this](const T& a, const T& b) { return compare_(b, a); };
    }
    std::vector<T> items_;
    Compare compare_;
};

/// The queue machinery, shared by queue, priority_queue and lifo_queue.
template <class T, class Storage>
class basic_queue {
    // What get() and next() share; they differ only in how they end. A grant
    // is an item, handed over in item_.
    class getter_base : public waiter<getter_base> {
    public:
        explicit getter_base(basic_queue& q) noexcept : q_(&q) {}

    protected:
        /// True with the item in item_, false when shut down and drained;
        /// cancelled_error (putting a received item back at the head first).
        bool received() {
            switch (this->finish()) {
            case wait_state::granted:
                --q_->in_transit_;
                q_->grant_putters();  // our item has left the queue: its slot is free
                return true;
            case wait_state::shut_down: return false;
            default: return true;
            }
        }
        basic_queue* q_;
        std::optional<T> item_;

    private:
        friend class basic_queue;
        friend class waiter<getter_base>;
        operation_name operation() const noexcept { return {Storage::name, "get"}; }
        waiter_fifo<getter_base>& fifo() noexcept { return q_->getters_; }
        wait_state try_now() {
            // Items available imply no getter waits (put() hands items to
            // waiting getters first), so this does not overtake anyone.
            if (!q_->items_.empty()) {
                item_.emplace(q_->items_.pop());
                q_->grant_putters();
                return wait_state::ready;
            }
            return q_->shutdown_ ? wait_state::shut_down : wait_state::waiting;
        }
        void pass_on() {
            --q_->in_transit_;
            q_->give_back(std::move(*item_));
            item_.reset();
        }
    };

public:
    using value_type = T;

    // ---- awaiters

    /// `co_await q.put(v)`.
    class put_awaiter : public waiter<put_awaiter> {
    public:
        put_awaiter(basic_queue& q, T item) : q_(&q), item_(std::move(item)) {}
        // A grant is a slot kept for item_ (counted in reserved_).
        void await_resume() {
            switch (this->finish()) {
            case wait_state::granted:
                --q_->reserved_;
                if (q_->shutdown_) throw q_->shut_down_error("put", false);
                q_->deliver(std::move(item_));
                return;
            case wait_state::shut_down: throw q_->shut_down_error("put", false);
            default: return;
            }
        }

    private:
        friend class basic_queue;
        friend class waiter<put_awaiter>;
        operation_name operation() const noexcept { return {Storage::name, "put"}; }
        waiter_fifo<put_awaiter>& fifo() noexcept { return q_->putters_; }
        wait_state try_now() {
            if (q_->shutdown_) return wait_state::shut_down;
            // Not full implies no putter waits (a freed slot goes to the
            // first putter), so this does not overtake anyone.
            if (q_->full()) return wait_state::waiting;
            q_->deliver(std::move(item_));
            return wait_state::ready;
        }
        void pass_on() noexcept {
            --q_->reserved_;
            q_->grant_putters();  // the slot goes to the next putter
        }
        basic_queue* q_;
        T item_;
    };

    /// `co_await q.get()`: the item; queue_shut_down once shut down and drained.
    class get_awaiter : public getter_base {
    public:
        using getter_base::getter_base;
        T await_resume() {
            if (!this->received()) throw this->q_->shut_down_error("get", true);
            return std::move(*this->item_);
        }
    };

    /// `co_await q.next()`: as get(), but nullopt instead of queue_shut_down.
    class next_awaiter : public getter_base {
    public:
        using getter_base::getter_base;
        std::optional<T> await_resume() {
            if (!this->received()) return std::nullopt;
            return std::move(this->item_);
        }
    };

    /// `co_await q.join()`: waits until every item put has been task_done().
    class join_awaiter : public waiter<join_awaiter> {
    public:
        explicit join_awaiter(basic_queue& q) noexcept : q_(&q) {}
        // Every joiner is woken together: nothing to pass on.
        void await_resume() { (void)this->finish(); }

    private:
        friend class waiter<join_awaiter>;
        operation_name operation() const noexcept { return {Storage::name, "join"}; }
        waiter_fifo<join_awaiter>& fifo() noexcept { return q_->joiners_; }
        wait_state try_now() const noexcept {
            return q_->unfinished_ == 0 ? wait_state::ready : wait_state::waiting;
        }
        basic_queue* q_;
    };

    basic_queue(const basic_queue&) = delete;
    basic_queue& operator=(const basic_queue&) = delete;

    // ---- putting

    /// Puts `item`, waiting while the queue is full (FIFO among putters).
    [[nodiscard]] put_awaiter put(T item) { return put_awaiter(*this, std::move(item)); }

    /// Puts `item` now: queue_full when full, queue_shut_down after shutdown().
    void put_nowait(T item) {
        if (shutdown_) throw shut_down_error("put_nowait", false);
        if (full())
            throw queue_full(std::string(Storage::name) + "::put_nowait: queue is full (maxsize " +
                             std::to_string(maxsize_) + ")");
        deliver(std::move(item));
    }

    // ---- getting

    /// Takes the head item, waiting while the queue is empty (FIFO among getters).
    [[nodiscard]] get_awaiter get() noexcept { return get_awaiter(*this); }
    /// `__anext__`: the head item, or nullopt once shut down and drained.
    [[nodiscard]] next_awaiter next() noexcept { return next_awaiter(*this); }

    /// Takes the head item now: queue_empty when there is none, or
    /// queue_shut_down when shut down and drained.
    T get_nowait() {
        if (items_.empty()) {
            if (shutdown_) throw shut_down_error("get_nowait", true);
            throw queue_empty(std::string(Storage::name) + "::get_nowait: queue is empty");
        }
        T v = items_.pop();
        grant_putters();
        return v;
    }

    // ---- joining

    /// Marks one item taken earlier as processed; when every item put has
    /// been, join() returns. std::logic_error when called more often than
    /// items were put.
    void task_done() {
        if (unfinished_ == 0) [[unlikely]]
            throw std::logic_error(std::string(Storage::name) +
                                   "::task_done: called more times than there were items put");
        finish_one();
    }
    /// Waits until every item put has been marked task_done().
    [[nodiscard]] join_awaiter join() noexcept { return join_awaiter(*this); }

    // ---- shutting down

    /// Python 3.13's Queue.shutdown: from now on put() throws queue_shut_down
    /// and get() throws it once the queue is drained; blocked putters (and
    /// getters, the queue being empty) wake with queue_shut_down.
    /// `immediate` also discards the items, counting each as task_done(),
    /// so get() throws at once. An item already handed to a woken getter is
    /// still delivered. Calling it again is allowed (to make it immediate).
    void shutdown(bool immediate = false) {
        shutdown_ = true;
        if (immediate) {
            immediate_ = true;
            while (!items_.empty()) {
                (void)items_.pop();
                if (unfinished_ > 0) finish_one();
            }
        }
        getters_.wake_all(wait_state::shut_down);
        putters_.wake_all(wait_state::shut_down);
    }
    bool is_shut_down() const noexcept { return shutdown_; }

    // ---- state

    /// Items get_nowait() could take now. An item handed to a woken getter
    /// that has not run yet is no longer counted (nobody else can take it).
    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    /// True when put_nowait() would throw queue_full: the items, those on
    /// their way to woken getters and the slots kept for woken putters fill
    /// maxsize. Never true for an unbounded queue.
    bool full() const noexcept { return maxsize_ != 0 && items_.size() + in_transit_ + reserved_ >= maxsize_; }
    /// 0: unbounded.
    std::size_t maxsize() const noexcept { return maxsize_; }
    /// Items put and not yet task_done().
    std::size_t unfinished_tasks() const noexcept { return unfinished_; }
    /// Tasks blocked in get()/next() and in put().
    std::size_t getters() const noexcept { return getters_.size(); }
    std::size_t putters() const noexcept { return putters_.size(); }

protected:
    explicit basic_queue(std::size_t maxsize, Storage storage = Storage())
        : items_(std::move(storage)), maxsize_(maxsize) {}
    ~basic_queue() = default;

private:
    /// Puts an admitted item: straight to the first waiting getter, else
    /// into the storage.
    void deliver(T&& v) {
        if (!hand_to_getter(v)) items_.push(std::move(v));
        ++unfinished_;
    }

    /// A getter woken with `v` was cancelled before it ran: `v` goes back to
    /// the head (to the next getter if one waits), or is discarded and
    /// counted done after shutdown(true).
    void give_back(T&& v) {
        if (immediate_) {
            if (unfinished_ > 0) finish_one();
            return;
        }
        if (!hand_to_getter(v)) items_.push_head(std::move(v));
    }

    /// Moves `v` to the first waiting getter and wakes it; false (`v`
    /// untouched) when no getter waits.
    bool hand_to_getter(T& v) {
        getter_base* g = getters_.front();
        if (g == nullptr) return false;
        g->item_.emplace(std::move(v));  // before the pop: if T's move throws, g still waits
        getters_.pop_front();
        ++in_transit_;
        g->wake(wait_state::granted);
        return true;
    }

    /// A slot was freed: keep it for the first waiting putter.
    void grant_putters() noexcept {
        while (!putters_.empty() && !full()) {
            ++reserved_;
            putters_.pop_front()->wake(wait_state::granted);
        }
    }

    void finish_one() noexcept {
        if (--unfinished_ != 0) return;
        joiners_.wake_all(wait_state::granted);
    }

    queue_shut_down shut_down_error(const char* op, bool getting) const {
        return queue_shut_down(std::string(Storage::name) + "::" + op + ": queue is shut down" +
                               (getting ? " and empty" : ""));
    }

    Storage items_;
    std::size_t maxsize_;
    std::size_t in_transit_ = 0;  // items handed to woken getters that have not run yet
    std::size_t reserved_ = 0;    // free slots kept for woken putters that have not run yet
    std::size_t unfinished_ = 0;  // put and not yet task_done()
    waiter_fifo<getter_base> getters_;
    waiter_fifo<put_awaiter> putters_;
    waiter_fifo<join_awaiter> joiners_;
    bool shutdown_ = false;
    bool immediate_ = false;
};

}  // namespace detail

/// First in, first out (asyncio.Queue). maxsize 0: unbounded.
template <class T>
class queue : public detail::basic_queue<T, detail::fifo_storage<T>> {
public:
    explicit queue(std::size_t maxsize = 0) : detail::basic_queue<T, detail::fifo_storage<T>>(maxsize) {}
};

/// Smallest first per `Compare` (asyncio.PriorityQueue; heapq order).
/// A getter that waited receives the item whose put() woke it.
template <class T, class Compare = std::less<T>>
class priority_queue : public detail::basic_queue<T, detail::heap_storage<T, Compare>> {
public:
    explicit priority_queue(std::size_t maxsize = 0, Compare compare = Compare())
        : detail::basic_queue<T, detail::heap_storage<T, Compare>>(
              maxsize, detail::heap_storage<T, Compare>(std::move(compare))) {}
};

/// Last in, first out (asyncio.LifoQueue).
/// A getter that waited receives the item whose put() woke it.
template <class T>
class lifo_queue : public detail::basic_queue<T, detail::lifo_storage<T>> {
public:
    explicit lifo_queue(std::size_t maxsize = 0) : detail::basic_queue<T, detail::lifo_storage<T>>(maxsize) {}
};

}  // namespace corio
