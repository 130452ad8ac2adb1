#!/usr/bin/python3
"""The Python anchor of the HTTP client benchmark (bench/compare_http.py):
the load of corio_http_load, written with aiohttp.

    /usr/bin/python3 bench/anchors/aiohttp_load.py --url URL [--tasks 50] [--seconds S]
        [--requests N] [--loop asyncio|uvloop] [--ca FILE] [--download]

`--tasks` tasks share one aiohttp.ClientSession (TCPConnector(limit=tasks));
each loops `async with session.get(url) as r: body = await r.read()`,
checking the status (200) and that every body has the same size, until
--seconds have passed or --requests responses have been read. First one
request per task, not counted (the connections are opened); then the
measured window. Prints `requests N seconds T req_per_s R`.

--download: one GET, its body streamed through `r.content.iter_any()`;
prints `bytes N seconds T mb_per_s R` (MB = 10^6 bytes).

--ca FILE: HTTPS verified against that CA (ssl.create_default_context(cafile=FILE)).
"""
import argparse
import asyncio
import ssl
import sys
import time

import aiohttp


class Shared:
    def __init__(self):
        self.deadline = 0.0
        self.max_requests = 0
        self.done = 0
        self.body_size = None


async def one_get(session, url, st):
    async with session.get(url) as r:
        body = await r.read()
        if r.status != 200:
            raise RuntimeError(f"status {r.status} from {url}")
        if st.body_size is None:
            st.body_size = len(body)
        if len(body) != st.body_size:
            raise RuntimeError(f"a body of {len(body)} bytes, not {st.body_size}")


async def worker(session, url, st):
    while st.done < st.max_requests and time.monotonic() < st.deadline:
        await one_get(session, url, st)
        st.done += 1


def connector(args):
    ctx = ssl.create_default_context(cafile=args.ca) if args.ca else None
    return aiohttp.TCPConnector(limit=args.tasks, ssl=ctx)  # None: the default verification


async def load(args):
    st = Shared()
    async with aiohttp.ClientSession(connector=connector(args)) as session:
        await asyncio.gather(*[one_get(session, args.url, st) for _ in range(args.tasks)])
        start = time.monotonic()
        st.deadline = start + args.seconds
        st.max_requests = args.requests
        await asyncio.gather(*[worker(session, args.url, st) for _ in range(args.tasks)])
        t = time.monotonic() - start
    print(f"requests {st.done} seconds {t:.4f} req_per_s {st.done / t:.1f}", flush=True)


async def download(args):
    n = 0
    async with aiohttp.ClientSession(connector=connector(args)) as session:
        start = time.monotonic()
        async with session.get(args.url) as r:
            if r.status != 200:
                raise RuntimeError(f"status {r.status} from {args.url}")
            async for piece in r.content.iter_any():
                n += len(piece)
        t = time.monotonic() - start
    print(f"bytes {n} seconds {t:.4f} mb_per_s {n / t / 1e6:.1f}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True)
    p.add_argument("--tasks", type=int, default=50)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--requests", type=int, default=100_000_000)
    p.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    p.add_argument("--ca", default=None)
    p.add_argument("--download", action="store_true")
    args = p.parse_args()
    if args.loop == "uvloop":
        import uvloop
        uvloop.install()
    try:
        asyncio.run(download(args) if args.download else load(args))
    except Exception as e:  # noqa: BLE001 - one line on stderr, exit 1
        print(f"aiohttp_load: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
