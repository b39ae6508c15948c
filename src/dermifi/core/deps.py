"""Annotated dependency aliases shared by every domain's routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.core.clock import Clock
from dermifi.core.state import AppState
from dermifi.core.storage import BlobStore


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.dermifi
    return state


State = Annotated[AppState, Depends(get_state)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    state = get_state(request)
    async with state.sessionmaker() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_session)]


def get_clock(request: Request) -> Clock:
    return get_state(request).clock


ClockDep = Annotated[Clock, Depends(get_clock)]


def blob_store(request: Request) -> BlobStore:
    return get_state(request).blob_store


BlobStoreDep = Annotated[BlobStore, Depends(blob_store)]
