"""The outbox worker: claims due messages, delivers them through their topic's handler
outside any transaction, and records the outcome.

Runs as ``dermifi worker`` (production: as many as you like, on as many hosts) and inside
``dermifi serve`` unless ``DERMIFI_OUTBOX_WORKER=false``. Delivery is at least once: a worker
killed after a receiver acted and before the outcome was recorded leaves the lease to expire,
and the message goes out again with the same idempotency key, which is how the receiver acts
on it once. Failed attempts back off exponentially, with jitter so that messages failed by one
outage do not all come back at one instant; after ``max_attempts`` a message is ``failed``
and waits for an administrator (``POST /v1/outbox/{id}/retry``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dermifi.core.clock import Clock
from dermifi.core.config import Settings
from dermifi.core.db import unit_of_work
from dermifi.core.errors import ServiceUnavailable
from dermifi.core.ids import new_id
from dermifi.core.state import AppState
from dermifi.outbox import handlers, repository, wakeup
from dermifi.outbox.handlers import Delivery, Undeliverable
from dermifi.outbox.models import OutboxMessage

logger = logging.getLogger("dermifi.outbox")

# What a database that is down or frozen raises here: the loop waits and tries again.
_OUTAGES = (SQLAlchemyError, OSError, TimeoutError, ServiceUnavailable)
MAX_ERROR_LENGTH = 500


@dataclass(frozen=True)
class WorkerSettings:
    poll_seconds: float = 2.0
    batch_size: int = 20
    max_attempts: int = 8
    backoff_base_seconds: float = 5.0
    backoff_max_seconds: float = 3600.0
    lease_seconds: float = 120.0
    handler_timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.handler_timeout_seconds >= self.lease_seconds:
            raise ValueError("the handler timeout must be shorter than the lease, or a slow "
                             "delivery would be taken over while it still runs")


def backoff(attempt: int, settings: WorkerSettings, rng: random.Random) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1 for the first): doubling from the
    base up to the cap, then between half of it and all of it."""
    ceiling = min(settings.backoff_max_seconds,
                  settings.backoff_base_seconds * 2 ** min(attempt - 1, 40))
    return timedelta(seconds=ceiling * rng.uniform(0.5, 1.0))


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:MAX_ERROR_LENGTH]


