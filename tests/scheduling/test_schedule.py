"""GET /v1/providers/{id}/schedule: the document's day, built from the hours and the book."""

from __future__ import annotations

from sqlalchemy import select

from dermifi.audit.models import AuditEvent
from dermifi.core.clock import FrozenClock
from dermifi.core.state import AppState
from tests.auth.test_login import assert_error
from tests.conftest import ClientFactory
from tests.factories.locations import create_location
from tests.factories.providers import create_provider, valid_npi
from tests.scheduling.conftest import DOCUMENT_DAY, Book, at

DOCUMENT_SLOTS = ["10:00", "10:30", "11:00", "11:30", "13:00", "13:30", "14:00", "14:30",
                  "15:00", "15:30", "16:00", "16:30"]


async def test_the_documents_example(book: Book, state: AppState) -> None:
    first = await book.book(at(DOCUMENT_DAY, "09:00"), type="follow_up")
    second = await book.book(at(DOCUMENT_DAY, "09:30"), patient=1, type="consultation")
    for apt in (first, second):
        assert (await book.desk.post(f"/v1/appointments/{apt['id']}/confirm")
                ).status_code == 200
    response = await book.schedule(location="SF")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "providerId": book.provider["id"], "date": DOCUMENT_DAY, "location": "SF",
        "schedule": {
            "workingHours": {"start": "09:00", "end": "17:00",
                             "break": {"start": "12:00", "end": "13:00"}},
            "appointments": [
                {"time": "09:00", "duration": 30, "patientId": book.patients[0],
                 "type": "follow_up", "status": "confirmed"},
                {"time": "09:30", "duration": 30, "patientId": book.patients[1],
                 "type": "consultation", "status": "confirmed"},
            ],
            "availableSlots": DOCUMENT_SLOTS,
        },
    }
    async with state.sessionmaker() as session:
        event = (await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "provider.schedule.read"))).one()
    assert event.resource_id == book.provider["id"]
    assert event.details["patientIds"] == sorted(book.patients[:2])


async def test_without_location_where_the_provider_works_that_day(book: Book) -> None:
    response = await book.schedule(DOCUMENT_DAY)
    assert response.json()["location"] == "SF"
    assert len(response.json()["schedule"]["availableSlots"]) == 14
    sunday = await book.schedule("2024-01-21")
    assert sunday.json()["location"] == "Oakland"
    assert sunday.json()["schedule"]["workingHours"] == {"start": "10:00", "end": "14:00",
                                                          "break": None}


async def test_slots_skip_longer_bookings_and_keep_cancelled_times(book: Book) -> None:
    await book.book(at(DOCUMENT_DAY, "10:15"), duration=60)  # blocks 10:00, 10:30, 11:00
    cancelled = await book.book(at(DOCUMENT_DAY, "14:00"), patient=1)
    await book.desk.post(f"/v1/appointments/{cancelled['id']}/cancel")
    day = (await book.schedule()).json()["schedule"]
    assert day["availableSlots"] == ["09:00", "09:30", "11:30", *DOCUMENT_SLOTS[4:]]
    # A cancelled visit is off the day's list; the 10:15 one is on it.
    assert [a["time"] for a in day["appointments"]] == ["10:15"]


async def test_no_shows_and_completed_visits_stay_listed(book: Book, clock: FrozenClock,
                                                         client_for: ClientFactory) -> None:
    apt = await book.book(at(DOCUMENT_DAY, "09:00"))
    clock.set(clock.now().replace(day=20, hour=18))  # 10:00 on the day
    desk = await client_for("front_desk")
    assert (await desk.post(f"/v1/appointments/{apt['id']}/no-show")).status_code == 200
    day = (await book.schedule(client=desk)).json()["schedule"]
    assert day["appointments"][0]["status"] == "no_show"


async def test_past_slots_are_not_offered(book: Book, clock: FrozenClock,
                                          client_for: ClientFactory) -> None:
    clock.set(clock.now().replace(day=20, hour=19, minute=10))  # 11:10 on the day
    desk = await client_for("front_desk")
    day = (await book.schedule(client=desk)).json()["schedule"]
    assert day["availableSlots"] == ["11:30", *DOCUMENT_SLOTS[4:]]
    past = (await book.schedule("2024-01-18", client=desk)).json()["schedule"]
    assert past["availableSlots"] == []
    assert past["workingHours"] is not None


