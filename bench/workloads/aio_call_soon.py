"""Issue 12: ``loop.call_soon`` throughput, on the loop ``BENCH_IMPL`` names (``ours``:
``gevent.asyncio.run``; ``asyncio``; ``uvloop``).

Batches of 1000 ``call_soon`` calls of a trivial callback; the batch's last callback
resolves a future the coroutine awaits. Metric: microseconds per callback (scheduling and
running it).
"""

import asyncio

from benchlib import emit, now, run_async, scaled

CALLBACKS = scaled(1_000_000)
BATCH = 1000


def tick(counter: list) -> None:
    counter[0] += 1


async def run(count: int) -> float:
    loop = asyncio.get_running_loop()
    call_soon = loop.call_soon
    counter = [0]
    start = now()
    for _ in range(count // BATCH):
        done = loop.create_future()
        for _ in range(BATCH - 1):
            call_soon(tick, counter)
        call_soon(done.set_result, None)
        await done
    elapsed = now() - start
    assert counter[0] == (count // BATCH) * (BATCH - 1)
    return elapsed


async def main() -> float:
    await run(10 * BATCH)  # warm up
    return await run(CALLBACKS)


elapsed = run_async(main)
emit(us_per_callback=elapsed / (CALLBACKS // BATCH * BATCH) * 1e6)
