from __future__ import annotations

from collections.abc import Sequence

from dermifi.core.state import AppState
from dermifi.practices import service as practice_service
from dermifi.practices.models import Practice


async def make_practice(state: AppState, *, name: str = "Mission Skin Clinic",
                        ip_allowlist: Sequence[str] = ()) -> Practice:
    async with state.sessionmaker() as session:
        return await practice_service.create_practice(session, name=name,
                                                      ip_allowlist=ip_allowlist)
