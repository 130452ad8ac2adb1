// graceful_shutdown: Ctrl-C (SIGINT) or SIGTERM cancels the main task, its
// exits run (the connection is closed, the journal flushed), and the program
// leaves as a program killed by that signal does (status 130 for SIGINT in a
// shell), which is what asyncio.run does with KeyboardInterrupt.
//
// The Python original:
//
//     async def main():
//         async with open_journal() as journal:      # its exit flushes
//             while True:
//                 await journal.write('tick')
//                 await asyncio.sleep(0.02)
//
//     asyncio.run(main())    # Ctrl-C: CancelledError in main, exits run, then KeyboardInterrupt
//
// So that `make demo` can check it, this program sends itself SIGINT after a
// few ticks; in real life you press Ctrl-C or `kill -TERM` it. SIGHUP shows
// an ordinary handler (a config reload) that does not stop anything.
#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

struct journal {
    int pending = 0;
};

corio::context_manager<journal&> open_journal() {
    journal j;
    std::printf("journal opened\n");
    bool cancelled = false;
    try {
        co_yield j;
    } catch (const corio::cancelled_error&) {
        cancelled = true;  // C++ allows no co_await in a catch block
    }
    if (cancelled) std::printf("main task cancelled: flushing the journal\n");
    j.pending = 0;
    co_await corio::sleep(10ms);  // exits may await: they are shielded
    std::printf("journal closed\n");
    if (cancelled) throw corio::cancelled_error{};
}

corio::task<int> amain() {
    corio::add_signal_handler(SIGHUP, [] { std::printf("SIGHUP: reloading the configuration\n"); });
    auto press_ctrl_c = []() -> corio::task<> {
        co_await corio::sleep(60ms);
        ::kill(::getpid(), SIGHUP);
        co_await corio::sleep(60ms);
        ::kill(::getpid(), SIGINT);
    };
    auto keyboard = corio::spawn(press_ctrl_c());
    co_await corio::with(open_journal(), [](journal& j) -> corio::task<> {
        for (;;) {
            ++j.pending;
            co_await corio::sleep(20ms);
        }
    });
    co_return 0;  // never reached: the loop never ends by itself
}

int main() {
    corio::run_options options;
    options.shutdown_signals = {SIGINT, SIGTERM};
    return corio::run(amain(), options);
}