class OutboxWorker:
    def __init__(self, *, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession],
                 clock: Clock, settings: WorkerSettings | None = None,
                 rng: random.Random | None = None, name: str | None = None) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.settings = settings or WorkerSettings()
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self.name = name or new_id("wrk")
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # --- one round -------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim what is due, deliver it, record each outcome. Returns how many were tried."""
        now = self.clock.now()
        token = new_id("clm")
        async with self.sessionmaker() as session, unit_of_work(session):
            claimed = list(await repository.claim_due(
                session, now=now, lease_until=now + timedelta(seconds=self.settings.lease_seconds),
                token=token, limit=self.settings.batch_size))
        await asyncio.gather(*(self._deliver(message, token) for message in claimed))
        return len(claimed)

    async def _deliver(self, message: OutboxMessage, token: str) -> None:
        delivery = Delivery(
            message_id=message.id, topic=message.topic, practice_id=message.practice_id,
            target=message.target, payload=dict(message.payload),
            idempotency_key=message.idempotency_key, attempt=message.attempts,
            sessionmaker=self.sessionmaker)
        handler = handlers.handler_for(message.topic)
        error: BaseException | None = None
        final = False
        try:
            if handler is None:
                # Perhaps a newer worker knows it: retried like any failure, then failed.
                raise LookupError(f"no handler for topic {message.topic!r} in this worker")
            async with asyncio.timeout(self.settings.handler_timeout_seconds):
                await handler(delivery)
        except Undeliverable as exc:
            error, final = exc, True
        except Exception as exc:
            error = exc
        await self._record(message, token, error, final)

    async def _record(self, message: OutboxMessage, token: str, error: BaseException | None,
                      final: bool) -> None:
        now = self.clock.now()
        async with self.sessionmaker() as session, unit_of_work(session):
            if error is None:
                recorded = await repository.mark_delivered(session, message.id, token, now=now)
                outcome = "delivered"
            elif final or message.attempts >= self.settings.max_attempts:
                recorded = await repository.mark_failed(session, message.id, token, now=now,
                                                        error=_describe(error))
                outcome = "failed"
            else:
                recorded = await repository.mark_retry(
                    session, message.id, token,
                    next_attempt_at=now + backoff(message.attempts, self.settings, self.rng),
                    error=_describe(error))
                outcome = "retry"
        log = logger.info if error is None else logger.warning
        log("outbox message %s", outcome, extra={
            "message_id": message.id, "topic": message.topic, "attempt": message.attempts,
            "error": type(error).__name__ if error is not None else None,
            "lease_lost": not recorded})

    # --- the loop --------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Deliver until ``stop``: at once after a wake-up, else every ``poll_seconds``."""
        loop = asyncio.get_running_loop()
        wakeup.subscribe(loop, self._wake)
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    handled = await self.run_once()
                except _OUTAGES as exc:
                    logger.warning("outbox worker cannot reach the database",
                                   extra={"error": type(exc).__name__})
                    handled = 0
                if handled >= self.settings.batch_size:
                    continue  # more may be waiting
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.settings.poll_seconds):
                        await self._woken_or_stopped()
        finally:
            wakeup.unsubscribe(loop, self._wake)

    async def _woken_or_stopped(self) -> None:
        waits = [asyncio.ensure_future(self._wake.wait()),
                 asyncio.ensure_future(self._stopping.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def _listen(self) -> None:
        """PostgreSQL: wake on ``NOTIFY`` from any process's commit. Reconnects after an
        outage; meanwhile polling goes on."""
        while not self._stopping.is_set():
            try:
                async with self.engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    driver: Any = raw.driver_connection

                    def on_notify(*_: object) -> None:
                        self._wake.set()

                    await driver.add_listener(wakeup.CHANNEL, on_notify)
                    try:
                        while not self._stopping.is_set() and not driver.is_closed():
                            with contextlib.suppress(TimeoutError):
                                async with asyncio.timeout(self.settings.poll_seconds):
                                    await self._stopping.wait()
                    finally:
                        if not driver.is_closed():
                            await driver.remove_listener(wakeup.CHANNEL, on_notify)
            except _OUTAGES:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.settings.poll_seconds):
                        await self._stopping.wait()

    def start(self) -> None:
        """Run in the background of the current event loop (inside ``dermifi serve``)."""
        self._tasks.append(asyncio.create_task(self.run(), name=f"outbox-{self.name}"))
        if self.engine.dialect.name == "postgresql":
            self._tasks.append(asyncio.create_task(self._listen(),
                                                   name=f"outbox-listen-{self.name}"))

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Finish the round in progress (up to ``grace_seconds``), then stop. What is cut
        short is delivered again after its lease."""
        self._stopping.set()
        if not self._tasks:
            return
        done, pending = await asyncio.wait(self._tasks, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                logger.error("outbox worker stopped with an error",
                             extra={"error": type(task.exception()).__name__})
        self._tasks.clear()


def worker_settings(settings: Settings) -> WorkerSettings:
    return WorkerSettings(
        poll_seconds=settings.outbox_poll_seconds, batch_size=settings.outbox_batch_size,
        max_attempts=settings.outbox_max_attempts,
        backoff_base_seconds=settings.outbox_backoff_base_seconds,
        backoff_max_seconds=settings.outbox_backoff_max_seconds,
        lease_seconds=settings.outbox_lease_seconds,
        handler_timeout_seconds=settings.outbox_handler_timeout_seconds)


def build_worker(state: AppState) -> OutboxWorker:
    """A worker for the app's database and clock, with the handlers its settings name."""
    handlers.load(state.settings.outbox_handler_modules)
    return OutboxWorker(engine=state.engine, sessionmaker=state.sessionmaker,
                        clock=state.clock, settings=worker_settings(state.settings))
