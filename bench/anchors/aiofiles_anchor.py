#!/usr/bin/python3
"""File I/O throughput with aiofiles, the Python anchor of corio's file benchmarks.

    /usr/bin/python3 bench/anchors/aiofiles_anchor.py --loop asyncio|uvloop MODE [options]

The same measurements as bench/fs_throughput.cpp (corio_fs_bench), with
Debian's python3-aiofiles on the asyncio loop or on uvloop (aiofiles runs
every file call in the loop's default thread pool executor, whichever loop):
  read       aiofiles.open(F, "rb"); await f.read(--chunk) until b""; close
  write      unlink F; aiofiles.open(F, "wb"); await f.write(chunk) until --size bytes; close (no fsync)
  manyfiles  DIR/f00000 .. f<count-1>: open "rb", await f.read(), close;
             --concurrency workers pull the next index from a shared counter
  lines      aiofiles.open(F, "rb"); `async for line in f` counts lines; close

Prints one JSON line per mode, with the same fields as corio_fs_bench:
  {"impl": "aiofiles", "loop": "asyncio", "op": "read", "chunk": 4096, "bytes": N,
   "unit": "MB/s", "median": ..., "samples": [...], "seconds": [...]}
MB/s is 10^6 bytes per second; files/s for manyfiles. Each sample is timed
with time.perf_counter from before the open to after the close, inside one
loop that lives for the whole run; --warmup untimed repetitions come first.
Each repetition checks its work (bytes read equal the file size, lines equal
--expect-lines, the written file's size) and exits 1 if not. Repetitions stop
after --repeat, or once the timed ones have taken --max-seconds.
"""
import argparse
import asyncio
import json
import os
import statistics
import sys
import time

import aiofiles


def fail(msg):
    print(f"aiofiles_anchor: {msg}", file=sys.stderr)
    sys.exit(1)


def parse_size(s):
    mul = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(s[-1:].upper(), 1)
    return int(s[:-1] if mul != 1 else s) * mul


async def do_read(path, chunk):
    t0 = time.perf_counter()
    total = 0
    async with aiofiles.open(path, "rb") as f:
        while True:
            b = await f.read(chunk)
            if not b:
                break
            total += len(b)
    return time.perf_counter() - t0, total


async def do_write(path, chunk, size):
    data = b"x" * chunk
    t0 = time.perf_counter()
    async with aiofiles.open(path, "wb") as f:
        done = 0
        while done < size:
            piece = data if size - done >= chunk else data[: size - done]
            await f.write(piece)
            done += len(piece)
    return time.perf_counter() - t0, done


async def do_manyfiles(paths, concurrency):
    state = {"next": 0, "files": 0, "bytes": 0}

    async def worker():
        while state["next"] < len(paths):
            p = paths[state["next"]]
            state["next"] += 1
            async with aiofiles.open(p, "rb") as f:
                data = await f.read()
            state["bytes"] += len(data)
            state["files"] += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - t0, state


async def do_lines(path):
    t0 = time.perf_counter()
    lines = total = 0
    async with aiofiles.open(path, "rb") as f:
        async for line in f:
            lines += 1
            total += len(line)
    return time.perf_counter() - t0, lines, total


def new_loop(kind):
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    p.add_argument("mode", choices=["read", "write", "manyfiles", "lines"])
    p.add_argument("--file")
    p.add_argument("--dir")
    p.add_argument("--chunk", default="1M")
    p.add_argument("--size", default="0")
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--expect-lines", type=int, default=-1)
    p.add_argument("--max-seconds", type=float, default=30)
    args = p.parse_args()
    chunk, size = parse_size(args.chunk), parse_size(args.size)

    loop = new_loop(args.loop)
    asyncio.set_event_loop(loop)
    unit, work, extra = "MB/s", 0, {}

    if args.mode == "read":
        expect = os.path.getsize(args.file)
        work = expect

        def one():
            dt, got = loop.run_until_complete(do_read(args.file, chunk))
            if got != expect:
                fail(f"read: {got} bytes, expected {expect}")
            return dt
        op = "read"
    elif args.mode == "write":
        if size <= 0:
            fail("write needs --size")
        work = size

        def one():
            try:
                os.unlink(args.file)
            except FileNotFoundError:
                pass
            dt, _ = loop.run_until_complete(do_write(args.file, chunk, size))
            if os.path.getsize(args.file) != size:
                fail(f"write: the file has {os.path.getsize(args.file)} bytes, expected {size}")
            return dt
        op = "write"
    elif args.mode == "manyfiles":
        paths = [os.path.join(args.dir, f"f{i:05d}") for i in range(args.count)]
        expect = sum(os.path.getsize(x) for x in paths)
        work, unit = len(paths), "files/s"
        extra = {"files": len(paths), "concurrency": args.concurrency}

        def one():
            dt, st = loop.run_until_complete(do_manyfiles(paths, args.concurrency))
            if st["files"] != len(paths) or st["bytes"] != expect:
                fail(f"manyfiles: {st['files']} files, {st['bytes']} bytes; expected {len(paths)}, {expect}")
            return dt
        op = "manyfiles"
    else:
        expect = os.path.getsize(args.file)
        work = expect
        extra = {"lines": args.expect_lines}

        def one():
            dt, lines, got = loop.run_until_complete(do_lines(args.file))
            if got != expect or (args.expect_lines >= 0 and lines != args.expect_lines):
                fail(f"lines: {lines} lines, {got} bytes; expected {args.expect_lines}, {expect}")
            return dt
        op = "lines"

    for _ in range(args.warmup):
        one()
    seconds = []
    for _ in range(max(1, args.repeat)):
        seconds.append(one())
        if sum(seconds) > args.max_seconds:
            break
    if args.mode == "write":
        os.unlink(args.file)
    scale = 1 if unit == "files/s" else 1e6
    rates = [work / s / scale for s in seconds]
    out = {"impl": "aiofiles", "loop": args.loop, "op": op, "chunk": chunk,
           "bytes": size if args.mode == "write" else expect, "unit": unit,
           "median": round(statistics.median(rates), 1), "samples": [round(r, 1) for r in rates],
           "seconds": [round(s, 5) for s in seconds], **extra}
    print(json.dumps(out), flush=True)
    loop.close()


if __name__ == "__main__":
    main()
