from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter
from sqlalchemy import text

from dermifi.core.deps import State
from dermifi.core.errors import ServiceUnavailable, error_responses
from dermifi.core.schemas import ApiModel

router = APIRouter(tags=["health"])
READINESS_TIMEOUT_SECONDS = 0.8


class Health(ApiModel):
    status: Literal["ok"]


class Readiness(ApiModel):
    status: Literal["ready"]
    database: Literal["ok"]


@router.get("/healthz", response_model=Health, responses=error_responses(authenticated=False))
async def healthz() -> Health:
    """The process is alive."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness,
            responses=error_responses(503, authenticated=False))
async def readyz(state: State) -> Readiness:
    """The process can serve: its database answers."""
    try:
        # An orchestrator waits for this answer: a frozen database is "not ready" within a
        # second, not after the connect and statement timeouts an API request gets.
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS), state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise ServiceUnavailable("Database unreachable",
                                 headers={"Retry-After": "2"}) from exc
    return Readiness(status="ready", database="ok")
