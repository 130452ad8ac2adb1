// corio/run.hpp: run(main), asyncio.run.
//
// `run` makes a fresh event loop on this thread, runs `main` to its end,
// then cancels every task still running and waits for them (their exits
// run), and returns main's value or rethrows its exception. `run` inside a
// running loop throws std::logic_error. If every task ends up waiting on
// another with nothing left that could wake them, run cancels them all so
// their exits run, then throws std::logic_error naming the deadlock. With
// `shutdown_signals`, such a signal cancels main; when everything has ended,
// the signal is raised again and the process ends as it would have.
#pragma once

#include <stdexcept>

#include <corio/detail/event_loop.hpp>
#include <corio/runtime/run_options.hpp>
#include <corio/task.hpp>

namespace corio {

template <class T>
T run(task<T> main, run_options options = {}) {
    if (!main.valid()) throw std::logic_error("run: the main task is empty (moved-from)");
    if (detail::tls_loop != nullptr) [[unlikely]]
        detail::close_unstarted(main);  // the loop's constructor throws: no "never awaited" report beside it
    detail::event_loop loop(options);
    auto h = main.release();
    detail::fiber* f = loop.start_fiber(h, &h.promise(), nullptr, {});
    f->set_refs(2);  // the loop's, and ours until the result is taken
    f->set_result_retrieved();
    struct release_on_exit {
        detail::fiber* f;
        ~release_on_exit() { detail::event_loop::release(f); }
    } guard{f};
    loop.run(f);
    if (loop.shutdown_signal() != 0) loop.end_by_signal();  // run_options::shutdown_signals
    if (loop.deadlock_detected())
        throw std::logic_error(
            "run: deadlock: every task was waiting and nothing could wake them; they were cancelled");
    return h.promise().take();
}

}  // namespace corio
