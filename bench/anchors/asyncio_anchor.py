#!/usr/bin/python3
"""The benchmark operations written with Python asyncio, the anchor corio is compared to.

    /usr/bin/python3 bench/anchors/asyncio_anchor.py --loop asyncio|uvloop [--quick] [--only OP ...]

Prints one line per operation, `name value`: ns per operation (median of the
repetitions), or MiB for the memory line. Lines starting with '#' are comments.
Each repetition runs the operation n times inside one event loop, timed with
time.process_time_ns (CPU time: the machines are shared; the wall time from
time.perf_counter_ns is printed as a comment); n is calibrated so that a
repetition takes about --target-ms milliseconds.

The operations, with the same names and definitions as bench/core_*.cpp,
bench/sync_*.cpp and bench/anchors/asio_anchor.cpp:
  with_class_manager     async with of a trivial class manager (aenter + empty body + aexit)
  with_context_manager   async with of a trivial @asynccontextmanager
  spawn_join             create_task of a trivial coroutine + await it
  with_lock_uncontended  async with lock, nobody else wants it
  lock_handoff           per handoff: one task releases, the other (waiting) task takes it
  sleep0_round_trip      await asyncio.sleep(0)
  queue_ping_pong        per round trip: put to the other task, get its answer back
  async_generator_item   one item of async for over an async generator
  memory_1m_sleeping_tasks_mib  resident memory (VmRSS) with 1 000 000 tasks sleeping at once
(co_await of a trivial task has no asyncio equivalent: skipped.)
"""
import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time


# ---------------------------------------------------------------- operations
# CPU time of this process (the machines are shared: wall time also counts the
# time other processes had the core); measure() also reports wall time.
clock = time.process_time_ns

class TrivialManager:
    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return False


@contextlib.asynccontextmanager
async def trivial_context_manager():
    yield 1


async def trivial():
    pass


async def op_with_class_manager(n):
    t0 = clock()
    for _ in range(n):
        async with TrivialManager():
            pass
    return clock() - t0, n


async def op_with_context_manager(n):
    t0 = clock()
    for _ in range(n):
        async with trivial_context_manager():
            pass
    return clock() - t0, n


async def op_spawn_join(n):
    create_task = asyncio.create_task
    t0 = clock()
    for _ in range(n):
        await create_task(trivial())
    return clock() - t0, n


async def op_with_lock_uncontended(n):
    lock = asyncio.Lock()
    t0 = clock()
    for _ in range(n):
        async with lock:
            pass
    return clock() - t0, n


async def op_lock_handoff(n):
    # Two tasks pass the lock back and forth: each releases it while the other
    # waits in acquire(), then waits in acquire() itself (the lock is FIFO-fair,
    # so the released lock goes to the waiter). One handoff = one op.
    lock = asyncio.Lock()
    turns = [0, 0]

    async def worker(me):
        while turns[0] + turns[1] < n:
            turns[me] += 1
            lock.release()
            await lock.acquire()
        lock.release()

    async def partner():
        await lock.acquire()
        await worker(1)

    await lock.acquire()
    other = asyncio.create_task(partner())
    await asyncio.sleep(0)  # the other task now waits in acquire()
    t0 = clock()
    await worker(0)
    elapsed = clock() - t0
    await other
    if abs(turns[0] - turns[1]) > 1:
        raise RuntimeError(f"the lock was not handed over: turns {turns}")
    return elapsed, n


async def op_sleep0_round_trip(n):
    sleep = asyncio.sleep
    t0 = clock()
    for _ in range(n):
        await sleep(0)
    return clock() - t0, n


async def op_queue_ping_pong(n):
    # One round trip = put a value to the other task, get its answer back.
    ping, pong = asyncio.Queue(), asyncio.Queue()

    async def ponger():
        for _ in range(n):
            v = await ping.get()
            await pong.put(v)

    other = asyncio.create_task(ponger())
    t0 = clock()
    for i in range(n):
        await ping.put(i)
        await pong.get()
    elapsed = clock() - t0
    await other
    return elapsed, n