async def test_a_day_without_work(book: Book) -> None:
    for day, params in (("2024-01-23", {}),                      # day off
                        (DOCUMENT_DAY, {"location": "Oakland"})):  # not there that day
        response = await book.schedule(day, **params)
        assert response.status_code == 200, response.text
        assert response.json()["schedule"] == {"workingHours": None, "appointments": [],
                                               "availableSlots": []}
    assert (await book.schedule("2024-01-23")).json()["location"] is None


async def test_two_locations_in_a_day_need_one_named(book: Book) -> None:
    # Friday: SF 09:00-17:00 and Oakland 18:00-20:00.
    error = assert_error(await book.schedule("2024-01-19"), 400, "VALIDATION_ERROR")
    assert "SF and Oakland" in str(error["details"])
    evening = await book.schedule("2024-01-19", location="oakland")
    assert evening.json()["location"] == "Oakland"
    assert evening.json()["schedule"]["availableSlots"] == ["18:00", "18:30", "19:00", "19:30"]


async def test_daylight_saving_day(book: Book) -> None:
    # 2024-03-10: California springs forward at 02:00; the day's hours are still 10:00-14:00.
    await book.book(at("2024-03-10", "11:00", "-07:00"))
    day = (await book.schedule("2024-03-10")).json()["schedule"]
    assert day["appointments"][0]["time"] == "11:00"
    assert day["availableSlots"] == ["10:00", "10:30", "11:30", "12:00", "12:30", "13:00",
                                     "13:30"]


async def test_another_time_zone(book: Book) -> None:
    await create_location(book.admin, "NYC", timeZone="America/New_York")
    east = await create_provider(book.admin, verify=True, npi=valid_npi("124531959"),
                                 lastName="Lee", locations=["NYC"])
    await book.admin.put(f"/v1/providers/{east['id']}/working-hours", json={
        "workingHours": [{"dayOfWeek": "saturday", "location": "NYC", "start": "08:00",
                          "end": "10:00"}]})
    booked = await book.desk.post("/v1/appointments", json=book.booking(
        "2024-01-20T13:30:00Z", providerId=east["id"]))  # 08:30 in New York
    assert booked.status_code == 201, booked.text
    assert (booked.json()["localTime"], booked.json()["timeZone"]) == ("08:30",
                                                                       "America/New_York")
    response = await book.desk.get(f"/v1/providers/{east['id']}/schedule",
                                   params={"date": DOCUMENT_DAY})
    day = response.json()["schedule"]
    assert day["availableSlots"] == ["08:00", "09:00", "09:30"]
    assert day["appointments"][0]["time"] == "08:30"


async def test_bad_parameters(book: Book) -> None:
    url = f"/v1/providers/{book.provider['id']}/schedule"
    for params in ({}, {"date": "2024-1-20"}, {"date": "2024-01-20T00:00:00Z"},
                   {"date": "1850-01-01"}, {"date": DOCUMENT_DAY, "location": "Mars"}):
        assert_error(await book.desk.get(url, params=params), 400, "VALIDATION_ERROR")
    assert_error(await book.desk.get("/v1/providers/prov_missing/schedule",
                                     params={"date": DOCUMENT_DAY}), 404, "NOT_FOUND")


async def test_only_bookable_slots_are_offered(book: Book) -> None:
    # Beyond the book's three-year horizon: the hours, but no slot.
    far = await book.schedule("2027-06-19")
    assert far.json()["schedule"]["workingHours"] is not None
    assert far.json()["schedule"]["availableSlots"] == []
    # A provider not verified yet cannot be booked, so offers nothing.
    pending = await create_provider(book.admin, npi=valid_npi("124531959"), lastName="Lee",
                                    locations=["SF"])
    await book.admin.put(f"/v1/providers/{pending['id']}/working-hours", json={
        "workingHours": [{"dayOfWeek": "saturday", "location": "SF", "start": "09:00",
                          "end": "12:00"}]})
    day = await book.desk.get(f"/v1/providers/{pending['id']}/schedule",
                              params={"date": DOCUMENT_DAY})
    assert day.json()["schedule"]["workingHours"] == {"start": "09:00", "end": "12:00",
                                                      "break": None}
    assert day.json()["schedule"]["availableSlots"] == []


async def test_hours_must_fall_on_five_minutes(book: Book) -> None:
    response = await book.admin.put(
        f"/v1/providers/{book.provider['id']}/working-hours", json={"workingHours": [
            {"dayOfWeek": "monday", "location": "SF", "start": "09:07", "end": "17:00",
             "break": {"start": "12:00", "end": "12:58"}}]})
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == [  # type: ignore[union-attr]
        "workingHours.0.start", "workingHours.0.break.end"]
