"""CPU-heavy work (image decoding) off the event loop, at most a few jobs at once.

An upload's decode can take seconds and hundreds of megabytes; run without a bound, a burst
of large uploads takes every core and the process's memory with it. ``CpuPool`` runs jobs on
its own threads, at most ``size`` at a time; a job that cannot start within ``wait_seconds``
is refused with 503 and ``Retry-After`` rather than queued without end.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from dermifi.core.errors import ServiceUnavailable

P = ParamSpec("P")
T = TypeVar("T")


class CpuPool:
    def __init__(self, *, size: int, wait_seconds: float, name: str = "cpu") -> None:
        self.size = size
        self.wait_seconds = wait_seconds
        self._slots = asyncio.Semaphore(size)
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix=name)
        self.running = 0
        self.peak = 0  # the most jobs ever running at once (for tests and metrics)

    async def run(self, job: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            await asyncio.wait_for(self._slots.acquire(), self.wait_seconds)
        except TimeoutError:
            raise ServiceUnavailable(
                "The server is busy processing other uploads; try again shortly",
                headers={"Retry-After": "5"}) from None
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor,
                                              functools.partial(job, *args, **kwargs))
        finally:
            self.running -= 1
            self._slots.release()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
