"""The practice's locations (sites): codes, addresses, time zones.

Other domains use locations through this module: ``resolve_codes`` turns the codes a client
sends into locations of the caller's practice, ``find_by_code`` serves ``?location=`` filters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit import service as audit_service
from dermifi.auth.actor import Actor
from dermifi.core.context import current_clock
from dermifi.core.db import unit_of_work
from dermifi.core.errors import Conflict
from dermifi.core.ids import new_id
from dermifi.core.pagination import PageRequest, Pagination
from dermifi.locations import policies
from dermifi.locations.models import Location, code_key
from dermifi.locations.repository import LocationRepository
from dermifi.locations.schemas import LocationCreate, LocationUpdate


def _code_conflict() -> Conflict:
    return Conflict("A location with this code already exists",
                    details=[{"field": "code", "message": "Already used by another location"}])


async def list_locations(session: AsyncSession, actor: Actor, *, page: PageRequest
                         ) -> tuple[Sequence[Location], Pagination]:
    policies.ensure_can_read(actor)
    locations = LocationRepository(session)
    return await locations.page(locations.list_statement(actor), page)


async def get_readable(session: AsyncSession, actor: Actor, *, location_id: str) -> Location:
    """The location, for the roles that read locations (else FORBIDDEN), if it belongs to the
    caller's practice (else NOT_FOUND)."""
    policies.ensure_can_read(actor)
    return await LocationRepository(session).get_readable(actor, location_id)


async def create_location(session: AsyncSession, actor: Actor, *, data: LocationCreate
                          ) -> Location:
    policies.ensure_can_manage(actor)
    now = current_clock().now()
    async with unit_of_work(session):
        # The unique index closes the race; this check names the field.
        if await LocationRepository(session).code_taken(data.code):
            raise _code_conflict()
        location = Location(
            id=new_id("loc"), practice_id=actor.practice_id, code=data.code,
            code_key=code_key(data.code), name=data.name,
            address=data.address.model_dump(mode="json"), phone=data.phone,
            time_zone=data.time_zone, created_at=now, created_by=actor.id, updated_at=now,
            updated_by=actor.id,
        )
        session.add(location)
        await session.flush()
        await audit_service.record(session, actor, "location.create",
                                   resource_type="location", resource_id=location.id)
    return location


async def update_location(session: AsyncSession, actor: Actor, *, location: Location,
                          data: LocationUpdate, if_match: str | None) -> Location:
    policies.ensure_can_manage(actor)
    changes = data.model_dump(exclude_unset=True)
    async with unit_of_work(session):
        locations = LocationRepository(session)
        await locations.lock_for_change(location, if_match)
        if data.code is not None and code_key(data.code) != location.code_key:
            with session.no_autoflush:
                if await locations.code_taken(data.code, exclude_id=location.id):
                    raise _code_conflict()
        if data.code is not None:
            location.code = data.code
            location.code_key = code_key(data.code)
        if data.name is not None:
            location.name = data.name
        if data.address is not None:
            location.address = data.address.model_dump(mode="json")
        if "phone" in changes:
            location.phone = data.phone
        if data.time_zone is not None:
            location.time_zone = data.time_zone
        location.stamp_updated(actor.id, current_clock().now())
        await session.flush()
        await audit_service.record(
            session, actor, "location.update", resource_type="location",
            resource_id=location.id, details={"fields": audit_service.changed_fields(changes)})
    return location


async def resolve_codes(session: AsyncSession, codes: Iterable[str]
                        ) -> dict[str, Location]:
    """The caller's practice's locations named by ``codes`` (any case), keyed by the code as
    given. Codes of no location (or of another practice's) are simply absent."""
    codes = list(codes)
    found = {loc.code_key: loc
             for loc in await LocationRepository(session).by_code_keys(
                 {code_key(c) for c in codes})}
    return {c: found[code_key(c)] for c in codes if code_key(c) in found}


async def find_by_code(session: AsyncSession, code: str) -> Location | None:
    return (await resolve_codes(session, [code])).get(code)


async def get(session: AsyncSession, location_id: str) -> Location | None:
    """A location of the caller's practice, without a role check (for other domains)."""
    return await LocationRepository(session).get(location_id)


async def by_ids(session: AsyncSession, location_ids: Iterable[str]) -> dict[str, Location]:
    """The practice's locations with these ids, by id (for answers that name a location)."""
    return {location.id: location
            for location in await LocationRepository(session).get_many(list(set(location_ids)))}
