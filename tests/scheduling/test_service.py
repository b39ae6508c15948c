"""The scheduling service called directly: ids, visibility and the version check live in the
repository base, so the service answers the same way whoever calls it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Role
from dermifi.core.db import scope_to_practice
from dermifi.core.errors import Forbidden, NotFound, PreconditionFailed
from dermifi.core.state import AppState
from dermifi.scheduling import service as scheduling_service
from dermifi.scheduling.models import Appointment, AppointmentStatusChange
from dermifi.scheduling.schemas import AppointmentUpdate
from tests.factories.practices import make_practice
from tests.scheduling.conftest import DOCUMENT_DAY, Book, at, book  # noqa: F401 - fixture


def _actor(book: Book, role: Role = Role.FRONT_DESK,  # noqa: F811
           practice_id: str | None = None) -> Actor:
    return Actor(id=book.desk.user_id, practice_id=practice_id or book.desk.practice_id,
                 role=role, session_id="test")


@pytest.fixture
async def session(state: AppState, book: Book) -> AsyncIterator[AsyncSession]:  # noqa: F811
    async with state.sessionmaker() as opened:
        scope_to_practice(opened, book.desk.practice_id)
        yield opened


async def test_a_booking_is_an_appt_id_readable_by_the_book(
    book: Book, session: AsyncSession,  # noqa: F811
) -> None:
    booked = await book.book(at(DOCUMENT_DAY, "10:00"))
    assert booked["id"].startswith("appt_")
    found = await scheduling_service.get_readable(
        session, _actor(book), appointment_id=booked["id"])
    assert found.appointment.id == booked["id"]


async def test_an_id_stored_before_the_appt_prefix_still_reads(
    book: Book, session: AsyncSession, state: AppState,  # noqa: F811
) -> None:
    booked = await book.book(at(DOCUMENT_DAY, "10:00"))
    legacy = "apt_" + booked["id"].removeprefix("appt_")
    # Re-stored under the old prefix (delete and insert: the overlap check would count an id
    # change as a second booking of the same time).
    async with state.sessionmaker() as writer:
        row = dict((await writer.execute(text("SELECT * FROM appointment WHERE id = :id"),
                                         {"id": booked["id"]})).mappings().one())
        # Rows from before the status history had none.
        await writer.execute(delete(AppointmentStatusChange).where(
            AppointmentStatusChange.appointment_id == booked["id"]))
        await writer.execute(delete(Appointment).where(Appointment.id == booked["id"]))
        row["id"] = legacy
        await writer.execute(text(f"INSERT INTO appointment ({', '.join(row)}) "
                                  f"VALUES ({', '.join(':' + c for c in row)})"), row)
        await writer.commit()
    found = await scheduling_service.get_readable(
        session, _actor(book), appointment_id=legacy)
    assert found.appointment.id == legacy
    response = await book.desk.get(f"/v1/appointments/{legacy}")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == legacy


async def test_the_role_is_refused_before_the_id_is_looked_up(
    book: Book, session: AsyncSession,  # noqa: F811
) -> None:
    with pytest.raises(Forbidden):
        await scheduling_service.get_readable(session, _actor(book, Role.PHARMACY),
                                              appointment_id="appt_nope")
    with pytest.raises(NotFound):
        await scheduling_service.get_readable(session, _actor(book), appointment_id="appt_nope")


async def test_another_practices_appointment_is_not_found(
    book: Book, state: AppState,  # noqa: F811
) -> None:
    booked = await book.book(at(DOCUMENT_DAY, "10:00"))
    other = await make_practice(state, name="Other Dermatology")
    async with state.sessionmaker() as session:
        scope_to_practice(session, other.id)
        with pytest.raises(NotFound):
            await scheduling_service.get_readable(
                session, _actor(book, practice_id=other.id), appointment_id=booked["id"])


async def test_a_stale_if_match_changes_nothing(
    book: Book, session: AsyncSession, state: AppState,  # noqa: F811
) -> None:
    booked = await book.book(at(DOCUMENT_DAY, "10:00"), reason="Acne follow-up")
    found = await scheduling_service.get_readable(session, _actor(book),
                                                  appointment_id=booked["id"])
    with pytest.raises(PreconditionFailed):
        await scheduling_service.reschedule(
            session, _actor(book), booking=found,
            data=AppointmentUpdate.model_validate({"reason": "Rash"}), if_match='"v7"')
    async with state.sessionmaker() as fresh:
        reason, version = (await fresh.execute(text(
            "SELECT reason, version FROM appointment WHERE id = :id"),
            {"id": booked["id"]})).one()
    assert (reason, version) == ("Acne follow-up", 1)