async def counter(n):
    for i in range(n):
        yield i


async def op_async_generator_item(n):
    t0 = clock()
    async for _ in counter(n):
        pass
    return clock() - t0, n


OPS = {
    "with_class_manager": op_with_class_manager,
    "with_context_manager": op_with_context_manager,
    "spawn_join": op_spawn_join,
    "with_lock_uncontended": op_with_lock_uncontended,
    "lock_handoff": op_lock_handoff,
    "sleep0_round_trip": op_sleep0_round_trip,
    "queue_ping_pong": op_queue_ping_pong,
    "async_generator_item": op_async_generator_item,
}


# ---------------------------------------------------------------- memory
def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


async def memory_sleeping_tasks(count):
    async def sleeper():
        await asyncio.sleep(3600)

    before = status_kib("VmRSS")
    tasks = [asyncio.create_task(sleeper()) for _ in range(count)]
    await asyncio.sleep(0)  # every task now sleeps on the loop's timer heap
    await asyncio.sleep(0)
    during = status_kib("VmRSS")
    peak = status_kib("VmHWM")
    return before, during, peak, tasks


# ---------------------------------------------------------------- driver
def new_loop(kind):
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def measure(loop, fn, target_ns, reps):
    # Calibrate n so that one repetition takes about target_ns.
    n = 100
    while True:
        elapsed, _ = loop.run_until_complete(fn(n))
        if elapsed >= target_ns / 4 or n >= 50_000_000:
            break
        n *= 4
    n = max(100, int(n * target_ns / max(elapsed, 1)))
    samples, walls = [], []
    for _ in range(reps):
        w0 = time.perf_counter_ns()
        elapsed, ops = loop.run_until_complete(fn(n))
        walls.append((time.perf_counter_ns() - w0) / ops)
        samples.append(elapsed / ops)
    return statistics.median(samples), min(samples), max(samples), n, statistics.median(walls)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    p.add_argument("--quick", action="store_true", help="fewer repetitions, shorter runs")
    p.add_argument("--reps", type=int, default=None, help="repetitions (default 7, 3 with --quick)")
    p.add_argument("--target-ms", type=float, default=None, help="duration of one repetition")
    p.add_argument("--tasks", type=int, default=1_000_000, help="tasks for the memory measurement")
    p.add_argument("--only", nargs="*", default=None, help="operations to run (names above, or 'memory')")
    args = p.parse_args()

    reps = args.reps or (3 if args.quick else 7)
    target_ns = int((args.target_ms or (30 if args.quick else 100)) * 1e6)
    wanted = args.only if args.only else list(OPS) + ["memory"]
    for name in wanted:
        if name != "memory" and name not in OPS:
            sys.exit(f"unknown operation {name!r}; known: {', '.join(OPS)}, memory")

    loop = new_loop(args.loop)
    asyncio.set_event_loop(loop)
    print(f"# {args.loop} loop {type(loop).__module__}.{type(loop).__name__}, python {sys.version.split()[0]}, "
          f"{reps} repetitions of ~{target_ns / 1e6:.0f} ms, CPU ns per op: median (min, max, median wall)")
    for name in wanted:
        if name == "memory":
            continue
        med, lo, hi, n, wall = measure(loop, OPS[name], target_ns, reps)
        print(f"{name} {med:.1f}  # min {lo:.1f} max {hi:.1f} wall {wall:.1f} n {n}", flush=True)

    if "memory" in wanted:
        before, during, peak, tasks = loop.run_until_complete(memory_sleeping_tasks(args.tasks))
        print(f"# memory: {args.tasks} tasks sleeping: VmRSS before {before / 1024:.1f} MiB, "
              f"while sleeping {during / 1024:.1f} MiB, VmHWM {peak / 1024:.1f} MiB", flush=True)
        print(f"memory_1m_sleeping_tasks_mib {during / 1024:.1f}  # tasks {args.tasks}", flush=True)
        sys.stdout.flush()
        # Cancelling and collecting a million tasks takes longer than making
        # them and measures nothing: leave at once.
        os._exit(0)


if __name__ == "__main__":
    main()
