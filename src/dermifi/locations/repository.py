"""Location queries. Practice scoping is applied by the session."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.locations.models import Location, code_key


async def get(session: AsyncSession, location_id: str, *, for_update: bool = False
              ) -> Location | None:
    stmt = select(Location).where(Location.id == location_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def by_code_keys(session: AsyncSession, keys: Iterable[str]) -> Sequence[Location]:
    wanted = set(keys)
    if not wanted:
        return []
    return (await session.scalars(select(Location).where(Location.code_key.in_(wanted)))).all()


async def code_taken(session: AsyncSession, code: str, *, exclude_id: str | None = None
                     ) -> bool:
    stmt = select(Location.id).where(Location.code_key == code_key(code))
    if exclude_id is not None:
        stmt = stmt.where(Location.id != exclude_id)
    return (await session.scalar(stmt)) is not None


def list_statement() -> Select[Any]:
    return select(Location).order_by(Location.code_key, Location.id)


async def by_ids(session: AsyncSession, location_ids: set[str]) -> dict[str, Location]:
    if not location_ids:
        return {}
    rows = await session.scalars(select(Location).where(Location.id.in_(location_ids)))
    return {location.id: location for location in rows}
