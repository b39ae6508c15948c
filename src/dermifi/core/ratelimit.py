"""Rate limits: per user when authenticated, else per client address; a stricter one on login.

In-process counters by default; Redis when configured, so every server process shares them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dermifi.core.clock import Clock
from dermifi.core.context import client_ip_var
from dermifi.core.errors import RateLimited, render
from dermifi.core.network import scope_header
from dermifi.core.security import TokenError, Tokens
from dermifi.core.shared_store import RedisCircuit, RedisUnavailable

LOGIN_PATH = "/v1/auth/login"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_time: float  # epoch seconds

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_time)),
        }

    def retry_after(self) -> int:
        # Windows live in the counter store and expire in wall-clock time, not the app clock.
        return max(1, math.ceil(self.reset_time - time.time()))


class RateLimiter:
    """Fixed-window counters, shared through Redis when it is configured and answering.

    When Redis is down or slow the limits still hold, per process, from in-process counters
    (and the headers are still sent): a dead Redis must neither stop the API nor lift every
    limit. The shared counters resume when it answers again."""

    def __init__(self, *, default: str, login: str, redis_pool: Any | None = None,
                 redis_url: str | None = None, circuit: RedisCircuit | None = None) -> None:
        self.default: RateLimitItem = parse(default)
        self.login: RateLimitItem = parse(login)
        self.local_storage = MemoryStorage()
        self._local = FixedWindowRateLimiter(self.local_storage)
        self._shared: FixedWindowRateLimiter | None = None
        self.shared_storage: Storage | None = None
        self.circuit = circuit or RedisCircuit(timeout=0.3)
        if redis_url:
            # The app's own client pool: its short timeouts and no retries apply here too.
            options: dict[str, Any] = {"connection_pool": redis_pool} if redis_pool else {}
            self.shared_storage = RedisStorage("async+" + redis_url, implementation="redispy",
                                               **options)
            self._shared = FixedWindowRateLimiter(self.shared_storage)

    async def check(self, item: RateLimitItem, *keys: str, count: bool = True) -> Decision:
        """Count one request against the window (or, with ``count=False``, only report it)."""
        if self._shared is not None:
            shared = self._shared
            try:
                return await self.circuit.call(lambda: self._check(shared, item, keys, count))
            except RedisUnavailable:
                pass
        return await self._check(self._local, item, keys, count)

    @staticmethod
    async def _check(strategy: FixedWindowRateLimiter, item: RateLimitItem,
                     keys: tuple[str, ...], count: bool) -> Decision:
        allowed = await strategy.hit(item, "dermifi", *keys) if count else True
        stats = await strategy.get_window_stats(item, "dermifi", *keys)
        return Decision(allowed, item.amount, max(stats.remaining, 0), stats.reset_time)

    async def reset(self) -> None:
        await self.local_storage.reset()
        if self.shared_storage is not None:
            await self.shared_storage.reset()


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, tokens: Tokens,
                 clock: Clock, uncounted_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limiter = limiter
        self.tokens = tokens
        self.clock = clock
        # Probes report the caller's budget but never spend it: an orchestrator polling
        # /healthz must not get a healthy server restarted with 429s.
        self.uncounted_paths = set(uncounted_paths)

    def _identity(self, scope: Scope) -> str:
        auth = scope_header(scope, b"authorization")
        if auth and auth[:7].lower() == "bearer ":
            try:
                claims = self.tokens.decode(auth[7:].strip(), expected_type="access",
                                            now=self.clock.now())
                return f"user:{claims['sub']}"
            except TokenError:
                pass
        return f"ip:{client_ip_var.get() or 'unknown'}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        count = scope["path"] not in self.uncounted_paths
        if scope["path"] == LOGIN_PATH and scope["method"] == "POST":
            # Login is keyed by address: there is no user yet, and it is what attackers spray.
            decision = await self.limiter.check(
                self.limiter.login, "login", f"ip:{client_ip_var.get() or 'unknown'}")
        else:
            decision = await self.limiter.check(self.limiter.default, self._identity(scope),
                                                count=count)

        headers = decision.headers()
        if not decision.allowed:
            error = RateLimited(headers={**headers, "Retry-After": str(decision.retry_after())})
            await render(error)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                mutable = MutableHeaders(scope=message)
                for name, value in headers.items():
                    mutable[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
