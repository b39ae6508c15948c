"""Annotated dependency aliases shared by every domain's routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.core.clock import Clock
from dermifi.core.state import AppState
from dermifi.core.storage import BlobStore


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.dermifi
    return state


# Dependencies are ``async def`` even when they do not await: FastAPI runs a plain ``def``
# dependency in a worker thread, a thread hop per dependency per request.

async def get_state(request: Request) -> AppState:
    return state_of(request)


State = Annotated[AppState, Depends(get_state)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    state = state_of(request)
    async with state.sessionmaker() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_session)]


async def get_clock(request: Request) -> Clock:
    return state_of(request).clock


ClockDep = Annotated[Clock, Depends(get_clock)]


async def blob_store(request: Request) -> BlobStore:
    return state_of(request).blob_store


BlobStoreDep = Annotated[BlobStore, Depends(blob_store)]
