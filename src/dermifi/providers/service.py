"""Providers: the directory, registration with NPI/DEA/license checks, verification, the
link to a user account, and the weekly working-hours template the schedule is built from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from sqlalchemy import ScalarSelect, select
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit import service as audit_service
from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Role
from dermifi.core import identifiers as core_identifiers
from dermifi.core.context import current_clock
from dermifi.core.db import unit_of_work
from dermifi.core.errors import Conflict, ErrorDetail, InvalidState, NotFound, ValidationFailed
from dermifi.core.ids import new_id
from dermifi.core.pagination import PageRequest
from dermifi.locations import service as locations_service
from dermifi.locations.models import Location
from dermifi.providers import hours, identifiers, policies
from dermifi.providers.models import (
    ACTIVE,
    PENDING_VERIFICATION,
    DayOff,
    Provider,
    ProviderLocation,
    WorkingHours,
    display_name,
)
from dermifi.providers.repository import ProviderRepository
from dermifi.providers.schemas import (
    WEEKDAYS,
    ProviderCreate,
    ProviderUpdate,
    WorkingHoursReplace,
)
from dermifi.users import service as users_service


def today() -> date:
    return current_clock().now().date()


# --- reads ---------------------------------------------------------------------------------

async def list_providers(
    session: AsyncSession, actor: Actor, *, page: PageRequest, specialty: str | None,
    available: bool | None, location: str | None, status: str | None,
) -> tuple[Sequence[Provider], int]:
    """The directory page and the total matching. ``status`` None means every status."""
    policies.ensure_can_read(actor)
    location_id = None
    if location is not None:
        found = await locations_service.find_by_code(session, location)
        if found is None:
            return [], 0  # no such location: nobody works there
        location_id = found.id
    providers = ProviderRepository(session)
    stmt = providers.list_statement(actor, specialty=specialty, available=available,
                                    location_id=location_id, status=status)
    rows, pagination = await providers.page(stmt, page)
    return rows, pagination.total


async def get_readable(session: AsyncSession, actor: Actor, *, provider_id: str) -> Provider:
    """The provider, for the directory's readers (else FORBIDDEN), if it belongs to the
    caller's practice (else NOT_FOUND, as for an id that does not exist)."""
    policies.ensure_can_read(actor)
    return await ProviderRepository(session).get_readable(actor, provider_id)


async def verified_provider(session: AsyncSession, provider_id: str, *, field: str,
                            share_lock: bool = False) -> Provider:
    """A verified provider of the practice, for another domain to name (a patient's primary
    provider, an appointment's, a prescriber): NOT_FOUND or INVALID_STATE naming ``field``.

    ``share_lock``: hold the row against changes (working hours, status) until the
    transaction ends, without blocking other holders (FOR SHARE)."""
    provider = await ProviderRepository(session).get(
        provider_id, lock="share" if share_lock else None)
    if provider is None:
        raise NotFound("No such provider", details=[{"field": field,
                                                     "message": "No such provider"}])
    if provider.status != ACTIVE:
        raise InvalidState("The provider is not verified yet",
                           details=[{"field": field, "message": "Not active"}])
    return provider


async def reference(session: AsyncSession, provider_id: str) -> tuple[str, str] | None:
    """The provider's id and display name ("Dr. Emily Johnson"), or None."""
    row = (await session.execute(select(*reference_of(provider_id)))).one()
    return reference_from(provider_id, *row)


def reference_of(provider_id: Any) -> tuple[ScalarSelect[Any], ...]:
    """What ``reference`` needs, as scalar subqueries another statement can select beside its
    own (the chart reads everything in one round trip); the entity is not loaded."""
    return tuple(select(column).where(Provider.id == provider_id).scalar_subquery()
                 for column in (Provider.first_name, Provider.last_name, Provider.title))


def reference_from(provider_id: str, first_name: str | None, last_name: str | None,
                   title: str | None) -> tuple[str, str] | None:
    """The reference from the values ``reference_of`` selected (None: no such provider in the
    caller's practice)."""
    if first_name is None or last_name is None or title is None:
        return None
    return provider_id, display_name(first_name, last_name, title)


# --- checks shared by create and update ----------------------------------------------------

async def _resolve_locations(session: AsyncSession, codes: Sequence[str],
                             problems: list[ErrorDetail]) -> list[Location]:
    found = await locations_service.resolve_codes(session, codes)
    unknown = [c for c in codes if c not in found]
    if unknown:
        problems.append(ErrorDetail(field="locations", message="No such location in this "
                                    "practice: " + ", ".join(unknown)))
    return [found[c] for c in codes if c in found]


