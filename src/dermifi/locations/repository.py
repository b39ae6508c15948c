"""Location queries. Practice scoping is applied by the session; every staff role that reads
locations sees all of the practice's, so ``readable`` is the base's."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, select

from dermifi.auth.actor import Actor
from dermifi.core.repository import Repository
from dermifi.locations.models import Location, code_key


class LocationRepository(Repository[Location, Actor]):
    model = Location
    not_found = "No such location"

    async def by_code_keys(self, keys: Iterable[str]) -> Sequence[Location]:
        wanted = set(keys)
        if not wanted:
            return []
        return (await self.session.scalars(
            select(Location).where(Location.code_key.in_(wanted)))).all()

    async def code_taken(self, code: str, *, exclude_id: str | None = None) -> bool:
        stmt = select(Location.id).where(Location.code_key == code_key(code))
        if exclude_id is not None:
            stmt = stmt.where(Location.id != exclude_id)
        return (await self.session.scalar(stmt)) is not None

    def list_statement(self, actor: Actor) -> Select[Any]:
        return self.readable(actor).order_by(Location.code_key, Location.id)
