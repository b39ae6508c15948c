"""/v1/patients: the chart's demographics (vendor document + contract, Patients)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from dermifi.audit.models import AuditEvent
from dermifi.core.clock import FrozenClock
from dermifi.core.state import AppState
from tests.auth.test_login import assert_error
from tests.factories.patients import patient_payload
from tests.factories.users import RoleClient

DOCUMENT_FIELDS = {"id", "firstName", "lastName", "email", "phone", "dateOfBirth", "gender",
                   "address", "emergencyContact", "insurance", "allergies", "medications",
                   "conditions", "status", "patientNumber", "createdAt", "updatedAt"}


async def create(client: httpx.AsyncClient, **overrides: object) -> dict[str, object]:
    response = await client.post("/v1/patients", json=patient_payload(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


class TestCreate:
    async def test_document_example_shape(self, front_desk_client: RoleClient,
                                          clock: FrozenClock) -> None:
        payload = patient_payload(email="jane.smith@email.com")
        response = await front_desk_client.post("/v1/patients", json=payload)
        assert response.status_code == 201
        body = response.json()
        assert response.headers["Location"] == f"/v1/patients/{body['id']}"
        assert body["id"].startswith("pat_")
        assert set(body) >= DOCUMENT_FIELDS
        assert body["status"] == "active"
        assert body["patientNumber"] == f"P-{clock.now().year}-0001"
        assert body["insurance"] == {"provider": "Aetna", "memberId": "AET987654321",
                                     "groupNumber": "GRP002", "copay": 25.0,
                                     "verified": False, "verifiedAt": None}
        assert body["address"] == payload["address"]
        assert body["emergencyContact"] == payload["emergencyContact"]
        for field in ("firstName", "lastName", "email", "phone", "dateOfBirth", "gender",
                      "allergies", "medications", "conditions"):
            assert body[field] == payload[field], field
        assert body["createdAt"] == body["updatedAt"]
        assert body["createdAt"].endswith("Z")
        assert "consentToTreat" not in body

    async def test_numbers_are_sequential(self, front_desk_client: RoleClient,
                                          clock: FrozenClock) -> None:
        numbers = [(await create(front_desk_client, firstName=f"P{i}"))["patientNumber"]
                   for i in range(3)]
        year = clock.now().year
        assert numbers == [f"P-{year}-0001", f"P-{year}-0002", f"P-{year}-0003"]

    async def test_numbering_restarts_each_year(self, client_for: object,
                                                clock: FrozenClock) -> None:
        clock.set(datetime(2030, 12, 31, 23, 59, 30, tzinfo=UTC))
        client = await client_for("front_desk")  # type: ignore[operator]
        await create(client, firstName="A")
        assert (await create(client, firstName="B"))["patientNumber"] == "P-2030-0002"
        clock.advance(seconds=60)
        assert (await create(client, firstName="C"))["patientNumber"] == "P-2031-0001"

    async def test_phone_is_normalized(self, front_desk_client: RoleClient) -> None:
        body = await create(front_desk_client, phone="415.555.0132")
        assert body["phone"] == "+1 (415) 555-0132"

    @pytest.mark.parametrize(("overrides", "field"), [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "+1 (555) 987-6543"}, "phone"),  # 555 is not a real area code
        ({"phone": "12345"}, "phone"),
        ({"gender": "robot"}, "gender"),
        ({"dateOfBirth": "1990-02-30"}, "dateOfBirth"),
        ({"dateOfBirth": "1850-01-01"}, "dateOfBirth"),
        ({"firstName": ""}, "firstName"),
        ({"lastName": "x" * 101}, "lastName"),
        ({"consentToTreat": False}, "consentToTreat"),
        ({"hipaaConsent": False}, "hipaaConsent"),
        ({"address": {"street": "1 A St", "city": "X", "state": "ZZ", "zipCode": "94105"}},
         "address.state"),
        ({"address": {"street": "1 A St", "city": "X", "state": "CA", "zipCode": "9410"}},
         "address.zipCode"),
        ({"address": {"street": "1 A St", "city": "X", "state": "CA"}}, "address.zipCode"),
        ({"emergencyContact": {"name": "A", "relationship": "b", "phone": "x"}},
         "emergencyContact.phone"),
        ({"insurance": {"provider": "A", "memberId": "M1", "copay": -1}}, "insurance.copay"),
        ({"insurance": {"provider": "A", "memberId": "M1", "copay": 1.234}}, "insurance.copay"),
        ({"allergies": "penicillin"}, "allergies"),
        ({"status": "inactive"}, "status"),
        ({"id": "pat_mine"}, "id"),
        ({"patientNumber": "P-1"}, "patientNumber"),
    ])
    async def test_validation(self, front_desk_client: RoleClient,
                              overrides: dict[str, object], field: str) -> None:
        response = await front_desk_client.post("/v1/patients", json=patient_payload(**overrides))
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert field in [d["field"] for d in error["details"]]  # type: ignore[union-attr]

    async def test_every_problem_is_reported_at_once(self, front_desk_client: RoleClient
                                                     ) -> None:
        response = await front_desk_client.post("/v1/patients", json=patient_payload(
            email="nope", gender="x", consentToTreat=False))
        error = assert_error(response, 400, "VALIDATION_ERROR")
        fields = {d["field"] for d in error["details"]}  # type: ignore[union-attr]
        assert {"email", "gender", "consentToTreat"} <= fields

    async def test_birth_date_in_the_future(self, front_desk_client: RoleClient,
                                            clock: FrozenClock) -> None:
        tomorrow = (clock.now() + timedelta(days=1)).date().isoformat()
        response = await front_desk_client.post("/v1/patients",
                                                json=patient_payload(dateOfBirth=tomorrow))
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert error["details"][0]["field"] == "dateOfBirth"  # type: ignore[index]

    @pytest.mark.parametrize("zip_code", ["94105", "94105-1234", "941051234"])
    async def test_zip_codes_of_5_or_9_digits(self, front_desk_client: RoleClient,
                                              zip_code: str) -> None:
        body = await create(front_desk_client, address={
            "street": "1 A St", "city": "SF", "state": "CA", "zipCode": zip_code})
        assert body["address"]["zipCode"] in ("94105", "94105-1234")  # type: ignore[index]

    async def test_duplicate_email_among_active_patients(self, front_desk_client: RoleClient
                                                         ) -> None:
        await create(front_desk_client, email="dup@email.com")
        response = await front_desk_client.post("/v1/patients", json=patient_payload(
            email="DUP@email.com", firstName="Other"))
        error = assert_error(response, 409, "CONFLICT")
        assert [d["field"] for d in error["details"]] == ["email"]  # type: ignore[union-attr]

    async def test_duplicate_person(self, front_desk_client: RoleClient) -> None:
        await create(front_desk_client, firstName="Ana", lastName="Lima",
                     dateOfBirth="1980-01-02")
        response = await front_desk_client.post("/v1/patients", json=patient_payload(
            firstName="ana", lastName="LIMA", dateOfBirth="1980-01-02"))
        error = assert_error(response, 409, "CONFLICT")
        assert [d["field"] for d in error["details"]] == ["dateOfBirth"]  # type: ignore[union-attr]

    async def test_an_inactive_chart_does_not_block_a_new_one(
        self, front_desk_client: RoleClient,
    ) -> None:
        first = await create(front_desk_client, email="back@email.com")
        await front_desk_client.request("DELETE", f"/v1/patients/{first['id']}")
        again = await create(front_desk_client, email="back@email.com")
        assert again["id"] != first["id"]

    async def test_creation_is_audited(self, front_desk_client: RoleClient,
                                       state: AppState) -> None:
        body = await create(front_desk_client)
        async with state.sessionmaker() as session:
            event = await session.scalar(select(AuditEvent).where(
                AuditEvent.action == "patient.create"))
        assert event is not None
        assert event.patient_id == body["id"]
        assert event.actor_id == front_desk_client.user_id
        assert str(body["email"]) not in str(event.details)


class TestConcurrentCreates:
    async def test_numbers_have_no_gaps_or_duplicates(self, front_desk_client: RoleClient,
                                                      clock: FrozenClock) -> None:
        count = 12
        responses = await asyncio.gather(*[
            front_desk_client.post("/v1/patients", json=patient_payload(firstName=f"C{i}"))
            for i in range(count)])
        assert [r.status_code for r in responses] == [201] * count
        numbers = sorted(r.json()["patientNumber"] for r in responses)
        year = clock.now().year
        assert numbers == [f"P-{year}-{i:04d}" for i in range(1, count + 1)]

    async def test_parallel_duplicates_yield_one_patient(self, front_desk_client: RoleClient
                                                         ) -> None:
        payload = patient_payload(email="race@email.com")
        responses = await asyncio.gather(*[
            front_desk_client.post("/v1/patients", json=payload) for _ in range(6)])
        codes = sorted(r.status_code for r in responses)
        assert codes == [201] + [409] * 5
        listed = await front_desk_client.get("/v1/patients", params={"search": "race@email"})
        assert listed.json()["pagination"]["total"] == 1


class TestRead:
    async def test_chart_with_computed_fields(self, nurse_client: RoleClient,
                                              clock: FrozenClock) -> None:
        dob = clock.now().date().replace(year=clock.now().year - 30)
        body = await create(nurse_client, dateOfBirth=dob.isoformat())
        response = await nurse_client.get(f"/v1/patients/{body['id']}")
        assert response.status_code == 200
        chart = response.json()
        assert chart["age"] == 30
        assert chart["lastVisit"] is None
        assert chart["nextAppointment"] is None
        assert chart["provider"] is None
        assert "notes" not in chart
        assert "appointments" not in chart
        assert response.headers["ETag"] == '"v1"'

    async def test_age_turns_on_the_birthday(self, nurse_client: RoleClient,
                                             clock: FrozenClock) -> None:
        tomorrow = clock.now().date() + timedelta(days=1)
        dob = tomorrow.replace(year=tomorrow.year - 40)
        body = await create(nurse_client, dateOfBirth=dob.isoformat())
        chart = (await nurse_client.get(f"/v1/patients/{body['id']}")).json()
        assert chart["age"] == 39

    async def test_includes(self, provider_client: RoleClient) -> None:
        body = await create(provider_client)
        await provider_client.post(f"/v1/patients/{body['id']}/notes", json={
            "type": "progress_note", "content": {"chiefComplaint": "Acne"},
            "icd10Codes": ["L70.0"]})
        chart = (await provider_client.get(
            f"/v1/patients/{body['id']}",
            params={"include": "appointments,prescriptions,notes"})).json()
        assert chart["appointments"] == []
        assert chart["prescriptions"] == []
        assert [n["icd10Codes"] for n in chart["notes"]] == [["L70.0"]]
        assert chart["lastVisit"] == chart["notes"][0]["createdAt"]

    @pytest.mark.parametrize("include", ["notes", "appointments,notes"])
    async def test_front_desk_asking_for_notes_is_forbidden(
        self, provider_client: RoleClient, front_desk_client: RoleClient, include: str,
    ) -> None:
        # Not an empty list: that would say the patient has no notes.
        body = await create(provider_client)
        await provider_client.post(f"/v1/patients/{body['id']}/notes", json={
            "type": "progress_note", "content": {"chiefComplaint": "Acne"}})
        response = await front_desk_client.get(f"/v1/patients/{body['id']}",
                                               params={"include": include})
        assert_error(response, 403, "FORBIDDEN")
        chart = await front_desk_client.get(f"/v1/patients/{body['id']}",
                                            params={"include": "appointments"})
        assert chart.status_code == 200
        assert "notes" not in chart.json()

    async def test_unknown_include(self, nurse_client: RoleClient) -> None:
        body = await create(nurse_client)
        response = await nurse_client.get(f"/v1/patients/{body['id']}",
                                          params={"include": "notes,billing"})
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert error["details"][0]["field"] == "include"  # type: ignore[index]

    async def test_unknown_patient(self, nurse_client: RoleClient) -> None:
        assert_error(await nurse_client.get("/v1/patients/pat_nope"), 404, "NOT_FOUND")

    async def test_reads_are_audited(self, nurse_client: RoleClient, state: AppState) -> None:
        body = await create(nurse_client)
        await nurse_client.get(f"/v1/patients/{body['id']}", params={"include": "notes"})
        async with state.sessionmaker() as session:
            event = await session.scalar(select(AuditEvent).where(
                AuditEvent.action == "patient.read"))
        assert event is not None
        assert event.patient_id == body["id"]
        assert event.details == {"include": ["notes"]}


class TestRoles:
    @pytest.mark.parametrize("role", ["admin", "provider", "nurse", "front_desk"])
    async def test_staff_register_and_read(self, client_for: object, role: str) -> None:
        client = await client_for(role)  # type: ignore[operator]
        body = await create(client)
        assert (await client.get(f"/v1/patients/{body['id']}")).status_code == 200
        assert (await client.get("/v1/patients")).status_code == 200

    async def test_pharmacy_sees_no_charts(self, pharmacy_client: RoleClient,
                                           front_desk_client: RoleClient) -> None:
        body = await create(front_desk_client)
        pid = body["id"]
        for response in (
            await pharmacy_client.get("/v1/patients"),
            await pharmacy_client.post("/v1/patients", json=patient_payload()),
            await pharmacy_client.get(f"/v1/patients/{pid}"),
            await pharmacy_client.patch(f"/v1/patients/{pid}", json={"firstName": "X"}),
            await pharmacy_client.request("DELETE", f"/v1/patients/{pid}"),
            await pharmacy_client.get(f"/v1/patients/{pid}/history"),
        ):
            assert_error(response, 403, "FORBIDDEN")

    async def test_anonymous(self, anon_client: httpx.AsyncClient) -> None:
        assert_error(await anon_client.get("/v1/patients"), 401, "UNAUTHORIZED")


class TestUpdate:
    async def test_document_example(self, front_desk_client: RoleClient,
                                    clock: FrozenClock) -> None:
        body = await create(front_desk_client)
        clock.advance(minutes=5)
        response = await front_desk_client.patch(f"/v1/patients/{body['id']}", json={
            "email": "john.newemail@email.com", "phone": "+1 (415) 555-0199",
            "address": {"street": "789 New Street", "city": "San Francisco", "state": "CA",
                        "zipCode": "94110"},
            "insurance": {"provider": "Kaiser Permanente", "memberId": "KP987654321",
                          "groupNumber": "GRP003", "copay": 30},
            "medications": ["metformin 500mg twice daily", "lisinopril 10mg daily"]})
        assert response.status_code == 200, response.text
        updated = response.json()
        assert updated["email"] == "john.newemail@email.com"
        assert updated["address"]["zipCode"] == "94110"
        assert updated["insurance"]["verified"] is False
        assert updated["insurance"]["copay"] == 30.0
        assert updated["updatedBy"] == front_desk_client.user_id
        assert updated["updatedAt"] != body["updatedAt"]
        assert updated["firstName"] == body["firstName"]
        assert updated["allergies"] == body["allergies"]
        assert response.headers["ETag"] == '"v2"'

    async def test_insurance_change_resets_verification(self, front_desk_client: RoleClient
                                                        ) -> None:
        body = await create(front_desk_client)
        pid = body["id"]
        verified = await front_desk_client.post(f"/v1/patients/{pid}/insurance/verify")
        assert verified.json()["insurance"]["verified"] is True
        assert verified.json()["insurance"]["verifiedAt"].endswith("Z")
        untouched = await front_desk_client.patch(f"/v1/patients/{pid}",
                                                  json={"firstName": "Janet"})
        assert untouched.json()["insurance"]["verified"] is True
        changed = await front_desk_client.patch(f"/v1/patients/{pid}", json={
            "insurance": {"provider": "Aetna", "memberId": "NEW1"}})
        assert changed.json()["insurance"] == {"provider": "Aetna", "memberId": "NEW1",
                                               "groupNumber": None, "copay": None,
                                               "verified": False, "verifiedAt": None}

    async def test_nested_objects_replace_whole(self, front_desk_client: RoleClient) -> None:
        body = await create(front_desk_client)
        response = await front_desk_client.patch(f"/v1/patients/{body['id']}", json={
            "address": {"street": "1 New Rd", "city": "Oakland", "state": "CA",
                        "zipCode": "94607"}})
        assert response.json()["address"] == {"street": "1 New Rd", "city": "Oakland",
                                              "state": "CA", "zipCode": "94607"}
        partial = await front_desk_client.patch(f"/v1/patients/{body['id']}",
                                                json={"address": {"city": "Oakland"}})
        assert_error(partial, 400, "VALIDATION_ERROR")

    async def test_clearing_optional_fields(self, front_desk_client: RoleClient) -> None:
        body = await create(front_desk_client)
        response = await front_desk_client.patch(f"/v1/patients/{body['id']}",
                                                 json={"email": None, "insurance": None})
        assert response.json()["email"] is None
        assert response.json()["insurance"] is None
        required = await front_desk_client.patch(f"/v1/patients/{body['id']}",
                                                 json={"firstName": None})
        error = assert_error(required, 400, "VALIDATION_ERROR")
        assert error["details"][0]["field"] == "firstName"  # type: ignore[index]

    async def test_if_match(self, front_desk_client: RoleClient) -> None:
        body = await create(front_desk_client)
        url = f"/v1/patients/{body['id']}"
        etag = (await front_desk_client.get(url)).headers["ETag"]
        first = await front_desk_client.patch(url, json={"firstName": "A"},
                                              headers={"If-Match": etag})
        assert first.status_code == 200
        stale = await front_desk_client.patch(url, json={"firstName": "B"},
                                              headers={"If-Match": etag})
        assert_error(stale, 412, "PRECONDITION_FAILED")
        assert (await front_desk_client.get(url)).json()["firstName"] == "A"
        fresh = await front_desk_client.patch(url, json={"firstName": "C"},
                                              headers={"If-Match": first.headers["ETag"]})
        assert fresh.status_code == 200

    async def test_concurrent_updates_with_the_same_etag_one_wins(
        self, front_desk_client: RoleClient,
    ) -> None:
        body = await create(front_desk_client)
        url = f"/v1/patients/{body['id']}"
        etag = (await front_desk_client.get(url)).headers["ETag"]
        responses = await asyncio.gather(*[
            front_desk_client.patch(url, json={"firstName": f"N{i}"},
                                    headers={"If-Match": etag}) for i in range(5)])
        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 412, 412, 412, 412]
        winner = next(r for r in responses if r.status_code == 200).json()["firstName"]
        assert (await front_desk_client.get(url)).json()["firstName"] == winner

    async def test_concurrent_updates_without_etag_lose_nothing(
        self, front_desk_client: RoleClient,
    ) -> None:
        body = await create(front_desk_client)
        url = f"/v1/patients/{body['id']}"
        fields = [("firstName", "Zed"), ("lastName", "Quill"), ("gender", "other"),
                  ("medications", ["a"]), ("allergies", ["b"])]
        responses = await asyncio.gather(*[
            front_desk_client.patch(url, json={k: v}) for k, v in fields])
        assert all(r.status_code == 200 for r in responses)
        final = (await front_desk_client.get(url)).json()
        for key, value in fields:
            assert final[key] == value
        assert (await front_desk_client.get(url)).headers["ETag"] == '"v6"'

    async def test_duplicate_on_update(self, front_desk_client: RoleClient) -> None:
        await create(front_desk_client, email="taken@email.com")
        other = await create(front_desk_client, firstName="Other")
        response = await front_desk_client.patch(f"/v1/patients/{other['id']}",
                                                 json={"email": "taken@email.com"})
        assert_error(response, 409, "CONFLICT")

    async def test_update_is_audited_with_field_names_only(
        self, front_desk_client: RoleClient, state: AppState,
    ) -> None:
        body = await create(front_desk_client)
        await front_desk_client.patch(f"/v1/patients/{body['id']}",
                                      json={"lastName": "Secretname"})
        async with state.sessionmaker() as session:
            event = await session.scalar(select(AuditEvent).where(
                AuditEvent.action == "patient.update"))
        assert event is not None
        assert event.details == {"fields": ["lastName"]}


class TestDeactivate:
    async def test_document_example(self, front_desk_client: RoleClient,
                                    clock: FrozenClock) -> None:
        body = await create(front_desk_client)
        response = await front_desk_client.request(
            "DELETE", f"/v1/patients/{body['id']}",
            json={"reason": "patient_request", "notes": "Patient moved to another state"})
        assert response.status_code == 200
        done = response.json()
        now = clock.now()
        assert done == {
            "id": body["id"], "status": "inactive",
            "deactivatedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "deactivatedBy": front_desk_client.user_id, "reason": "patient_request",
            "notes": "Patient moved to another state",
            "dataRetentionDate": now.replace(year=now.year + 7).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    async def test_inactive_chart_stays_readable_and_listable(
        self, front_desk_client: RoleClient,
    ) -> None:
        body = await create(front_desk_client)
        await front_desk_client.request("DELETE", f"/v1/patients/{body['id']}")
        chart = await front_desk_client.get(f"/v1/patients/{body['id']}")
        assert chart.json()["status"] == "inactive"
        inactive = await front_desk_client.get("/v1/patients", params={"status": "inactive"})
        assert [p["id"] for p in inactive.json()["data"]] == [body["id"]]
        active = await front_desk_client.get("/v1/patients", params={"status": "active"})
        assert active.json()["data"] == []

    async def test_twice_is_invalid_state(self, front_desk_client: RoleClient) -> None:
        body = await create(front_desk_client)
        await front_desk_client.request("DELETE", f"/v1/patients/{body['id']}")
        again = await front_desk_client.request("DELETE", f"/v1/patients/{body['id']}")
        assert_error(again, 409, "INVALID_STATE")

    async def test_body_is_optional_and_validated(self, front_desk_client: RoleClient) -> None:
        body = await create(front_desk_client)
        bad = await front_desk_client.request("DELETE", f"/v1/patients/{body['id']}",
                                              json={"reason": "Bad Reason!", "extra": 1})
        error = assert_error(bad, 400, "VALIDATION_ERROR")
        assert sorted(d["field"] for d in error["details"]) == ["extra", "reason"]  # type: ignore[union-attr]
        ok = await front_desk_client.request("DELETE", f"/v1/patients/{body['id']}")
        assert ok.json()["reason"] is None


class TestList:
    async def _seed(self, client: httpx.AsyncClient) -> list[dict[str, object]]:
        people = [("John", "Doe", "john.doe@email.com", "+1 (415) 555-0101"),
                  ("Johnny", "Appleseed", "ja@email.com", "+1 (212) 555-0102"),
                  ("Mary", "Johnson", "mj@email.com", "+1 (312) 555-0103"),
                  ("Zoe", "Doe", "zoe@email.com", "+1 (415) 555-0104"),
                  ("Amy", "Lee", "amy@johns.org", "+1 (646) 555-0105")]
        return [await create(client, firstName=f, lastName=last, email=e, phone=p)
                for f, last, e, p in people]

    async def test_search_by_name_email_and_phone_digits(self, front_desk_client: RoleClient
                                                         ) -> None:
        await self._seed(front_desk_client)

        async def names(search: str) -> list[str]:
            response = await front_desk_client.get("/v1/patients", params={"search": search})
            assert response.status_code == 200
            return sorted(p["firstName"] for p in response.json()["data"])

        assert await names("john") == ["Amy", "John", "Johnny", "Mary"]
        assert await names("JOHN DOE") == ["John"]
        assert await names("doe") == ["John", "Zoe"]
        assert await names("(415) 555") == ["John", "Zoe"]
        assert await names("4155550104") == ["Zoe"]
        assert await names("zoe@email") == ["Zoe"]
        assert await names("100%") == []
        assert await names("_") == []

    async def test_sorting_and_pagination_document_shape(self, front_desk_client: RoleClient
                                                         ) -> None:
        await self._seed(front_desk_client)
        response = await front_desk_client.get("/v1/patients", params={
            "page": 1, "limit": 2, "sortBy": "lastName", "order": "asc"})
        body = response.json()
        assert body["pagination"] == {"page": 1, "limit": 2, "total": 5, "totalPages": 3,
                                      "hasNext": True, "hasPrevious": False}
        assert [p["lastName"] for p in body["data"]] == ["Appleseed", "Doe"]
        desc = await front_desk_client.get("/v1/patients", params={
            "sortBy": "firstName", "order": "desc"})
        assert [p["firstName"] for p in desc.json()["data"]] == [
            "Zoe", "Mary", "Johnny", "John", "Amy"]
        item = body["data"][0]
        assert set(item) == {"id", "patientNumber", "firstName", "lastName", "email", "phone",
                             "dateOfBirth", "gender", "address", "insurance", "status",
                             "createdAt", "updatedAt"}

    async def test_pages_never_repeat_or_skip_rows_with_ties(
        self, front_desk_client: RoleClient,
    ) -> None:
        for i in range(7):
            await create(front_desk_client, firstName=f"Twin{i}", lastName="Same")
        seen: list[str] = []
        for page in range(1, 5):
            response = await front_desk_client.get("/v1/patients", params={
                "limit": 2, "page": page, "sortBy": "lastName"})
            seen += [p["id"] for p in response.json()["data"]]
        assert len(seen) == 7
        assert len(set(seen)) == 7

    @pytest.mark.parametrize("params", [
        {"limit": 101}, {"limit": 0}, {"page": 0}, {"status": "deleted"},
        {"sortBy": "email"}, {"order": "up"}, {"search": ""}, {"search": "x" * 101}])
    async def test_bad_parameters(self, front_desk_client: RoleClient,
                                  params: dict[str, object]) -> None:
        response = await front_desk_client.get("/v1/patients", params=params)
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert [d["field"] for d in error["details"]] == list(params)  # type: ignore[union-attr]

    async def test_listing_is_audited_without_the_search_words(
        self, front_desk_client: RoleClient, state: AppState,
    ) -> None:
        await create(front_desk_client, lastName="Rivera")
        await front_desk_client.get("/v1/patients", params={"search": "rivera"})
        async with state.sessionmaker() as session:
            event = await session.scalar(select(AuditEvent).where(
                AuditEvent.action == "patient.list"))
        assert event is not None
        assert event.details["search"] is True
        assert "rivera" not in str(event.details).lower()
