"""Real asyncio libraries on gevent.asyncio's loop, against real servers.

Each library runs in a fresh interpreter after ``patch_all()`` and ``patch_asyncio()``, twice:
from ten greenlets, each calling ``gevent.asyncio.await_`` on one slow call, and inside
``asyncio.run`` gathering ten slow calls. Every slow call takes 0.5 s on the server side; the
ten must finish in about the time of one (BOUND, well under the 5 s they take one after the
other). The servers: a threaded HTTP server and redis-server/PostgreSQL started by conftest.py,
aiohttp's and websockets' servers started by the script itself on the hub's loop.
"""

from __future__ import annotations

import textwrap

import pytest

from conftest import run_patched

try:
    import gevent.asyncio  # noqa: F401
except ImportError as error:  # pragma: no cover - until gevent.asyncio is merged
    pytest.skip(f"gevent.asyncio is not in this tree yet: {error}", allow_module_level=True)

#: Ten calls of 0.5 s each, run concurrently, must be done in this many seconds.
BOUND = 2.0

PRELUDE = f'''
import asyncio, os, sys, time
import gevent
from gevent import monkey
from gevent.asyncio import await_
monkey.patch_asyncio()
BOUND = {BOUND}

def timed(label, func):
    start = time.monotonic()
    result = func()
    elapsed = time.monotonic() - start
    print(f"{{label}}: {{elapsed:.2f}} s")
    assert elapsed < BOUND, f"{{label}} took {{elapsed:.2f}} s: not concurrent"
    return result

def serve_in_greenlet(serve):
    """Run coroutine function serve(ready) in a greenlet of its own, which keeps the hub's
    asyncio loop running for the server until killed; serve calls ready(port) once listening.
    Returns the greenlet and the port."""
    from gevent.event import AsyncResult

    port = AsyncResult()
    server = gevent.spawn(await_, serve(port.set))
    return server, port.get(timeout=10)

def in_greenlets(make, n=10):
    """n greenlets, the i-th blocking in await_(make(i)); their results in order."""
    jobs = [gevent.spawn(lambda i=i: await_(make(i), timeout=10)) for i in range(n)]
    gevent.joinall(jobs, timeout=15, raise_error=True)
    assert all(job.ready() for job in jobs)
    return [job.value for job in jobs]

'''


def _run(code: str, **env: str):
    proc = run_patched(PRELUDE + textwrap.dedent(code), timeout=60, env=env)
    print(proc.stdout)


def test_httpx_async_client(slow_http_server):
    pytest.importorskip("httpx", reason="httpx is in the 'downstream' extra")
    _run('''
        import httpx
        URL = os.environ["SLOW_URL"]

        async def fetch(client, i):
            response = await client.get(f"{URL}/{i}")
            response.raise_for_status()
            return response.text

        client = httpx.AsyncClient(timeout=10)
        bodies = timed("httpx, greenlets", lambda: in_greenlets(lambda i: fetch(client, i)))
        assert bodies == [f"path=/{i}" for i in range(10)], bodies
        await_(client.aclose())

        async def main():
            async with httpx.AsyncClient(timeout=10) as client:
                return await asyncio.gather(*(fetch(client, i) for i in range(10)))

        bodies = timed("httpx, asyncio.run", lambda: asyncio.run(main()))
        assert bodies == [f"path=/{i}" for i in range(10)], bodies
        print("OK")
    ''', SLOW_URL=slow_http_server)


