#!/usr/bin/python3
"""The echo server of the echo benchmarks (bench/compare_net.py) with Python asyncio streams.

    /usr/bin/python3 bench/anchors/asyncio_echo.py --loop asyncio|uvloop [--port N] [--tls CERT KEY]

Listens on 127.0.0.1 (--port 0, the default: an ephemeral port), prints
`port N` on stdout once listening, echoes every connection until SIGTERM or
SIGINT, then exits 0. --tls serves TLS with that certificate and key (the ssl
module, OpenSSL underneath).

The handler is the idiomatic streams version: `data = await
reader.read(65536)`, `writer.write(data)`, `await writer.drain()`, in a loop.
asyncio and uvloop both set TCP_NODELAY on their TCP transports; it is set
again here so that it does not depend on that.
"""
import argparse
import asyncio
import resource
import signal
import socket
import ssl
import sys


async def handle(reader, writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass  # the peer went away: this echo is over
    finally:
        writer.close()


async def serve(args):
    context = None
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls[0], args.tls[1])
    # backlog: the load client opens up to 64 connections at once, thousands in all.
    server = await asyncio.start_server(handle, "127.0.0.1", args.port, ssl=context, backlog=4096)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()  # the connections' tasks are cancelled when asyncio.run returns


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve TLS with this certificate and key")
    args = p.parse_args()
    # Many idle connections need many descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.loop == "uvloop":
        import uvloop
        uvloop.install()
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