async def _check_user(session: AsyncSession, user_id: str, *, provider_id: str | None,
                      problems: list[ErrorDetail]) -> bool:
    """Whether ``user_id`` may be linked: a provider-role user of this practice (else a
    problem) not linked to another provider (else CONFLICT)."""
    role = await users_service.role_of(session, user_id)
    if role is None:
        problems.append(ErrorDetail(field="userId", message="No such user in this practice"))
        return False
    if role != Role.PROVIDER.value:
        problems.append(ErrorDetail(field="userId",
                                    message="Only a user with the provider role can be linked"))
        return False
    linked = await ProviderRepository(session).provider_of_user(user_id)
    if linked is not None and linked != provider_id:
        raise Conflict("The user is already linked to another provider",
                       details=[{"field": "userId", "message": "Linked to another provider"}])
    return True


def _links(provider: Provider, locations: Sequence[Location]) -> list[ProviderLocation]:
    """The provider's location links in the given order, keeping the rows that stay."""
    existing = {link.location_id: link for link in provider.location_links}
    links = []
    for position, location in enumerate(locations):
        link = existing.get(location.id) or ProviderLocation(
            practice_id=provider.practice_id, location_id=location.id, location=location)
        link.position = position
        links.append(link)
    return links


# --- writes --------------------------------------------------------------------------------

async def create_provider(session: AsyncSession, actor: Actor, *, data: ProviderCreate
                          ) -> Provider:
    policies.ensure_can_manage(actor)
    problems: list[ErrorDetail] = []
    npi_problem = core_identifiers.npi_problem(data.npi_number)
    if npi_problem:
        problems.append(ErrorDetail(field="npiNumber", message=npi_problem))
    if data.dea_number is not None:
        problems += [ErrorDetail(field="deaNumber", message=m)
                     for m in identifiers.dea_problems(data.dea_number,
                                                       last_name=data.last_name)]
    if data.license_expiry < today():
        problems.append(ErrorDetail(field="licenseExpiry", message="The license has expired"))
    now = current_clock().now()
    async with unit_of_work(session):
        locations = await _resolve_locations(session, data.locations, problems)
        if data.user_id is not None:
            await _check_user(session, data.user_id, provider_id=None, problems=problems)
        if problems:
            raise ValidationFailed(details=problems)
        # The unique key (practice, NPI) closes the race; this check names the field.
        if await ProviderRepository(session).npi_taken(data.npi_number):
            raise Conflict("A provider with this NPI already exists",
                           details=[{"field": "npiNumber", "message": "Already registered"}])
        provider = Provider(
            id=new_id("prov"), practice_id=actor.practice_id, user_id=data.user_id,
            first_name=data.first_name, last_name=data.last_name, title=data.title,
            specialty=data.specialty, specialty_key=data.specialty.lower(),
            subspecialty=data.subspecialty, npi_number=data.npi_number,
            license_number=data.license_number, license_state=data.license_state,
            license_expiry_date=data.license_expiry, license_verified=False,
            dea_number=data.dea_number, email=str(data.email) if data.email else None,
            phone=data.phone, languages=list(data.languages),
            accepting_new_patients=data.accepting_new_patients,
            education=[e.model_dump(mode="json") for e in data.education],
            residency=data.residency.model_dump(mode="json") if data.residency else None,
            fellowship=data.fellowship.model_dump(mode="json") if data.fellowship else None,
            certifications=list(data.certifications), status=PENDING_VERIFICATION,
            created_at=now, created_by=actor.id, updated_at=now, updated_by=actor.id,
            location_links=[],
        )
        provider.location_links = _links(provider, locations)
        session.add(provider)
        await session.flush()
        await audit_service.record(
            session, actor, "provider.create", resource_type="provider",
            resource_id=provider.id,
            details={"locationIds": [loc.id for loc in locations], "userId": data.user_id})
    return provider


async def update_provider(session: AsyncSession, actor: Actor, *, provider: Provider,
                          data: ProviderUpdate, if_match: str | None) -> Provider:
    policies.ensure_can_manage(actor)
    changes = data.model_dump(exclude_unset=True)
    problems: list[ErrorDetail] = []
    async with unit_of_work(session):
        providers = ProviderRepository(session)
        await providers.lock_for_change(provider, if_match)
        locations: list[Location] | None = None
        if data.locations is not None:
            locations = await _resolve_locations(session, data.locations, problems)
            kept = {loc.id for loc in locations}
            scheduled = await providers.locations_with_hours(provider.id)
            dropped = [link.location.code for link in provider.location_links
                       if link.location_id in scheduled and link.location_id not in kept]
            if dropped:
                problems.append(ErrorDetail(
                    field="locations", message="Still in the provider's working hours: "
                    + ", ".join(dropped) + " (change the working hours first)"))
        if data.user_id is not None and data.user_id != provider.user_id:
            await _check_user(session, data.user_id, provider_id=provider.id,
                              problems=problems)
        if problems:
            raise ValidationFailed(details=problems)
        if "email" in changes:
            provider.email = str(data.email) if data.email else None
        if "phone" in changes:
            provider.phone = data.phone
        if data.languages is not None:
            provider.languages = list(data.languages)
        if data.accepting_new_patients is not None:
            provider.accepting_new_patients = data.accepting_new_patients
        if "user_id" in changes:
            provider.user_id = data.user_id
        if locations is not None:
            provider.location_links = _links(provider, locations)
        provider.stamp_updated(actor.id, current_clock().now())
        await session.flush()
        details: dict[str, object] = {"fields": audit_service.changed_fields(changes)}
        if locations is not None:
            details["locationIds"] = [loc.id for loc in locations]
        if "user_id" in changes:
            details["userId"] = data.user_id
        await audit_service.record(session, actor, "provider.update",
                                   resource_type="provider", resource_id=provider.id,
                                   details=details)
    return provider