def test_aiohttp_client_and_server():
    pytest.importorskip("aiohttp", reason="aiohttp is in the 'downstream' extra")
    pytest.importorskip("requests", reason="requests is in the 'downstream' extra")
    _run('''
        import aiohttp
        import requests
        from aiohttp import web

        async def slow(request):
            await asyncio.sleep(0.5)
            return web.Response(text="slow " + request.match_info["n"])

        async def blocking(request):
            time.sleep(0.5)  # patched: a gevent sleep, which suspends only this task
            return web.Response(text="blocking " + request.match_info["n"])

        async def serve(ready):
            app = web.Application()
            app.add_routes([web.get("/slow/{n}", slow), web.get("/blocking/{n}", blocking)])
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            ready(runner.addresses[0][1])
            try:
                await asyncio.Event().wait()
            finally:
                await runner.cleanup()

        server, port = serve_in_greenlet(serve)
        base = f"http://127.0.0.1:{port}"

        async def fetch(session, path):
            async with session.get(base + path) as response:
                assert response.status == 200, response.status
                return await response.text()

        async def new_session():
            return aiohttp.ClientSession()

        session = await_(new_session())
        texts = timed("aiohttp client, greenlets",
                      lambda: in_greenlets(lambda i: fetch(session, f"/slow/{i}")))
        assert texts == [f"slow {i}" for i in range(10)], texts
        await_(session.close())

        # Green, blocking clients (requests on patched sockets) against the aiohttp server.
        def get(path):
            return requests.get(base + path, timeout=10).text

        def green_gets(prefix):
            jobs = [gevent.spawn(get, f"/{prefix}/{i}") for i in range(10)]
            gevent.joinall(jobs, timeout=15, raise_error=True)
            return [job.value for job in jobs]

        texts = timed("requests in greenlets -> aiohttp server", lambda: green_gets("slow"))
        assert texts == [f"slow {i}" for i in range(10)], texts
        texts = timed("aiohttp handlers calling time.sleep", lambda: green_gets("blocking"))
        assert texts == [f"blocking {i}" for i in range(10)], texts

        async def main():
            async with aiohttp.ClientSession() as session:
                return await asyncio.gather(*(fetch(session, f"/blocking/{i}")
                                              for i in range(10)))

        texts = timed("aiohttp client, asyncio.run", lambda: asyncio.run(main()))
        assert texts == [f"blocking {i}" for i in range(10)], texts
        server.kill(timeout=10)
        assert server.dead
        print("OK")
    ''')


def test_redis_asyncio(redis_port):
    pytest.importorskip("redis.asyncio", reason="redis is in the 'downstream' extra")
    _run('''
        import redis.asyncio as aioredis
        PORT = int(os.environ["REDIS_PORT"])

        client = aioredis.Redis(host="127.0.0.1", port=PORT)
        assert await_(client.set("gevent-asyncio", "yes"))
        assert await_(client.get("gevent-asyncio")) == b"yes"
        # BLPOP on an empty list answers None after its timeout: a slow call of 0.5 s.
        popped = timed("redis.asyncio, greenlets",
                       lambda: in_greenlets(lambda i: client.blpop([f"empty-{i}"], timeout=0.5)))
        assert popped == [None] * 10, popped
        await_(client.aclose())

        async def main():
            client = aioredis.Redis(host="127.0.0.1", port=PORT)
            try:
                await client.rpush("queue-3", "three")
                return await asyncio.gather(*(client.blpop([f"queue-{i}"], timeout=0.5)
                                              for i in range(10)))
            finally:
                await client.aclose()

        popped = timed("redis.asyncio, asyncio.run", lambda: asyncio.run(main()))
        assert popped == [None] * 3 + [(b"queue-3", b"three")] + [None] * 6, popped
        print("OK")
    ''', REDIS_PORT=str(redis_port))


