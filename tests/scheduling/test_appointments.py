"""/v1/appointments: booking, the rules a booking must keep, the visit's life, roles."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

from dermifi.audit.models import AuditEvent
from dermifi.auth.permissions import Role
from dermifi.core.clock import FrozenClock
from dermifi.core.state import AppState
from tests.auth.test_login import assert_error
from tests.conftest import ClientFactory
from tests.factories.practices import make_practice
from tests.factories.providers import create_provider, valid_npi
from tests.factories.users import RoleClient, login_client, make_user
from tests.scheduling.conftest import DOCUMENT_DAY, Book, at


async def test_book_returns_the_appointment(book: Book, state: AppState) -> None:
    response = await book.desk.post("/v1/appointments", json=book.booking(
        at(DOCUMENT_DAY, "09:00"), type="follow_up", reason="Acne follow-up"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/v1/appointments/{body['id']}"
    assert response.headers["ETag"] == '"v1"'
    assert body["id"].startswith("appt_")
    assert {k: v for k, v in body.items() if k not in ("id", "createdAt", "updatedAt")} == {
        "patientId": book.patients[0], "providerId": book.provider["id"], "location": "SF",
        "timeZone": "America/Los_Angeles", "start": "2024-01-20T17:00:00Z",
        "end": "2024-01-20T17:30:00Z", "localDate": DOCUMENT_DAY, "localTime": "09:00",
        "duration": 30, "type": "follow_up", "status": "scheduled",
        "reason": "Acne follow-up", "notes": None, "confirmedAt": None, "checkedInAt": None,
        "completedAt": None, "cancelledAt": None, "cancelledBy": None,
        "cancellationReason": None, "noShowAt": None, "createdBy": book.desk.user_id,
        "updatedBy": book.desk.user_id,
        "statusHistory": [{"status": "scheduled", "timestamp": "2024-01-19T17:00:00Z",
                           "changedBy": book.desk.user_id, "notes": None}],
    }
    assert body["createdAt"] == "2024-01-19T17:00:00Z"
    read = await book.desk.get(f"/v1/appointments/{body['id']}")
    assert read.status_code == 200
    assert read.json() == body
    async with state.sessionmaker() as session:
        actions = (await session.scalars(select(AuditEvent.action).where(
            AuditEvent.patient_id == book.patients[0],
            AuditEvent.resource_id == body["id"]))).all()
    assert sorted(actions) == ["appointment.create", "appointment.read"]


async def test_location_is_found_from_the_working_hours(book: Book) -> None:
    # Sunday: the provider works at Oakland, which the request need not name.
    body = await book.book(at("2024-01-21", "10:00"), duration=60, type="consultation")
    assert (body["location"], body["localTime"], body["duration"]) == ("Oakland", "10:00", 60)


async def test_start_is_kept_as_utc_whatever_offset_was_sent(book: Book) -> None:
    body = await book.book("2024-01-20T17:00:00Z")
    assert (body["start"], body["localTime"]) == ("2024-01-20T17:00:00Z", "09:00")


async def test_time_zone_of_the_location_across_daylight_saving(book: Book) -> None:
    # 2024-03-10 is the Sunday clocks spring forward in California: 10:00 is then UTC-7.
    body = await book.book(at("2024-03-10", "10:00", "-07:00"))
    assert (body["start"], body["localTime"], body["location"]) == (
        "2024-03-10T17:00:00Z", "10:00", "Oakland")
    # 10:00 in standard time (UTC-8) is 11:00 local that day: inside the hours too.
    later = await book.book("2024-03-10T18:00:00Z", patient=1)
    assert later["localTime"] == "11:00"


@pytest.mark.parametrize(("start", "duration"), [
    (at(DOCUMENT_DAY, "08:30"), 30),   # before the hours
    (at(DOCUMENT_DAY, "16:45"), 30),   # runs past 17:00
    (at(DOCUMENT_DAY, "11:45"), 30),   # runs into the break
    (at(DOCUMENT_DAY, "12:15"), 15),   # inside the break
    (at(DOCUMENT_DAY, "10:00"), 480),  # longer than the day
    (at("2024-01-23", "10:00"), 30),   # the provider's day off
    (at("2024-01-19", "17:30"), 30),   # between Friday's SF and Oakland hours
])
async def test_outside_working_hours_is_refused(book: Book, start: str, duration: int) -> None:
    response = await book.desk.post("/v1/appointments",
                                     json=book.booking(start, duration=duration))
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == ["start"]  # type: ignore[index, union-attr]


async def test_the_refusal_names_that_days_hours(book: Book) -> None:
    response = await book.desk.post("/v1/appointments",
                                    json=book.booking(at(DOCUMENT_DAY, "12:00")))
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert "09:00-17:00 (break 12:00-13:00) at SF" in str(error["details"])


async def test_a_location_the_provider_does_not_work_at_then(book: Book) -> None:
    response = await book.desk.post("/v1/appointments", json=book.booking(
        at(DOCUMENT_DAY, "10:00"), location="Oakland"))
    assert_error(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(("fields", "field"), [
    ({"start": at("2024-01-19", "08:30")}, "start"),     # in the past
    ({"start": at(DOCUMENT_DAY, "09:02")}, "start"),     # not on five minutes
    ({"start": "2024-01-20T09:00:30-08:00"}, "start"),  # seconds
    ({"start": "2024-01-20T09:00:00"}, "start"),        # no offset
    ({"start": at("2028-01-20", "09:00")}, "start"),     # beyond the three-year horizon
    ({"start": "9999-12-31T23:55:00Z"}, "start"),       # ends past the last representable day
    ({"duration": 7}, "duration"),
    ({"duration": 0}, "duration"),
    ({"duration": "30"}, "duration"),
    ({"type": "checkup"}, "type"),
    ({"location": "Mars"}, "location"),
    ({"reason": " "}, "reason"),
    ({"status": "confirmed"}, "status"),               # not the client's to set
])
async def test_invalid_bookings(book: Book, fields: dict[str, Any], field: str) -> None:
    body = {**book.booking(at(DOCUMENT_DAY, "09:00")), **fields}
    response = await book.desk.post("/v1/appointments", json=body)
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in [d["field"] for d in error["details"]]  # type: ignore[union-attr]


async def test_unknown_patient_or_provider_is_not_found(book: Book) -> None:
    response = await book.desk.post("/v1/appointments", json=book.booking(
        at(DOCUMENT_DAY, "09:00"), patientId="pat_missing"))
    error = assert_error(response, 404, "NOT_FOUND")
    assert error["details"] == [{"field": "patientId", "message": "No such patient"}]
    response = await book.desk.post("/v1/appointments", json=book.booking(
        at(DOCUMENT_DAY, "09:00"), providerId="prov_missing"))
    assert_error(response, 404, "NOT_FOUND")


async def test_an_unverified_provider_cannot_be_booked(book: Book) -> None:
    pending = await create_provider(book.admin, npi=valid_npi("124531959"), lastName="Lee",
                                    locations=["SF"])
    response = await book.desk.post("/v1/appointments", json=book.booking(
        at(DOCUMENT_DAY, "09:00"), providerId=pending["id"]))
    assert_error(response, 409, "INVALID_STATE")


async def test_an_inactive_patient_cannot_be_booked(book: Book) -> None:
    deactivated = await book.desk.delete(f"/v1/patients/{book.patients[0]}")
    assert deactivated.status_code == 200
    response = await book.desk.post("/v1/appointments",
                                    json=book.booking(at(DOCUMENT_DAY, "09:00")))
    assert_error(response, 409, "INVALID_STATE")


class TestDoubleBooking:
    async def test_the_same_slot_twice(self, book: Book) -> None:
        await book.book(at(DOCUMENT_DAY, "09:00"))
        response = await book.desk.post("/v1/appointments",
                                        json=book.booking(at(DOCUMENT_DAY, "09:00"), patient=1))
        error = assert_error(response, 409, "CONFLICT")
        assert error["message"] == "The provider is already booked at that time"

    @pytest.mark.parametrize(("start", "duration"), [("09:15", 30), ("09:10", 5),
                                                     ("09:00", 60), ("09:25", 120)])
    async def test_partial_overlaps(self, book: Book, start: str, duration: int) -> None:
        await book.book(at(DOCUMENT_DAY, "09:00"))
        response = await book.desk.post("/v1/appointments", json=book.booking(
            at(DOCUMENT_DAY, start), patient=1, duration=duration))
        assert_error(response, 409, "CONFLICT")

    async def test_back_to_back_is_fine(self, book: Book) -> None:
        await book.book(at(DOCUMENT_DAY, "09:00"))
        after = await book.book(at(DOCUMENT_DAY, "09:30"), patient=1)
        assert after["localTime"] == "09:30"
        before = await book.book(at(DOCUMENT_DAY, "10:30"), patient=2, duration=30)
        assert before["status"] == "scheduled"

    async def test_a_patient_is_not_in_two_places(self, book: Book) -> None:
        await book.book(at(DOCUMENT_DAY, "09:00"))
        colleague = await create_provider(book.admin, verify=True, npi=valid_npi("124531959"),
                                          lastName="Lee", locations=["SF"])
        hours = await book.admin.put(f"/v1/providers/{colleague['id']}/working-hours", json={
            "workingHours": [{"dayOfWeek": "saturday", "location": "SF", "start": "08:00",
                              "end": "12:00"}]})
        assert hours.status_code == 200, hours.text
        response = await book.desk.post("/v1/appointments", json=book.booking(
            at(DOCUMENT_DAY, "09:15"), providerId=colleague["id"]))
        error = assert_error(response, 409, "CONFLICT")
        assert error["message"] == "The patient already has an appointment at that time"

    async def test_cancelling_frees_the_time(self, book: Book) -> None:
        first = await book.book(at(DOCUMENT_DAY, "09:00"))
        cancelled = await book.desk.post(f"/v1/appointments/{first['id']}/cancel")
        assert cancelled.status_code == 200
        again = await book.book(at(DOCUMENT_DAY, "09:00"), patient=1)
        assert again["status"] == "scheduled"


class TestLifecycle:
    async def test_confirm_check_in_complete(self, book: Book, clock: FrozenClock,
                                             client_for: ClientFactory) -> None:
        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        url = f"/v1/appointments/{apt['id']}"
        confirmed = await book.desk.post(f"{url}/confirm")
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["status"] == "confirmed"
        assert confirmed.json()["confirmedAt"] == "2024-01-19T17:00:00Z"
        assert confirmed.headers["ETag"] == '"v2"'
        # Check-in opens on the day itself.
        early = await book.desk.post(f"{url}/check-in")
        error = assert_error(early, 409, "INVALID_STATE")
        assert error["message"] == "Check-in opens on the day of the appointment"
        clock.set(clock.now().replace(day=20, hour=16, minute=50))  # 08:50 on the day
        book.desk = await client_for("front_desk")  # yesterday's token has expired
        checked_in = await book.desk.post(f"{url}/check-in")
        assert checked_in.status_code == 200, checked_in.text
        assert checked_in.json()["checkedInAt"] == "2024-01-20T16:50:00Z"
        # Not completed before it has started.
        assert_error(await book.desk.post(f"{url}/complete"), 409, "INVALID_STATE")
        clock.set(clock.now().replace(minute=55) + timedelta(minutes=30))  # 09:25
        completed = await book.desk.post(f"{url}/complete")
        assert completed.status_code == 200
        body = completed.json()
        assert (body["status"], body["completedAt"]) == ("completed", "2024-01-20T17:25:00Z")
        # Done is done.
        for step in ("confirm", "check-in", "cancel", "no-show", "complete"):
            assert_error(await book.desk.post(f"{url}/{step}"), 409, "INVALID_STATE")
        assert_error(await book.desk.patch(url, json={"notes": "x"}), 409, "INVALID_STATE")

    async def test_cancel_with_a_reason(self, book: Book) -> None:
        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        response = await book.desk.post(f"/v1/appointments/{apt['id']}/cancel",
                                        json={"reason": "Patient called to cancel"})
        assert response.status_code == 200
        body = response.json()
        assert (body["status"], body["cancelledBy"], body["cancellationReason"]) == (
            "cancelled", book.desk.user_id, "Patient called to cancel")
        assert body["cancelledAt"] == "2024-01-19T17:00:00Z"

    async def test_only_a_checked_in_visit_completes(self, book: Book) -> None:
        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        response = await book.desk.post(f"/v1/appointments/{apt['id']}/complete")
        error = assert_error(response, 409, "INVALID_STATE")
        assert "checked in" in str(error["message"])

    async def test_no_show_only_once_the_start_has_passed(
            self, book: Book, clock: FrozenClock, client_for: ClientFactory) -> None:
        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        url = f"/v1/appointments/{apt['id']}/no-show"
        assert_error(await book.desk.post(url), 409, "INVALID_STATE")
        clock.set(clock.now().replace(day=20, hour=17, minute=20))  # 09:20 on the day
        desk = await client_for("front_desk")  # yesterday's token has expired
        response = await desk.post(url)
        assert response.status_code == 200
        assert (response.json()["status"], response.json()["noShowAt"]) == (
            "no_show", "2024-01-20T17:20:00Z")

    async def test_a_stale_if_match_is_refused(self, book: Book) -> None:
        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        url = f"/v1/appointments/{apt['id']}"
        assert (await book.desk.post(f"{url}/confirm", headers={"If-Match": '"v1"'})
                ).status_code == 200
        assert_error(await book.desk.post(f"{url}/cancel", headers={"If-Match": '"v1"'}),
                     412, "PRECONDITION_FAILED")
        assert_error(await book.desk.patch(url, json={"notes": "x"},
                                           headers={"If-Match": '"v1"'}),
                     412, "PRECONDITION_FAILED")

    async def test_every_change_is_audited(self, book: Book, state: AppState) -> None:
        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        url = f"/v1/appointments/{apt['id']}"
        await book.desk.patch(url, json={"start": at(DOCUMENT_DAY, "10:00")})
        await book.desk.post(f"{url}/confirm")
        await book.desk.post(f"{url}/cancel")
        async with state.sessionmaker() as session:
            events = (await session.scalars(select(AuditEvent).where(
                AuditEvent.resource_id == apt["id"]).order_by(AuditEvent.occurred_at,
                                                              AuditEvent.id))).all()
        assert sorted(e.action for e in events) == [
            "appointment.cancel", "appointment.confirm", "appointment.create",
            "appointment.update"]
        assert {e.patient_id for e in events} == {book.patients[0]}
        assert {e.actor_id for e in events} == {book.desk.user_id}
        update = next(e for e in events if e.action == "appointment.update")
        assert update.details["fields"] == ["start"]


class TestReschedule:
    async def test_move_to_a_free_time(self, book: Book) -> None:
        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        await book.desk.post(f"/v1/appointments/{apt['id']}/confirm")
        response = await book.desk.patch(f"/v1/appointments/{apt['id']}", json={
            "start": at(DOCUMENT_DAY, "14:00"), "duration": 45, "notes": "Bring photos"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["localTime"], body["duration"], body["end"], body["notes"]) == (
            "14:00", 45, "2024-01-20T22:45:00Z", "Bring photos")
        # The patient confirmed the old time, not this one.
        assert (body["status"], body["confirmedAt"]) == ("scheduled", None)
        assert response.headers["ETag"] == '"v3"'
        # The old time is free again.
        again = await book.book(at(DOCUMENT_DAY, "09:00"), patient=1)
        assert again["localTime"] == "09:00"

    async def test_moving_within_its_own_time_is_no_clash(self, book: Book) -> None:
        apt = await book.book(at(DOCUMENT_DAY, "09:00"), duration=60)
        response = await book.desk.patch(f"/v1/appointments/{apt['id']}",
                                         json={"start": at(DOCUMENT_DAY, "09:30")})
        assert response.status_code == 200, response.text

    async def test_onto_a_booked_time(self, book: Book) -> None:
        await book.book(at(DOCUMENT_DAY, "14:00"), patient=1)
        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        response = await book.desk.patch(f"/v1/appointments/{apt['id']}",
                                         json={"start": at(DOCUMENT_DAY, "14:15")})
        assert_error(response, 409, "CONFLICT")
        unchanged = await book.desk.get(f"/v1/appointments/{apt['id']}")
        assert unchanged.json()["localTime"] == "09:00"

    async def test_outside_the_hours_or_into_the_past(self, book: Book) -> None:
        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        url = f"/v1/appointments/{apt['id']}"
        for start in (at(DOCUMENT_DAY, "12:00"), at("2024-01-19", "08:00")):
            assert_error(await book.desk.patch(url, json={"start": start}),
                         400, "VALIDATION_ERROR")
        assert_error(await book.desk.patch(url, json={"start": None}), 400, "VALIDATION_ERROR")

    async def test_to_another_provider(self, book: Book) -> None:
        colleague = await create_provider(book.admin, verify=True, npi=valid_npi("124531959"),
                                          lastName="Lee", locations=["Oakland"])
        await book.admin.put(f"/v1/providers/{colleague['id']}/working-hours", json={
            "workingHours": [{"dayOfWeek": "saturday", "location": "Oakland",
                              "start": "08:00", "end": "12:00"}]})
        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        response = await book.desk.patch(f"/v1/appointments/{apt['id']}",
                                         json={"providerId": colleague["id"]})
        assert response.status_code == 200, response.text
        assert (response.json()["providerId"], response.json()["location"]) == (
            colleague["id"], "Oakland")

    async def test_type_and_reason_without_moving(self, book: Book) -> None:
        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        response = await book.desk.patch(f"/v1/appointments/{apt['id']}",
                                         json={"type": "biopsy", "reason": "Shave biopsy"})
        assert response.status_code == 200
        assert (response.json()["type"], response.json()["reason"],
                response.json()["localTime"]) == ("biopsy", "Shave biopsy", "09:00")


class TestList:
    async def test_filters_and_order(self, book: Book) -> None:
        late = await book.book(at(DOCUMENT_DAY, "15:00"))
        early = await book.book(at(DOCUMENT_DAY, "09:00"), patient=1)
        sunday = await book.book(at("2024-01-21", "10:00"), patient=2)
        await book.desk.post(f"/v1/appointments/{sunday['id']}/confirm")

        async def ids(**params: str) -> list[str]:
            response = await book.desk.get("/v1/appointments", params=params)
            assert response.status_code == 200, response.text
            return [a["id"] for a in response.json()["data"]]

        assert await ids() == [early["id"], late["id"], sunday["id"]]
        assert await ids(patientId=book.patients[0]) == [late["id"]]
        assert await ids(providerId=book.provider["id"], status="confirmed") == [sunday["id"]]
        assert await ids(location="oakland") == [sunday["id"]]
        assert await ids(location="Mars") == []
        assert await ids(**{"from": "2024-01-20T20:00:00Z"}) == [late["id"], sunday["id"]]
        assert await ids(**{"from": "2024-01-20T17:00:00Z", "to": "2024-01-20T23:00:01Z"}
                         ) == [early["id"], late["id"]]
        page = await book.desk.get("/v1/appointments", params={"limit": 2, "page": 2})
        assert page.json()["pagination"] == {"page": 2, "limit": 2, "total": 3,
                                             "totalPages": 2, "hasNext": False,
                                             "hasPrevious": True}
        assert [a["id"] for a in page.json()["data"]] == [sunday["id"]]

    @pytest.mark.parametrize("params", [{"status": "booked"}, {"from": "2024-01-20"},
                                        {"from": "2024-01-21T00:00:00Z",
                                         "to": "2024-01-20T00:00:00Z"},
                                        {"limit": "101"}])
    async def test_bad_filters(self, book: Book, params: dict[str, str]) -> None:
        assert_error(await book.desk.get("/v1/appointments", params=params),
                     400, "VALIDATION_ERROR")


class TestRoles:
    async def test_clinical_staff_read_but_do_not_manage(self, book: Book,
                                                         client_for: ClientFactory) -> None:
        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        for role in ("provider", "nurse"):
            client = await client_for(role)
            assert (await client.get("/v1/appointments")).status_code == 200
            assert (await client.get(f"/v1/appointments/{apt['id']}")).status_code == 200
            assert (await book.schedule(client=client)).status_code == 200
            assert_error(await client.post("/v1/appointments",
                                           json=book.booking(at(DOCUMENT_DAY, "10:00"))),
                         403, "FORBIDDEN")
            assert_error(await client.patch(f"/v1/appointments/{apt['id']}",
                                            json={"notes": "x"}), 403, "FORBIDDEN")
            assert_error(await client.post(f"/v1/appointments/{apt['id']}/cancel"),
                         403, "FORBIDDEN")

    async def test_an_admin_manages_too(self, book: Book) -> None:
        response = await book.admin.post("/v1/appointments",
                                         json=book.booking(at(DOCUMENT_DAY, "09:00")))
        assert response.status_code == 201, response.text

    async def test_the_pharmacy_sees_nothing(self, book: Book,
                                             pharmacy_client: RoleClient) -> None:
        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        for response in (
            await pharmacy_client.get("/v1/appointments"),
            await pharmacy_client.get(f"/v1/appointments/{apt['id']}"),
            await book.schedule(client=pharmacy_client),
            await pharmacy_client.post("/v1/appointments",
                                       json=book.booking(at(DOCUMENT_DAY, "10:00"))),
            await pharmacy_client.post(f"/v1/appointments/{apt['id']}/cancel"),
        ):
            assert_error(response, 403, "FORBIDDEN")


async def test_nothing_crosses_practices(book: Book, app: Any, state: AppState) -> None:
    apt = await book.book(at(DOCUMENT_DAY, "09:00"))
    other = await make_practice(state, name="Other Practice")
    stranger = await login_client(app, state, await make_user(
        state, practice_id=other.id, role=Role.FRONT_DESK))
    try:
        for response in (
            await stranger.get(f"/v1/appointments/{apt['id']}"),
            await stranger.patch(f"/v1/appointments/{apt['id']}", json={"notes": "x"}),
            await stranger.post(f"/v1/appointments/{apt['id']}/cancel"),
            await book.schedule(client=stranger),
            # Another practice's patient and provider cannot be booked either.
            await stranger.post("/v1/appointments",
                                json=book.booking(at(DOCUMENT_DAY, "10:00"))),
        ):
            assert_error(response, 404, "NOT_FOUND")
        listed = await stranger.get("/v1/appointments")
        assert listed.json()["data"] == []
    finally:
        await stranger.aclose()
    unchanged = await book.desk.get(f"/v1/appointments/{apt['id']}")
    assert unchanged.json()["status"] == "scheduled"


async def test_appointments_stored_with_the_old_prefix_keep_working(book: Book,
                                                                   state: AppState) -> None:
    """Ids were ``apt_…`` before the contract's ``appt_``: those rows are still read and
    changed by their ids."""
    from dermifi.core.db import scope_to_practice
    from dermifi.scheduling.models import Appointment, AppointmentStatusChange

    booked = await book.book(at(DOCUMENT_DAY, "10:00"))
    old_id = "apt_" + booked["id"].removeprefix("appt_")
    async with state.sessionmaker() as session:
        scope_to_practice(session, book.desk.practice_id)
        row = await session.get(Appointment, booked["id"])
        assert row is not None
        # A row as an earlier version wrote it: the same booking under its old id, with no
        # status history yet.
        await session.execute(delete(AppointmentStatusChange).where(
            AppointmentStatusChange.appointment_id == row.id))
        await session.delete(row)
        await session.flush()
        session.add(Appointment(**{c.key: getattr(row, c.key)
                                   for c in Appointment.__table__.columns} | {"id": old_id}))
        await session.commit()
    got = await book.desk.get(f"/v1/appointments/{old_id}")
    assert got.status_code == 200, got.text
    assert got.json()["id"] == old_id
    confirmed = await book.desk.post(f"/v1/appointments/{old_id}/confirm")
    assert confirmed.status_code == 200, confirmed.text


class TestStatusHistory:
    """Every change of status is appended by the state machine, with who and when."""

    async def test_each_step_is_recorded_with_who_and_when(
            self, book: Book, clock: FrozenClock) -> None:
        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        url = f"/v1/appointments/{apt['id']}"
        assert (await book.desk.post(f"{url}/confirm")).status_code == 200
        clock.advance(minutes=5)
        cancelled = await book.desk.post(f"{url}/cancel", json={"reason": "Patient called"})
        assert cancelled.status_code == 200
        desk = book.desk.user_id
        expected = [
            {"status": "scheduled", "timestamp": "2024-01-19T17:00:00Z", "changedBy": desk,
             "notes": None},
            {"status": "confirmed", "timestamp": "2024-01-19T17:00:00Z", "changedBy": desk,
             "notes": None},
            {"status": "cancelled", "timestamp": "2024-01-19T17:05:00Z", "changedBy": desk,
             "notes": "Patient called"},
        ]
        assert cancelled.json()["statusHistory"] == expected
        assert (await book.desk.get(url)).json()["statusHistory"] == expected
        # Lists leave the history out (it is one more query per row).
        listed = (await book.desk.get("/v1/appointments")).json()["data"]
        assert [a["id"] for a in listed] == [apt["id"]]
        assert "statusHistory" not in listed[0]

    async def test_a_refused_step_names_the_current_state_and_records_nothing(
            self, book: Book) -> None:
        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        url = f"/v1/appointments/{apt['id']}"
        assert (await book.desk.post(f"{url}/cancel")).status_code == 200
        error = assert_error(await book.desk.post(f"{url}/confirm"), 409, "INVALID_STATE")
        assert error["message"] == ("Only a scheduled appointment can be confirmed; this one "
                                    "is cancelled")
        assert error["details"] == [{"field": "status", "message": "Currently cancelled"}]
        history = (await book.desk.get(url)).json()["statusHistory"]
        assert [h["status"] for h in history] == ["scheduled", "cancelled"]

    async def test_moving_a_confirmed_appointment_unconfirms_it_in_the_history(
            self, book: Book) -> None:
        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        url = f"/v1/appointments/{apt['id']}"
        assert (await book.desk.post(f"{url}/confirm")).status_code == 200
        moved = await book.desk.patch(url, json={"start": at(DOCUMENT_DAY, "10:00")})
        assert moved.status_code == 200, moved.text
        assert (moved.json()["status"], moved.json()["confirmedAt"]) == ("scheduled", None)
        assert [h["status"] for h in moved.json()["statusHistory"]] == [
            "scheduled", "confirmed", "scheduled"]
        # A change that is not a move keeps the status and adds no step.
        noted = await book.desk.patch(url, json={"notes": "Bring the referral"})
        assert len(noted.json()["statusHistory"]) == 3

    async def test_a_deactivation_cancels_through_the_machine(
            self, book: Book, client_for: ClientFactory) -> None:
        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        nurse = await client_for("nurse")
        assert (await nurse.delete(f"/v1/patients/{book.patients[0]}")).status_code == 200
        history = (await book.desk.get(f"/v1/appointments/{apt['id']}")).json()[
            "statusHistory"]
        assert history[-1] == {"status": "cancelled", "timestamp": "2024-01-19T17:00:00Z",
                               "changedBy": nurse.user_id, "notes": "Patient deactivated"}

    async def test_racing_steps_write_one_history_row(self, book: Book) -> None:
        """Four confirmations at once: the row lock lets one start from ``scheduled``; the
        others see ``confirmed`` and are refused, so the history has one step, not four."""
        import asyncio

        apt = await book.book(at(DOCUMENT_DAY, "09:00"))
        url = f"/v1/appointments/{apt['id']}"
        answers = await asyncio.gather(*(book.desk.post(f"{url}/confirm") for _ in range(4)))
        assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
        history = (await book.desk.get(url)).json()["statusHistory"]
        assert [h["status"] for h in history] == ["scheduled", "confirmed"]
