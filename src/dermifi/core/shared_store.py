"""Redis, the optional store shared by server processes (rate-limit counters, revocations).

Redis only makes things shared or faster; the server works without it. So it is called with
short timeouts, and failures open a circuit: after ``FAILURES_TO_OPEN`` in a row (one slow
answer on a busy machine is not an outage), callers go around Redis to their fallback
(in-process counters; the database for revocations) for a cool-down without waiting on it,
then one call tries again. An outage is logged once when it starts and once when it ends,
never per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.exceptions import RedisError

logger = logging.getLogger("dermifi.redis")

T = TypeVar("T")
# What a dead, frozen or refusing Redis raises; anything else is a bug and propagates.
REDIS_FAILURES: tuple[type[Exception], ...] = (RedisError, OSError, TimeoutError)


class RedisUnavailable(Exception):
    """Redis is not to be called now (the circuit is open)."""


FAILURES_TO_OPEN = 2


class RedisCircuit:
    def __init__(self, *, timeout: float, cooldown: float = 5.0) -> None:
        self.timeout = timeout
        self.cooldown = cooldown
        self._retry_at = 0.0
        self._failures = 0
        self._down = False

    @property
    def down(self) -> bool:
        return self._down

    def usable(self) -> bool:
        return time.monotonic() >= self._retry_at

    def failed(self, exc: BaseException) -> None:
        self._failures += 1
        if self._failures < FAILURES_TO_OPEN and not self._down:
            return  # this call falls back; the next one tries Redis again
        self._retry_at = time.monotonic() + self.cooldown
        if not self._down:
            self._down = True
            logger.warning("Redis unavailable (%s); using the in-process fallbacks until it "
                           "answers again", type(exc).__name__)

    def succeeded(self) -> None:
        self._failures = 0
        if self._down:
            self._down = False
            logger.warning("Redis answers again; shared rate limits and revocations resumed")

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """``operation()`` within the timeout, or ``RedisUnavailable`` (at once while the
        circuit is open)."""
        if not self.usable():
            raise RedisUnavailable()
        try:
            # A hard bound over the client's own socket timeouts (and any retries it makes).
            async with asyncio.timeout(self.timeout * 2):
                result = await operation()
        except REDIS_FAILURES as exc:
            self.failed(exc)
            raise RedisUnavailable() from exc
        self.succeeded()
        return result


def client_options(timeout: float) -> dict[str, Any]:
    """Options for a redis-py client that gives up quickly and does not retry by itself."""
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return {"socket_timeout": timeout, "socket_connect_timeout": timeout,
            "retry": Retry(NoBackoff(), 0), "health_check_interval": 0}