def test_asyncpg_and_psycopg_async(postgres_dsn):
    pytest.importorskip("asyncpg", reason="asyncpg is in the 'downstream' extra")
    pytest.importorskip("psycopg", reason="psycopg is in the 'downstream' extra")
    _run('''
        import asyncpg
        import psycopg
        DSN = os.environ["PG_DSN"]
        params = dict(item.split("=") for item in DSN.split())
        pg = dict(host=params["host"], port=int(params["port"]), user=params["user"],
                  database=params["dbname"])

        async def sleeper(pool, i):
            return await pool.fetchval("SELECT $1::int FROM pg_sleep(0.5)", i)

        async def new_pool():  # a Pool binds to the loop running when it is made
            return await asyncpg.create_pool(min_size=10, max_size=10, **pg)

        pool = await_(new_pool())
        values = timed("asyncpg, greenlets", lambda: in_greenlets(lambda i: sleeper(pool, i)))
        assert values == list(range(10)), values
        await_(pool.close())

        async def main():
            async with asyncpg.create_pool(min_size=10, max_size=10, **pg) as pool:
                start = time.monotonic()
                values = await asyncio.gather(*(sleeper(pool, i) for i in range(10)))
                return values, time.monotonic() - start

        values, elapsed = asyncio.run(main())
        print(f"asyncpg, asyncio.run: {elapsed:.2f} s")
        assert values == list(range(10)) and elapsed < BOUND, (values, elapsed)

        async def psycopg_sleeper(i):
            async with await psycopg.AsyncConnection.connect(DSN) as conn:
                cursor = await conn.execute("SELECT %s::int FROM pg_sleep(0.5)", (i,))
                return (await cursor.fetchone())[0]

        values = timed("psycopg async, greenlets", lambda: in_greenlets(psycopg_sleeper))
        assert values == list(range(10)), values

        async def main():
            return await asyncio.gather(*(psycopg_sleeper(i) for i in range(10)))

        values = timed("psycopg async, asyncio.run", lambda: asyncio.run(main()))
        assert values == list(range(10)), values
        print("OK")
    ''', PG_DSN=postgres_dsn)


def test_websockets():
    pytest.importorskip("websockets", reason="websockets is in the 'downstream' extra")
    _run('''
        from websockets.asyncio.client import connect
        from websockets.asyncio.server import serve

        async def echo_slowly(websocket):
            async for message in websocket:
                await asyncio.sleep(0.5)
                await websocket.send("echo " + message)

        async def serve_echo(ready):
            async with serve(echo_slowly, "127.0.0.1", 0) as server:
                ready(server.sockets[0].getsockname()[1])
                await asyncio.Event().wait()

        server, port = serve_in_greenlet(serve_echo)

        async def roundtrip(i):
            async with connect(f"ws://127.0.0.1:{port}") as websocket:
                await websocket.send(str(i))
                return await websocket.recv()

        replies = timed("websockets, greenlets", lambda: in_greenlets(roundtrip))
        assert replies == [f"echo {i}" for i in range(10)], replies

        async def main():
            return await asyncio.gather(*(roundtrip(i) for i in range(10)))

        replies = timed("websockets, asyncio.run", lambda: asyncio.run(main()))
        assert replies == [f"echo {i}" for i in range(10)], replies
        server.kill(timeout=10)
        assert server.dead
        print("OK")
    ''')


def test_server_started_with_await_keeps_serving():
    """The hub's own loop (get_loop) runs whenever the hub does: a server started with
    await_ answers a green client while no greenlet is inside await_."""
    _run('''
        import socket

        async def hello(reader, writer):
            writer.write(b"hello " + await reader.readline())
            await writer.drain()
            writer.close()

        async def start():
            return await asyncio.start_server(hello, "127.0.0.1", 0)

        server = await_(start())
        port = server.sockets[0].getsockname()[1]
        # A green client (patched socket) while no greenlet is inside await_.
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"gevent\\n")
            reply = sock.makefile("rb").read()
        assert reply == b"hello gevent\\n", reply
        server.close()
        await_(server.wait_closed())
        print("OK")
    ''')


def test_gevent_asyncio_imported_first_after_patch_all():
    """patch_all() before asyncio is imported installs an import hook; gevent.asyncio being the
    first to import asyncio must not meet itself half initialised (gunicorn -k gevent, then an
    app that imports gevent.asyncio, did)."""
    run_patched('''
        import sys
        assert "asyncio" not in sys.modules
        from gevent.asyncio import await_

        async def answer():
            return 42

        assert await_(answer()) == 42
        print("OK")
    ''', timeout=30)
