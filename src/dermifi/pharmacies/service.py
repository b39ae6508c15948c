"""The pharmacy directory, shared by every practice of the deployment: where prescriptions and
orders are sent. Other domains use pharmacies through this module (``get``, ``by_ids``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit import service as audit_service
from dermifi.auth.actor import Actor
from dermifi.core.context import current_clock
from dermifi.core.db import unit_of_work
from dermifi.core.errors import Conflict, ErrorDetail, ValidationFailed
from dermifi.core.identifiers import npi_problem
from dermifi.core.ids import new_id
from dermifi.core.pagination import PageRequest, Pagination
from dermifi.pharmacies import policies
from dermifi.pharmacies.identifiers import ncpdp_problem
from dermifi.pharmacies.models import Pharmacy, name_key
from dermifi.pharmacies.repository import PharmacyRepository
from dermifi.pharmacies.schemas import PharmacyCreate, PharmacyUpdate

# Who made an entry on the command line: the deployment operator, not a user of a practice.
OPERATOR = "operator"


def _check_identifiers(data: PharmacyCreate) -> None:
    problems = []
    if problem := ncpdp_problem(data.ncpdp_id):
        problems.append(ErrorDetail(field="ncpdpId", message=problem))
    if problem := npi_problem(data.npi):
        problems.append(ErrorDetail(field="npi", message=problem))
    if problems:
        raise ValidationFailed(details=problems)


async def _add(session: AsyncSession, data: PharmacyCreate, *, by: str,
               practice_id: str | None) -> Pharmacy:
    _check_identifiers(data)
    # The unique index closes the race; this check names the field.
    if await PharmacyRepository(session).ncpdp_taken(data.ncpdp_id):
        raise Conflict("A pharmacy with this NCPDP ID is already in the directory",
                       details=[{"field": "ncpdpId", "message": "Already in the directory"}])
    now = current_clock().now()
    pharmacy = Pharmacy(
        id=new_id("pharm"), name=data.name, name_key=name_key(data.name),
        ncpdp_id=data.ncpdp_id, npi=data.npi, address=data.address.model_dump(mode="json"),
        zip_code=data.address.zip_code, phone=data.phone, fax=data.fax, gateway=data.gateway,
        added_by_practice_id=practice_id, created_at=now, created_by=by, updated_at=now,
        updated_by=by,
    )
    session.add(pharmacy)
    await session.flush()
    return pharmacy


async def create_pharmacy(session: AsyncSession, actor: Actor, *, data: PharmacyCreate
                          ) -> Pharmacy:
    policies.ensure_can_add(actor)
    async with unit_of_work(session):
        pharmacy = await _add(session, data, by=actor.id, practice_id=actor.practice_id)
        await audit_service.record(session, actor, "pharmacy.create",
                                   resource_type="pharmacy", resource_id=pharmacy.id)
    return pharmacy


async def add_by_operator(session: AsyncSession, *, data: PharmacyCreate) -> Pharmacy:
    """An entry from the command line (``dermifi pharmacy create``): no practice owns it, so
    no practice admin can change it."""
    async with unit_of_work(session):
        return await _add(session, data, by=OPERATOR, practice_id=None)


async def search_pharmacies(session: AsyncSession, actor: Actor, *, page: PageRequest,
                            search: str | None = None, zip_code: str | None = None,
                            ncpdp_id: str | None = None
                            ) -> tuple[Sequence[Pharmacy], Pagination]:
    policies.ensure_can_read(actor)
    pharmacies = PharmacyRepository(session)
    return await pharmacies.page(pharmacies.search_statement(
        actor, search=search, zip_code=zip_code, ncpdp_id=ncpdp_id), page)


async def get_readable(session: AsyncSession, actor: Actor, *, pharmacy_id: str) -> Pharmacy:
    policies.ensure_can_read(actor)
    return await PharmacyRepository(session).get_readable(actor, pharmacy_id)


async def update_pharmacy(session: AsyncSession, actor: Actor, *, pharmacy: Pharmacy,
                          data: PharmacyUpdate, if_match: str | None) -> Pharmacy:
    policies.ensure_can_change(actor, added_by_practice_id=pharmacy.added_by_practice_id)
    changes = data.model_dump(exclude_unset=True)
    async with unit_of_work(session):
        await PharmacyRepository(session).lock_for_change(pharmacy, if_match)
        if data.name is not None:
            pharmacy.name = data.name
            pharmacy.name_key = name_key(data.name)
        if data.address is not None:
            pharmacy.address = data.address.model_dump(mode="json")
            pharmacy.zip_code = data.address.zip_code
        if data.phone is not None:
            pharmacy.phone = data.phone
        if data.fax is not None:
            pharmacy.fax = data.fax
        pharmacy.stamp_updated(actor.id, current_clock().now())
        await session.flush()
        await audit_service.record(
            session, actor, "pharmacy.update", resource_type="pharmacy",
            resource_id=pharmacy.id, details={"fields": audit_service.changed_fields(changes)})
    return pharmacy


async def is_listed(session: AsyncSession, ncpdp_id: str) -> bool:
    return await PharmacyRepository(session).ncpdp_taken(ncpdp_id)


async def get(session: AsyncSession, pharmacy_id: str) -> Pharmacy | None:
    """A directory entry, without a role check (for the domains that send to pharmacies)."""
    return await PharmacyRepository(session).get(pharmacy_id)


async def by_ids(session: AsyncSession, pharmacy_ids: Iterable[str]) -> dict[str, Pharmacy]:
    return {p.id: p for p in await PharmacyRepository(session).get_many(list(set(pharmacy_ids)))}
