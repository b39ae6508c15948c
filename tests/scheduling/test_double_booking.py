"""A provider is never double-booked: not by racing requests, not by a write that skips the
service (the database refuses it: an exclusion constraint on PostgreSQL, triggers on SQLite)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from dermifi.core.db import scope_to_practice, unit_of_work
from dermifi.core.ids import new_id
from dermifi.core.state import AppState
from dermifi.providers.models import Provider, WorkingHours
from dermifi.scheduling.models import PATIENT_OVERLAP, PROVIDER_OVERLAP, Appointment
from tests.auth.test_login import assert_error
from tests.factories.providers import create_provider, valid_npi
from tests.scheduling.conftest import DOCUMENT_DAY, Book, at, new_patients

CONCURRENT = 12


async def test_many_concurrent_bookings_of_one_slot_one_wins(book: Book,
                                                             state: AppState) -> None:
    patients = await new_patients(book.desk, CONCURRENT)
    bodies = [{**book.booking(at(DOCUMENT_DAY, "10:00")), "patientId": p} for p in patients]
    responses = await asyncio.gather(*(book.desk.post("/v1/appointments", json=b)
                                       for b in bodies))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (CONCURRENT - 1), [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, "CONFLICT")
    async with state.sessionmaker() as session:
        stored = (await session.scalars(select(Appointment))).all()
    assert len(stored) == 1


async def test_concurrent_overlapping_reschedules_one_wins(book: Book,
                                                           state: AppState) -> None:
    """Two appointments moved at once onto the same time: exactly one move lands."""
    first = await book.book(at(DOCUMENT_DAY, "09:00"))
    second = await book.book(at(DOCUMENT_DAY, "09:30"), patient=1)
    responses = await asyncio.gather(*(
        book.desk.patch(f"/v1/appointments/{apt['id']}",
                        json={"start": at(DOCUMENT_DAY, "15:00")})
        for apt in (first, second)))
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    async with state.sessionmaker() as session:
        starts = sorted((await session.scalars(select(Appointment.starts_at))).all())
    assert len(starts) == 2
    assert starts[0] != starts[1]


async def _store(state: AppState, book: Book, start: datetime, *, patient: int,
                 minutes: int = 30, status: str = "scheduled", provider_id: str | None = None
                 ) -> str:
    """Write an appointment straight to the database, past every check of the service."""
    async with state.sessionmaker() as session:
        scope_to_practice(session, book.desk.practice_id)
        location_id = (await session.scalars(select(Appointment.location_id).limit(1))).one()
        appointment = Appointment(
            id=new_id("appt"), practice_id=book.desk.practice_id,
            patient_id=book.patients[patient],
            provider_id=provider_id or book.provider["id"],
            location_id=location_id, starts_at=start,
            ends_at=start + timedelta(minutes=minutes), duration_minutes=minutes,
            type="consultation", status=status, created_at=start, created_by="test",
            updated_at=start, updated_by="test")
        session.add(appointment)
        await session.commit()
        return appointment.id


async def test_the_database_refuses_an_overlap_the_service_never_saw(book: Book,
                                                                     state: AppState) -> None:
    booked = await book.book(at(DOCUMENT_DAY, "10:00"))
    start = datetime.fromisoformat(booked["start"])
    with pytest.raises(IntegrityError, match=PROVIDER_OVERLAP):
        await _store(state, book, start + timedelta(minutes=15), patient=1)
    # The same patient at the same time with another provider is refused as well.
    colleague = await create_provider(book.admin, verify=True, npi=valid_npi("124531959"),
                                      lastName="Lee", locations=["SF"])
    with pytest.raises(IntegrityError, match=PATIENT_OVERLAP):
        await _store(state, book, start - timedelta(minutes=15), patient=0,
                     provider_id=colleague["id"])
    # What does not hold time (cancelled) may overlap; what touches does not overlap.
    await _store(state, book, start, patient=1, status="cancelled")
    await _store(state, book, start + timedelta(minutes=30), patient=2)


async def test_the_database_refuses_reviving_a_cancelled_overlap(book: Book,
                                                                 state: AppState) -> None:
    booked = await book.book(at(DOCUMENT_DAY, "10:00"))
    ghost = await _store(state, book, datetime.fromisoformat(booked["start"]), patient=1,
                         status="cancelled")
    revive = update(Appointment).where(Appointment.id == ghost).values(status="scheduled")
    async with state.sessionmaker() as session, session.begin():
        with pytest.raises(IntegrityError, match=PROVIDER_OVERLAP):
            await session.execute(revive)


async def test_a_booking_waits_for_a_change_of_the_hours(book: Book, state: AppState) -> None:
    """Hours being replaced and a booking in them at once: the booking waits for the new
    hours (it takes a shared lock on the provider, which the replacement holds exclusively)
    and is judged by them, never by the hours that were just removed."""
    async with state.sessionmaker() as session:
        scope_to_practice(session, book.desk.practice_id)
        async with unit_of_work(session):
            await session.execute(select(Provider).where(Provider.id == book.provider["id"])
                                  .with_for_update())
            await session.execute(delete(WorkingHours).where(
                WorkingHours.provider_id == book.provider["id"],
                WorkingHours.day_of_week == 5))  # 2024-01-20 is a Saturday
            booking = asyncio.create_task(book.desk.post(
                "/v1/appointments", json=book.booking(at(DOCUMENT_DAY, "09:00"))))
            await asyncio.sleep(1.0)
            assert not booking.done()
        response = await booking
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert "no working hours" in str(error["details"])
