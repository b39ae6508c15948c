"""What delivers each topic: a registry of handlers, one per topic.

A handler gets the message as a ``Delivery`` and either returns (delivered), raises
``Undeliverable`` (the receiver refused it for good: no retry), or raises anything else (tried
again later, with backoff). It runs outside any transaction; what it reads it reads through
``delivery.session()``, scoped to the message's practice like a request of that practice.
It must send ``delivery.idempotency_key`` to the receiver: the same message may be delivered
more than once (a worker can die after sending and before recording it), and the key is how
the receiver acts on it once. Error messages are stored and listed: no PHI in them.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dermifi.core.db import scope_to_practice


class Undeliverable(Exception):
    """The receiver refused the message for good (a 4xx, an unknown target): no retry."""


@dataclass(frozen=True)
class Delivery:
    message_id: str
    topic: str
    practice_id: str
    target: str | None
    payload: dict[str, Any]
    idempotency_key: str
    attempt: int  # 1 for the first
    sessionmaker: async_sessionmaker[AsyncSession]

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that sees only the message's practice."""
        async with self.sessionmaker() as session:
            scope_to_practice(session, self.practice_id)
            yield session


Handler = Callable[[Delivery], Awaitable[None]]

_handlers: dict[str, Handler] = {}

# Modules that register the product's own handlers (the pharmacy network, notifications)
# when they arrive; DERMIFI_OUTBOX_HANDLER_MODULES adds an integrator's.
BUILTIN_MODULES: tuple[str, ...] = ()


def register(topic: str, handler: Handler) -> None:
    if topic in _handlers and _handlers[topic] is not handler:
        raise ValueError(f"a handler for {topic!r} is already registered")
    _handlers[topic] = handler


def unregister(topic: str) -> None:
    _handlers.pop(topic, None)


def handler_for(topic: str) -> Handler | None:
    return _handlers.get(topic)


def load(modules: Iterable[str]) -> None:
    """Import the modules that register handlers (each calls ``register`` on import)."""
    for name in (*BUILTIN_MODULES, *modules):
        importlib.import_module(name)
