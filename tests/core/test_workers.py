"""The bounded pool that runs image decodes: never more than its size at once; a job that
cannot start in time is refused with 503."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from dermifi.core.errors import ServiceUnavailable
from dermifi.core.workers import CpuPool


async def test_at_most_size_jobs_run_at_once() -> None:
    pool = CpuPool(size=2, wait_seconds=30)
    lock = threading.Lock()
    running = 0
    seen = 0

    def job() -> None:
        nonlocal running, seen
        with lock:
            running += 1
            seen = max(seen, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    await asyncio.gather(*(pool.run(job) for _ in range(8)))
    assert seen == 2
    assert pool.peak == 2
    pool.shutdown()


async def test_a_job_that_cannot_start_in_time_is_refused() -> None:
    pool = CpuPool(size=1, wait_seconds=0.1)
    release = threading.Event()
    busy = asyncio.create_task(pool.run(release.wait, 5))
    await asyncio.sleep(0.02)
    with pytest.raises(ServiceUnavailable) as refused:
        await pool.run(time.sleep, 0)
    assert refused.value.headers["Retry-After"]
    release.set()
    assert await busy is True
    assert await pool.run(lambda: 42) == 42  # the slot was given back
    pool.shutdown()
