"""Issue 12: two tasks take turns through ``await asyncio.sleep(0)``, on the loop
``BENCH_IMPL`` names (``ours``: ``gevent.asyncio.run``; ``asyncio``; ``uvloop``).

Metric: microseconds per ``sleep(0)``.
"""

import asyncio

from benchlib import emit, now, run_async, scaled

SWITCHES = scaled(300_000)


async def yielder(count: int) -> None:
    sleep = asyncio.sleep
    for _ in range(count):
        await sleep(0)


async def run(count: int) -> float:
    start = now()
    await asyncio.gather(yielder(count), yielder(count))
    return now() - start


async def main() -> float:
    await run(1000)  # warm up
    return await run(SWITCHES)


elapsed = run_async(main)
emit(us_per_sleep0=elapsed / (2 * SWITCHES) * 1e6)
