// One registered exit, and the one unwinder that runs a chain of them.
//
// Every exit corio runs for the user is an exit_record: a manager entered by
// `enter` or `exit_stack::enter`, an `exit_stack` callback or push_exit, a
// `finally`, and each manager of a several-manager `with`. A coroutine's
// records (`enter`, `finally`) hang from its promise; an exit_stack holds its
// own chain. `unwind_exits` runs a chain under the rules every exit follows:
// last registered first; each sees the exception the previous ones left;
// each is shielded from the cancellations in effect when it starts (a later
// one still applies); true from it suppresses that exception when the caller
// allows it (exit_stack, with; not enter and finally); an exception it throws
// replaces the one it saw. Records live in frame-cache memory
// (make_exit_record) unless the owner keeps one in its own frame.
#pragma once

#include <exception>
#include <new>
#include <utility>

#include <corio/detail/frame_allocator.hpp>
#include <corio/detail/source_location.hpp>

namespace corio {
template <class T>
class task;  // task.hpp, a public header, is built on detail/
}  // namespace corio

namespace corio::detail {

struct exit_record {
    exit_record* next = nullptr;  // the one registered before
    // Awaits the exit with `error`; true asks to suppress it.
    task<bool> (*exit)(exit_record* self, std::exception_ptr error) = nullptr;
    // Destroys the record and frees its memory (null: the owner's frame holds it).
    void (*destroy)(exit_record* self) noexcept = nullptr;
    source_location where;
};

/// Runs the chain from `top` (emptying it as it goes) and gives the
/// exception left at the end: null when there was none, or when an exit
/// suppressed it and `may_suppress`. Never throws (beyond a frame that cannot
/// be allocated).
task<std::exception_ptr> unwind_exits(exit_record*& top, std::exception_ptr error, bool may_suppress);

/// Frees a chain without running it (a coroutine frame or a stack destroyed
/// with exits still registered).
inline void drop_exits(exit_record*& top) noexcept {
    while (exit_record* r = top) {
        top = r->next;
        if (r->destroy != nullptr) r->destroy(r);
    }
}

/// Debug mode: "`owner` destroyed with N exits registered and never run",
/// naming where the last one was registered.
void report_dropped_exits(const char* owner, const exit_record* top) noexcept;

template <class Record>
void destroy_exit_record(exit_record* self) noexcept {
    auto* me = static_cast<Record*>(self);
    me->~Record();
    deallocate_frame(me, sizeof(Record));
}

/// A Record built in frame-cache memory; the memory is freed if it throws.
template <class Record, class... A>
Record* make_exit_record(A&&... args) {
    void* p = allocate_frame(sizeof(Record));
    try {
        return new (p) Record(std::forward<A>(args)...);
    } catch (...) {
        deallocate_frame(p, sizeof(Record));
        throw;
    }
}

}  // namespace corio::detail
