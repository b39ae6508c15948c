"""``Idempotency-Key`` on booking: a retried booking is the same appointment, not a clash."""

from __future__ import annotations

from sqlalchemy import func, select

from dermifi.core.state import AppState
from dermifi.scheduling.models import Appointment
from tests.auth.test_login import assert_error
from tests.scheduling.conftest import DOCUMENT_DAY, Book, at

KEY = "booking-2024-01-20-0900"


async def appointment_count(state: AppState) -> int:
    async with state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Appointment)) or 0)


async def test_a_retried_booking_replays_the_appointment(book: Book, state: AppState) -> None:
    body = book.booking(at(DOCUMENT_DAY, "09:00"), reason="Acne follow-up")
    headers = {"Idempotency-Key": KEY}
    first = await book.desk.post("/v1/appointments", json=body, headers=headers)
    assert first.status_code == 201, first.text
    # Without the key the same booking would clash with itself (the provider is taken).
    retry = await book.desk.post("/v1/appointments", json=body, headers=headers)
    assert retry.status_code == 201, retry.text
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["Location"] == f"/v1/appointments/{first.json()['id']}"
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert await appointment_count(state) == 1

    moved = await book.desk.post("/v1/appointments", headers=headers,
                                 json={**body, "start": at(DOCUMENT_DAY, "10:00")})
    error = assert_error(moved, 409, "CONFLICT")
    assert error["message"] == "Idempotency-Key was already used with a different request"
    assert await appointment_count(state) == 1


async def test_a_clashing_booking_leaves_the_key_free(book: Book, state: AppState) -> None:
    await book.book(at(DOCUMENT_DAY, "09:00"))
    headers = {"Idempotency-Key": KEY}
    clash = await book.desk.post("/v1/appointments", headers=headers,
                                 json=book.booking(at(DOCUMENT_DAY, "09:00"), patient=1))
    assert_error(clash, 409, "CONFLICT")
    free = await book.desk.post("/v1/appointments", headers=headers,
                                json=book.booking(at(DOCUMENT_DAY, "09:30"), patient=1))
    assert free.status_code == 201, free.text
    assert "Idempotent-Replayed" not in free.headers
    assert await appointment_count(state) == 2
