"""The patients service called directly: a page of the list is read in the order the sort
chose, a reference to a patient names the field it came from, and a stale If-Match changes
nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit.models import AuditEvent
from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Role
from dermifi.core.db import scope_to_practice
from dermifi.core.errors import InvalidState, NotFound, PreconditionFailed
from dermifi.core.pagination import PageRequest
from dermifi.core.state import AppState
from dermifi.patients import service as patients_service
from dermifi.patients.repository import PatientRepository
from dermifi.patients.schemas import DeactivateRequest, PatientUpdate
from dermifi.practices.models import Practice
from tests.factories.patients import make_patient
from tests.factories.users import make_user


@pytest.fixture
async def desk(state: AppState, practice: Practice) -> Actor:
    user = await make_user(state, practice_id=practice.id, role=Role.FRONT_DESK)
    return Actor(id=user.user.id, practice_id=practice.id, role=Role.FRONT_DESK,
                 session_id="test")


@pytest.fixture
async def session(state: AppState, practice: Practice) -> AsyncIterator[AsyncSession]:
    async with state.sessionmaker() as opened:
        scope_to_practice(opened, practice.id)
        yield opened


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_a_page_keeps_the_order_of_the_sort(
    state: AppState, session: AsyncSession, desk: Actor, order: str,
) -> None:
    for last in ("Moreno", "Abbott", "Zhang", "Kaur"):
        await make_patient(state, desk, lastName=last)
    patients, pagination = await patients_service.list_patients(
        session, desk, page=PageRequest(page=1, limit=3), search=None, status=None,
        sort_by="lastName", order=order)  # type: ignore[arg-type]
    expected = ["Abbott", "Kaur", "Moreno", "Zhang"]
    if order == "desc":
        expected.reverse()
    assert [p.last_name for p in patients] == expected[:3]
    assert pagination.total == 4

    event = (await session.scalars(select(AuditEvent).where(
        AuditEvent.action == "patient.list"))).one()
    assert event.details["patientIds"] == [p.id for p in patients]
    assert event.details["sortBy"] == "lastName"


async def test_a_reference_to_a_patient_names_its_field(
    state: AppState, session: AsyncSession, desk: Actor,
) -> None:
    created = await make_patient(state, desk)
    with pytest.raises(NotFound) as missing:
        await patients_service.active_patient(session, "pat_nope", field="patientId")
    assert [(d.field, d.message) for d in missing.value.details] == [
        ("patientId", "No such patient")]

    patient = await PatientRepository(session).get(created.id)
    assert patient is not None
    await patients_service.deactivate_patient(session, desk, patient=patient,
                                              data=DeactivateRequest(), if_match=None)
    with pytest.raises(InvalidState) as inactive:
        await patients_service.active_patient(session, patient.id, field="patientId")
    assert [(d.field, d.message) for d in inactive.value.details] == [("patientId", "Inactive")]


async def test_a_stale_if_match_changes_nothing(
    state: AppState, session: AsyncSession, desk: Actor,
) -> None:
    created = await make_patient(state, desk, firstName="Jane")
    patient = await PatientRepository(session).get(created.id)
    assert patient is not None
    with pytest.raises(PreconditionFailed):
        await patients_service.update_patient(
            session, desk, patient=patient,
            data=PatientUpdate.model_validate({"firstName": "Janet"}), if_match='"v5"')
    async with state.sessionmaker() as fresh:
        scope_to_practice(fresh, desk.practice_id)
        again = await PatientRepository(fresh).get(created.id)
    assert again is not None
    assert (again.first_name, again.version) == ("Jane", 1)
