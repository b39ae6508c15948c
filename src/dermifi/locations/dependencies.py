"""Path objects: the location a URL names, loaded once per request with visibility applied."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from dermifi.auth.dependencies import CurrentUser
from dermifi.core.deps import DbSession
from dermifi.locations import service
from dermifi.locations.models import Location

LocationId = Annotated[str, Path(max_length=64, description="A location id (loc_...)")]


async def readable_location(location_id: LocationId, session: DbSession,
                            actor: CurrentUser) -> Location:
    """The location, for staff roles (else FORBIDDEN), if it belongs to the caller's practice
    (else NOT_FOUND, the same as for an id that does not exist)."""
    return await service.get_readable(session, actor, location_id=location_id)


ReadableLocation = Annotated[Location, Depends(readable_location)]
