"""Revoked sessions, pushed to Redis (when configured) so every process rejects them at once.

The database stays the authority: authentication always reads the session row. Redis only
answers "revoked" sooner, without the database round trip.
"""

from __future__ import annotations

import logging

from dermifi.core.state import AppState

logger = logging.getLogger("dermifi.auth")


def _key(session_id: str) -> str:
    return f"dermifi:revoked-session:{session_id}"


async def announce(state: AppState, session_id: str) -> None:
    if state.redis is None:
        return
    try:
        await state.redis.set(_key(session_id), "1", ex=state.settings.access_token_ttl_seconds)
    except Exception:
        logger.warning("could not publish a session revocation to Redis; the database has it")


async def is_announced(state: AppState, session_id: str) -> bool:
    if state.redis is None:
        return False
    try:
        return bool(await state.redis.exists(_key(session_id)))
    except Exception:
        logger.warning("could not read session revocations from Redis; using the database")
        return False
