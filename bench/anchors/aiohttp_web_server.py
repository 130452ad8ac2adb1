"""bench/anchors/aiohttp_web_server.py: the Python anchor of the web benchmark.

    /usr/bin/python3 bench/anchors/aiohttp_web_server.py PORT --loop asyncio|uvloop

aiohttp.web with the same three views as bench/web_hello_server.cpp: /hello
(13 bytes text/plain), /json (a 10-field object), /sleep (sleep 1 s, then a
small JSON answer); no access log. Stops on SIGINT/SIGTERM.
"""
import argparse
import asyncio

from aiohttp import web


async def hello(request):
    return web.Response(text="Hello, world\n")


async def json_view(request):
    return web.json_response({"id": 12345, "name": "Ada Lovelace", "email": "ada@example.com", "active": True,
                              "score": 98.5, "tags": ["math", "engines"], "city": "London", "born": 1815,
                              "title": "Countess", "notes": "first program"})


async def sleep_view(request):
    await asyncio.sleep(1)
    return web.json_response({"message": "Hello, Async Django!"})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    a = p.parse_args()
    if a.loop == "uvloop":
        import uvloop
        uvloop.install()
    app = web.Application()
    app.router.add_get("/hello", hello)
    app.router.add_get("/json", json_view)
    app.router.add_get("/sleep", sleep_view)
    web.run_app(app, host="127.0.0.1", port=a.port, access_log=None, print=lambda *_: print("ready", flush=True),
                backlog=4096)


if __name__ == "__main__":
    main()