async def verify_provider(session: AsyncSession, actor: Actor, *, provider: Provider,
                          if_match: str | None) -> Provider:
    """The license was checked with the state board: the provider becomes active."""
    policies.ensure_can_manage(actor)
    async with unit_of_work(session):
        await ProviderRepository(session).lock_for_change(provider, if_match)
        if provider.status != PENDING_VERIFICATION:
            raise InvalidState("Only a provider pending verification can be verified")
        if provider.license_expiry_date < today():
            raise InvalidState("The license has expired since the provider was registered")
        now = current_clock().now()
        provider.status = ACTIVE
        provider.license_verified = True
        provider.license_verified_at = now
        provider.license_verified_by = actor.id
        provider.stamp_updated(actor.id, now)
        await session.flush()
        await audit_service.record(session, actor, "provider.verify",
                                   resource_type="provider", resource_id=provider.id)
    return provider


# --- working hours -------------------------------------------------------------------------

@dataclass(frozen=True)
class Shift:
    """One stretch of work on a weekday, in wall-clock time at ``time_zone``."""

    day_of_week: int  # 0 = Monday
    location_id: str
    location_code: str
    time_zone: str
    start: time
    end: time
    break_start: time | None
    break_end: time | None


@dataclass(frozen=True)
class WorkingHoursView:
    provider_id: str
    shifts: list[Shift]
    days_off: list[DayOff]


def _shift(row: WorkingHours) -> Shift:
    return Shift(day_of_week=row.day_of_week, location_id=row.location_id,
                 location_code=row.location.code, time_zone=row.location.time_zone,
                 start=row.start_time, end=row.end_time, break_start=row.break_start,
                 break_end=row.break_end)


async def _view(session: AsyncSession, provider: Provider) -> WorkingHoursView:
    providers = ProviderRepository(session)
    rows = await providers.working_hours(provider.id)
    days = await providers.days_off(provider.id)
    return WorkingHoursView(provider.id, [_shift(r) for r in rows], list(days))


async def get_working_hours(session: AsyncSession, actor: Actor, *, provider: Provider
                            ) -> WorkingHoursView:
    policies.ensure_can_read_working_hours(actor)
    return await _view(session, provider)


async def replace_working_hours(session: AsyncSession, actor: Actor, *, provider: Provider,
                                data: WorkingHoursReplace) -> WorkingHoursView:
    """Replace the whole template and the days off (what is not sent is removed)."""
    policies.ensure_can_manage(actor)
    async with unit_of_work(session):
        # Concurrent replacements of one provider's template queue on the provider's row.
        providers = ProviderRepository(session)
        await providers.lock_for_change(provider, None)
        by_key = {link.location.code_key: link.location for link in provider.location_links}
        problems = hours.template_problems(data.working_hours, data.exceptions,
                                           provider_location_keys=by_key.keys())
        if problems:
            raise ValidationFailed(details=problems)
        rows = [WorkingHours(
            id=new_id("wh"), practice_id=provider.practice_id, provider_id=provider.id,
            day_of_week=WEEKDAYS.index(e.day_of_week),
            location_id=by_key[e.location.lower()].id, location=by_key[e.location.lower()],
            start_time=e.start, end_time=e.end,
            break_start=e.break_.start if e.break_ else None,
            break_end=e.break_.end if e.break_ else None,
        ) for e in data.working_hours]
        days = [DayOff(id=new_id("off"), practice_id=provider.practice_id,
                       provider_id=provider.id, off_date=d.date, reason=d.reason)
                for d in data.exceptions]
        await providers.replace_working_hours(provider.id, rows, days)
        await audit_service.record(
            session, actor, "provider.working_hours.replace", resource_type="provider",
            resource_id=provider.id,
            details={"entries": len(rows), "exceptions": len(days),
                     "locationIds": sorted({r.location_id for r in rows})})
        return await _view(session, provider)


async def shifts_on(session: AsyncSession, *, provider: Provider, on: date,
                    location_id: str | None = None) -> list[Shift]:
    """What the provider works on the local date ``on`` (nothing on a day off), earliest
    first: the schedule's starting point. No role check; the caller has made it."""
    providers = ProviderRepository(session)
    if await providers.days_off(provider.id, on=on):
        return []
    rows = await providers.working_hours(provider.id, day_of_week=on.weekday())
    return [_shift(r) for r in rows if location_id is None or r.location_id == location_id]


