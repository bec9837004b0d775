"""Issue 13: ``spawn_joinall.py`` in asyncio's idiom: ``create_task`` of 100k trivial
coroutines, then ``gather`` them; on stock asyncio or uvloop (``BENCH_IMPL``).

Metric: microseconds per task (create, run, join), under the key ``spawn_joinall.py`` uses
(``us_per_greenlet``) so the two share one row.
"""

import asyncio

from benchlib import emit, now, run_async, scaled

TASKS = scaled(100_000)


async def work(index: int) -> int:
    return index


async def run(count: int) -> float:
    start = now()
    create_task = asyncio.get_running_loop().create_task
    tasks = [create_task(work(index)) for index in range(count)]
    values = await asyncio.gather(*tasks)
    elapsed = now() - start
    assert values[-1] == count - 1
    return elapsed


async def main() -> float:
    await run(1000)  # warm up
    return await run(TASKS)


elapsed = run_async(main)
emit(us_per_greenlet=elapsed / TASKS * 1e6)
