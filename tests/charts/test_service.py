"""The composition layer called directly: the chart joins what the clinical domains say of a
patient, and deactivation with its cascade is one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Role
from dermifi.charts import service as charts_service
from dermifi.core.db import scope_to_practice
from dermifi.core.errors import Forbidden
from dermifi.core.state import AppState
from dermifi.patients.repository import PatientRepository
from dermifi.patients.schemas import DeactivateRequest
from dermifi.scheduling import service as scheduling_service
from dermifi.scheduling.models import Appointment
from tests.scheduling.conftest import DOCUMENT_DAY, Book, at, book  # noqa: F401 - fixture


def _actor(book: Book, role: Role = Role.FRONT_DESK) -> Actor:  # noqa: F811
    return Actor(id=book.desk.user_id, practice_id=book.desk.practice_id, role=role,
                 session_id="test")


@pytest.fixture
async def session(state: AppState, book: Book) -> AsyncIterator[AsyncSession]:  # noqa: F811
    async with state.sessionmaker() as opened:
        scope_to_practice(opened, book.desk.practice_id)
        yield opened


async def test_the_chart_composes_the_next_appointment(book: Book,  # noqa: F811
                                                       session: AsyncSession) -> None:
    booked = await book.book(at(DOCUMENT_DAY, "10:00"))
    patient = await PatientRepository(session).get(book.patients[0])
    assert patient is not None
    chart = await charts_service.read_chart(session, _actor(book), patient=patient,
                                            include=["appointments"])
    assert chart.next_appointment is not None
    assert chart.next_appointment.isoformat().startswith("2024-01-20T18:00")
    assert [a["id"] for a in chart.included["appointments"]] == [booked["id"]]
    assert "notes" not in chart.included


async def test_notes_are_refused_to_the_front_desk(book: Book,  # noqa: F811
                                                   session: AsyncSession) -> None:
    patient = await PatientRepository(session).get(book.patients[0])
    assert patient is not None
    with pytest.raises(Forbidden):
        await charts_service.read_chart(session, _actor(book), patient=patient,
                                        include=["notes"])


async def test_deactivation_cancels_upcoming_appointments_in_one_transaction(
    book: Book, session: AsyncSession, state: AppState,  # noqa: F811
) -> None:
    await book.book(at(DOCUMENT_DAY, "10:00"))
    patient = await PatientRepository(session).get(book.patients[0])
    assert patient is not None
    inactive = await charts_service.deactivate(session, _actor(book), patient=patient,
                                               data=DeactivateRequest(), if_match=None)
    assert inactive.status == "inactive"
    async with state.sessionmaker() as fresh:
        statuses = (await fresh.scalars(select(Appointment.status).where(
            Appointment.patient_id == patient.id))).all()
    assert statuses == ["cancelled"]


async def test_a_failing_cascade_leaves_the_patient_active(
    book: Book, session: AsyncSession, state: AppState,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await book.book(at(DOCUMENT_DAY, "10:00"))
    patient = await PatientRepository(session).get(book.patients[0])
    assert patient is not None

    async def broken(*_: object, **__: object) -> int:
        raise RuntimeError("the book could not be changed")

    patient_id = patient.id  # the rollback expires the loaded row
    monkeypatch.setattr(scheduling_service, "cancel_upcoming_of", broken)
    with pytest.raises(RuntimeError):
        await charts_service.deactivate(session, _actor(book), patient=patient,
                                        data=DeactivateRequest(), if_match=None)
    async with state.sessionmaker() as fresh:
        scope_to_practice(fresh, book.desk.practice_id)
        again = await PatientRepository(fresh).get(patient_id)
        statuses = (await fresh.scalars(select(Appointment.status).where(
            Appointment.patient_id == patient_id))).all()
    assert again is not None
    assert again.status == "active"
    assert statuses == ["scheduled"]
