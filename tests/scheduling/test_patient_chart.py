"""The patient's chart reads the book: `nextAppointment`, `include=appointments`, `lastVisit`,
and the primary `provider`."""

from __future__ import annotations

from dermifi.core.clock import FrozenClock
from tests.auth.test_login import assert_error
from tests.conftest import ClientFactory
from tests.factories.patients import patient_payload
from tests.factories.providers import create_provider, valid_npi
from tests.scheduling.conftest import DOCUMENT_DAY, Book, at


async def chart(book: Book, patient: int = 0, **params: str) -> dict[str, object]:
    response = await book.desk.get(f"/v1/patients/{book.patients[patient]}", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_next_appointment_is_the_earliest_upcoming(book: Book) -> None:
    assert (await chart(book))["nextAppointment"] is None
    later = await book.book(at("2024-01-22", "14:00"))
    sooner = await book.book(at(DOCUMENT_DAY, "15:00"))
    assert (await chart(book))["nextAppointment"] == sooner["start"]
    await book.desk.post(f"/v1/appointments/{sooner['id']}/cancel")
    assert (await chart(book))["nextAppointment"] == later["start"]
    # Another patient's booking is not this one's.
    assert (await chart(book, 1))["nextAppointment"] is None


async def test_include_appointments_latest_first(book: Book,
                                                 client_for: ClientFactory) -> None:
    first = await book.book(at(DOCUMENT_DAY, "09:00"))
    second = await book.book(at("2024-01-22", "09:00"))
    await book.desk.post(f"/v1/appointments/{first['id']}/cancel")
    body = await chart(book, include="appointments")
    appointments = body["appointments"]
    assert isinstance(appointments, list)
    assert [a["id"] for a in appointments] == [second["id"], first["id"]]
    assert appointments[1]["status"] == "cancelled"
    # The chart lists appointments as the book's list does: without their status history.
    assert appointments[0] == {k: v for k, v in second.items() if k != "statusHistory"}
    # Clinical staff see the same list.
    nurse = await client_for("nurse")
    as_nurse = await nurse.get(f"/v1/patients/{book.patients[0]}",
                               params={"include": "appointments"})
    assert [a["id"] for a in as_nurse.json()["appointments"]] == [second["id"], first["id"]]
    # Not asked for: absent.
    assert "appointments" not in await chart(book)


async def test_a_completed_visit_is_the_last_visit(book: Book, clock: FrozenClock,
                                                   client_for: ClientFactory) -> None:
    apt = await book.book(at(DOCUMENT_DAY, "09:00"))
    clock.set(clock.now().replace(day=20, hour=16, minute=55))
    desk = await client_for("front_desk")
    await desk.post(f"/v1/appointments/{apt['id']}/check-in")
    assert (await desk.get(f"/v1/patients/{book.patients[0]}")).json()["lastVisit"] is None
    clock.set(clock.now().replace(hour=17, minute=25))  # 09:25, the visit under way
    completed = await desk.post(f"/v1/appointments/{apt['id']}/complete")
    assert completed.status_code == 200, completed.text
    body = (await desk.get(f"/v1/patients/{book.patients[0]}")).json()
    assert body["lastVisit"] == apt["start"]
    assert body["nextAppointment"] is None


async def test_deactivating_a_patient_frees_their_upcoming_times(book: Book) -> None:
    upcoming = await book.book(at(DOCUMENT_DAY, "09:00"))
    others = await book.book(at(DOCUMENT_DAY, "10:00"), patient=1)
    response = await book.desk.delete(f"/v1/patients/{book.patients[0]}")
    assert response.status_code == 200, response.text
    cancelled = (await book.desk.get(f"/v1/appointments/{upcoming['id']}")).json()
    assert (cancelled["status"], cancelled["cancellationReason"]) == (
        "cancelled", "Patient deactivated")
    assert (await book.desk.get(f"/v1/appointments/{others['id']}")).json()["status"] == (
        "scheduled")
    assert (await chart(book))["nextAppointment"] is None
    # The 09:00 time is free for someone else.
    assert (await book.book(at(DOCUMENT_DAY, "09:00"), patient=2))["status"] == "scheduled"


async def test_a_nurse_deactivating_a_patient_cancels_their_appointments(
        book: Book, client_for: ClientFactory) -> None:
    """Deactivation (a demographic change a nurse may make) takes the patient out of the
    book, though a nurse cannot cancel one appointment by itself."""
    apt = await book.book(at(DOCUMENT_DAY, "09:00"))
    nurse = await client_for("nurse")
    assert_error(await nurse.post(f"/v1/appointments/{apt['id']}/cancel"), 403, "FORBIDDEN")
    assert (await nurse.delete(f"/v1/patients/{book.patients[0]}")).status_code == 200
    cancelled = (await book.desk.get(f"/v1/appointments/{apt['id']}")).json()
    assert (cancelled["status"], cancelled["cancelledBy"]) == ("cancelled", nurse.user_id)


class TestPrimaryProvider:
    async def test_assign_read_and_unassign(self, book: Book) -> None:
        url = f"/v1/patients/{book.patients[0]}"
        assert (await chart(book))["provider"] is None
        response = await book.desk.patch(url, json={"primaryProviderId": book.provider["id"]})
        assert response.status_code == 200, response.text
        expected = {"id": book.provider["id"], "name": "Dr. Emily Johnson"}
        assert response.json()["provider"] == expected
        assert (await chart(book))["provider"] == expected
        cleared = await book.desk.patch(url, json={"primaryProviderId": None})
        assert cleared.json()["provider"] is None

    async def test_at_registration(self, book: Book) -> None:
        response = await book.desk.post("/v1/patients", json=patient_payload(
            firstName="Ada", primaryProviderId=book.provider["id"]))
        assert response.status_code == 201, response.text
        assert response.json()["provider"]["name"] == "Dr. Emily Johnson"

    async def test_a_non_physician_is_named_with_the_credential(self, book: Book) -> None:
        pa = await create_provider(book.admin, verify=True, npi=valid_npi("124531959"),
                                   firstName="Sam", lastName="Lee", title="PA-C")
        response = await book.desk.patch(f"/v1/patients/{book.patients[0]}",
                                         json={"primaryProviderId": pa["id"]})
        assert response.json()["provider"] == {"id": pa["id"], "name": "Sam Lee, PA-C"}

    async def test_unknown_or_unverified_providers(self, book: Book) -> None:
        url = f"/v1/patients/{book.patients[0]}"
        error = assert_error(await book.desk.patch(url, json={"primaryProviderId": "prov_x"}),
                             404, "NOT_FOUND")
        assert error["details"] == [{"field": "primaryProviderId",
                                     "message": "No such provider"}]
        pending = await create_provider(book.admin, npi=valid_npi("124531959"),
                                        lastName="Lee")
        assert_error(await book.desk.patch(url, json={"primaryProviderId": pending["id"]}),
                     409, "INVALID_STATE")
        assert (await chart(book))["provider"] is None
