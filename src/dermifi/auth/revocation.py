"""Revoked sessions, pushed to Redis (when configured) so every process rejects them at once.

The database stays the authority: authentication always reads the session row. Redis only
answers "revoked" sooner, without the database round trip; while it is down (its circuit
open) it is skipped and the database alone decides.
"""

from __future__ import annotations

import contextlib

from dermifi.core.shared_store import RedisUnavailable
from dermifi.core.state import AppState


def _key(session_id: str) -> str:
    return f"dermifi:revoked-session:{session_id}"


async def announce(state: AppState, session_id: str) -> None:
    redis = state.redis
    if redis is None:
        return
    # Unavailable: the database has the revocation; the circuit logged the outage once.
    with contextlib.suppress(RedisUnavailable):
        await state.redis_circuit.call(lambda: redis.set(
            _key(session_id), "1", ex=state.settings.access_token_ttl_seconds))


async def is_announced(state: AppState, session_id: str) -> bool:
    redis = state.redis
    if redis is None:
        return False
    try:
        return bool(await state.redis_circuit.call(lambda: redis.exists(_key(session_id))))
    except RedisUnavailable:
        return False  # authentication reads the session row from the database anyway
