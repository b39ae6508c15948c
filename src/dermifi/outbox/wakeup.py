"""Waking workers the moment a message commits, rather than at their next poll.

In the process that wrote it: the session's after-commit hook calls ``notify_local``, which
sets every local worker's event. Across processes on PostgreSQL: ``NOTIFY`` on ``CHANNEL`` is
sent inside the writing transaction, so it reaches listening workers exactly when (and only
if) the message commits. Polling remains the floor: a lost wake-up delays, never loses.
"""

from __future__ import annotations

import asyncio

CHANNEL = "dermifi_outbox"

_events: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()


def subscribe(loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
    _events.add((loop, event))


def unsubscribe(loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
    _events.discard((loop, event))


def notify_local() -> None:
    for loop, event in list(_events):
        if loop.is_closed():
            _events.discard((loop, event))
            continue
        loop.call_soon_threadsafe(event.set)
