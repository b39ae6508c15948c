"""Clinical notes: signing, drafts, addenda, codes and who sees what (contract, Notes)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from dermifi.audit.models import AuditEvent
from dermifi.core.clock import FrozenClock
from dermifi.core.state import AppState
from tests.auth.test_login import assert_error
from tests.factories.patients import patient_payload
from tests.factories.users import RoleClient

NOTE = {
    "type": "progress_note", "visitId": "visit_789",
    "content": {"chiefComplaint": "Follow-up for acne treatment",
                "hpi": "Patient reports improvement with tretinoin...",
                "examination": "Facial examination shows decreased comedones...",
                "assessment": "Acne vulgaris - improving",
                "plan": "Continue current regimen, follow-up in 6 weeks"},
    "icd10Codes": ["L70.0"], "cptCodes": ["99213"], "confidential": False,
}


@pytest.fixture
async def patient_id(front_desk_client: RoleClient) -> str:
    response = await front_desk_client.post("/v1/patients", json=patient_payload())
    assert response.status_code == 201
    return str(response.json()["id"])


def notes_url(patient_id: str, *rest: str) -> str:
    return "/".join([f"/v1/patients/{patient_id}/notes", *rest])


class TestCreate:
    async def test_provider_note_is_signed_and_locked(
        self, provider_client: RoleClient, patient_id: str, clock: FrozenClock,
    ) -> None:
        response = await provider_client.post(notes_url(patient_id), json=NOTE)
        assert response.status_code == 201, response.text
        note = response.json()
        assert note["id"].startswith("note_")
        assert response.headers["Location"] == notes_url(patient_id, note["id"])
        assert note["patientId"] == patient_id
        assert note["type"] == "progress_note"
        assert note["visitId"] == "visit_789"
        assert note["content"] == NOTE["content"]
        assert note["icd10Codes"] == ["L70.0"]
        assert note["cptCodes"] == ["99213"]
        assert note["locked"] is True
        assert note["status"] == "signed"
        stamp = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        assert note["createdAt"] == note["signedAt"] == stamp
        assert note["createdBy"] == {"id": provider_client.user_id, "name": "Dr. Emily Johnson"}
        assert note["addenda"] == []

    async def test_provider_draft(self, provider_client: RoleClient, patient_id: str) -> None:
        note = (await provider_client.post(notes_url(patient_id),
                                           json={**NOTE, "draft": True})).json()
        assert note["locked"] is False
        assert note["signedAt"] is None
        assert note["status"] == "draft"

    async def test_nurse_note_is_always_a_draft(self, nurse_client: RoleClient,
                                                patient_id: str) -> None:
        note = (await nurse_client.post(notes_url(patient_id),
                                        json={**NOTE, "draft": False})).json()
        assert note["locked"] is False
        assert note["signedAt"] is None

    @pytest.mark.parametrize("role", ["admin", "front_desk", "pharmacy"])
    async def test_other_roles_cannot_write_notes(self, client_for: object, role: str,
                                                  patient_id: str) -> None:
        client = await client_for(role)  # type: ignore[operator]
        assert_error(await client.post(notes_url(patient_id), json=NOTE), 403, "FORBIDDEN")

    @pytest.mark.parametrize(("codes", "ok"), [
        (["L70.0"], True), (["l70.0"], True), (["C43.9", "D22.5", "L57.0"], True),
        (["L70"], True),  # a category is a code
        (["L70.99"], False), (["Z99.999"], False), (["ABC"], False), (["L00-L08"], False),
    ])
    async def test_icd10_codes_are_real(self, provider_client: RoleClient, patient_id: str,
                                        codes: list[str], ok: bool) -> None:
        response = await provider_client.post(notes_url(patient_id),
                                              json={**NOTE, "icd10Codes": codes})
        if ok:
            assert response.status_code == 201, response.text
            assert response.json()["icd10Codes"] == [c.upper() for c in codes]
        else:
            error = assert_error(response, 400, "VALIDATION_ERROR")
            assert error["details"][0]["field"] == "icd10Codes"  # type: ignore[index]

    @pytest.mark.parametrize(("codes", "ok"), [
        (["99213", "11102"], True), (["0001F"], True), (["0042T"], True), (["0001U"], True),
        (["9921"], False), (["992134"], False), (["ABCDE"], False), (["0001X"], False),
    ])
    async def test_cpt_codes_have_cpt_form(self, provider_client: RoleClient, patient_id: str,
                                           codes: list[str], ok: bool) -> None:
        response = await provider_client.post(notes_url(patient_id),
                                              json={**NOTE, "cptCodes": codes})
        if ok:
            assert response.status_code == 201, response.text
        else:
            error = assert_error(response, 400, "VALIDATION_ERROR")
            assert error["details"][0]["field"].startswith("cptCodes")  # type: ignore[index]

    @pytest.mark.parametrize(("body", "field"), [
        ({"content": {}}, "content"),
        ({"content": {"mood": "x"}}, "content.mood"),
        ({"type": "essay"}, "type"),
        ({"visitId": "has space"}, "visitId"),
        ({"locked": True}, "locked"),
        ({"signedAt": "2024-01-01T00:00:00Z"}, "signedAt"),
    ])
    async def test_validation(self, provider_client: RoleClient, patient_id: str,
                              body: dict[str, object], field: str) -> None:
        response = await provider_client.post(notes_url(patient_id), json={**NOTE, **body})
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert field in [d["field"] for d in error["details"]]  # type: ignore[union-attr]

    async def test_unknown_patient(self, provider_client: RoleClient) -> None:
        assert_error(await provider_client.post(notes_url("pat_nope"), json=NOTE),
                     404, "NOT_FOUND")


class TestSigning:
    async def test_provider_signs_a_nurse_draft(self, nurse_client: RoleClient,
                                                provider_client: RoleClient,
                                                patient_id: str) -> None:
        draft = (await nurse_client.post(notes_url(patient_id), json=NOTE)).json()
        assert_error(await nurse_client.post(notes_url(patient_id, draft["id"], "sign")),
                     403, "FORBIDDEN")
        signed = await provider_client.post(notes_url(patient_id, draft["id"], "sign"))
        assert signed.status_code == 200
        body = signed.json()
        assert body["locked"] is True
        assert body["signedBy"]["id"] == provider_client.user_id
        assert body["createdBy"]["id"] == nurse_client.user_id
        again = await provider_client.post(notes_url(patient_id, draft["id"], "sign"))
        assert_error(again, 409, "INVALID_STATE")

    async def test_concurrent_signatures_sign_once(self, nurse_client: RoleClient,
                                                   provider_client: RoleClient,
                                                   patient_id: str, state: AppState) -> None:
        draft = (await nurse_client.post(notes_url(patient_id), json=NOTE)).json()
        responses = await asyncio.gather(*[
            provider_client.post(notes_url(patient_id, draft["id"], "sign")) for _ in range(5)])
        assert sorted(r.status_code for r in responses) == [200, 409, 409, 409, 409]
        async with state.sessionmaker() as session:
            signs = (await session.scalars(select(AuditEvent).where(
                AuditEvent.action == "note.sign"))).all()
        assert len(signs) == 1

    async def test_locked_note_never_changes(self, provider_client: RoleClient,
                                             patient_id: str) -> None:
        note = (await provider_client.post(notes_url(patient_id), json=NOTE)).json()
        edit = await provider_client.patch(notes_url(patient_id, note["id"]),
                                           json={"content": {"plan": "changed"}})
        assert_error(edit, 409, "INVALID_STATE")
        listed = (await provider_client.get(notes_url(patient_id))).json()
        assert listed["notes"][0]["content"] == NOTE["content"]

    async def test_drafts_can_be_edited(self, nurse_client: RoleClient, patient_id: str
                                        ) -> None:
        draft = (await nurse_client.post(notes_url(patient_id), json=NOTE)).json()
        edited = await nurse_client.patch(notes_url(patient_id, draft["id"]), json={
            "content": {"chiefComplaint": "Rash"}, "icd10Codes": ["L30.9"]})
        assert edited.status_code == 200, edited.text
        assert edited.json()["content"] == {"chiefComplaint": "Rash"}
        assert edited.json()["icd10Codes"] == ["L30.9"]

    async def test_another_nurse_cannot_edit_a_draft(self, nurse_client: RoleClient,
                                                     client_for: object, patient_id: str
                                                     ) -> None:
        draft = (await nurse_client.post(notes_url(patient_id), json=NOTE)).json()
        other = await client_for("nurse")  # type: ignore[operator]
        response = await other.patch(notes_url(patient_id, draft["id"]),
                                     json={"content": {"plan": "x"}})
        assert_error(response, 409, "INVALID_STATE")


class TestAddenda:
    async def test_addendum_on_a_signed_note(self, provider_client: RoleClient,
                                             nurse_client: RoleClient,
                                             patient_id: str) -> None:
        note = (await provider_client.post(notes_url(patient_id), json=NOTE)).json()
        response = await nurse_client.post(notes_url(patient_id, note["id"], "addenda"), json={
            "content": "Correction: lesion is 6 mm, not 8 mm", "reason": "measurement"})
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["content"] == NOTE["content"]
        assert len(body["addenda"]) == 1
        addendum = body["addenda"][0]
        assert addendum["content"] == "Correction: lesion is 6 mm, not 8 mm"
        assert addendum["createdBy"]["id"] == nurse_client.user_id

    async def test_no_addendum_on_a_draft(self, nurse_client: RoleClient, patient_id: str
                                          ) -> None:
        draft = (await nurse_client.post(notes_url(patient_id), json=NOTE)).json()
        response = await nurse_client.post(notes_url(patient_id, draft["id"], "addenda"),
                                           json={"content": "x"})
        assert_error(response, 409, "INVALID_STATE")

    async def test_unknown_note(self, provider_client: RoleClient, patient_id: str) -> None:
        response = await provider_client.post(notes_url(patient_id, "note_nope", "addenda"),
                                              json={"content": "x"})
        assert_error(response, 404, "NOT_FOUND")


class TestVisibility:
    async def test_confidential_notes_are_for_providers_only(
        self, provider_client: RoleClient, nurse_client: RoleClient,
        admin_client: RoleClient, patient_id: str,
    ) -> None:
        secret = (await provider_client.post(notes_url(patient_id),
                                             json={**NOTE, "confidential": True})).json()
        await provider_client.post(notes_url(patient_id), json=NOTE)
        for client in (nurse_client, admin_client):
            listed = (await client.get(notes_url(patient_id))).json()
            assert listed["total"] == 1
            assert secret["id"] not in str(listed)
            hidden = await client.post(notes_url(patient_id, secret["id"], "addenda"),
                                       json={"content": "x"})
            assert_error(hidden, 404, "NOT_FOUND") if client is nurse_client else None
        assert (await provider_client.get(notes_url(patient_id))).json()["total"] == 2

    @pytest.mark.parametrize("role", ["front_desk", "pharmacy"])
    async def test_no_notes_at_all(self, client_for: object, role: str, patient_id: str
                                   ) -> None:
        client = await client_for(role)  # type: ignore[operator]
        assert_error(await client.get(notes_url(patient_id)), 403, "FORBIDDEN")

    async def test_list_newest_first_and_audited(self, provider_client: RoleClient,
                                                 patient_id: str, clock: FrozenClock,
                                                 state: AppState) -> None:
        ids = []
        for i in range(3):
            clock.advance(minutes=1)
            note = await provider_client.post(notes_url(patient_id), json={
                **NOTE, "content": {"chiefComplaint": f"visit {i}"}})
            ids.append(note.json()["id"])
        listed = (await provider_client.get(notes_url(patient_id))).json()
        assert [n["id"] for n in listed["notes"]] == ids[::-1]
        async with state.sessionmaker() as session:
            event = await session.scalar(select(AuditEvent).where(
                AuditEvent.action == "note.list"))
        assert event is not None
        assert event.patient_id == patient_id


class TestHistory:
    async def test_visits_from_signed_notes_with_icd_names(
        self, provider_client: RoleClient, nurse_client: RoleClient, patient_id: str,
        clock: FrozenClock,
    ) -> None:
        await provider_client.post(notes_url(patient_id), json={
            "type": "procedure_note",
            "content": {"chiefComplaint": "Annual skin check", "treatment": "Cryotherapy",
                        "notes": "Multiple lesions treated", "followUp": "3 months"},
            "icd10Codes": ["L57.0", "L82.1"]})
        await nurse_client.post(notes_url(patient_id), json=NOTE)  # a draft: not a visit
        clock.advance(minutes=30)
        response = await provider_client.get(f"/v1/patients/{patient_id}/history")
        assert response.status_code == 200
        body = response.json()
        assert body["patientId"] == patient_id
        assert body["totalRecords"] == 1
        visit = body["history"][0]
        assert visit["id"].startswith("hist_")
        assert visit["type"] == "visit"
        assert visit["provider"] == {"id": provider_client.user_id, "name": "Dr. Emily Johnson"}
        assert visit["chiefComplaint"] == "Annual skin check"
        assert visit["diagnosis"] == ["Actinic keratosis", "Other seborrheic keratosis"]
        assert visit["treatment"] == "Cryotherapy"
        assert visit["notes"] == "Multiple lesions treated"
        assert visit["followUp"] == "3 months"

    async def test_filters(self, client_for: object, patient_id: str,
                           clock: FrozenClock) -> None:
        first_day = clock.now().date()
        earlier = await client_for("provider")  # type: ignore[operator]
        await earlier.post(notes_url(patient_id), json=NOTE)
        clock.advance(days=40)
        provider_client = await client_for("provider")  # type: ignore[operator]
        await provider_client.post(notes_url(patient_id), json=NOTE)
        url = f"/v1/patients/{patient_id}/history"
        only_first = (await provider_client.get(url, params={
            "startDate": first_day.isoformat(), "endDate": first_day.isoformat(),
            "type": "visit"})).json()
        assert only_first["totalRecords"] == 1
        assert only_first["dateRange"] == {"from": f"{first_day}T00:00:00Z",
                                           "to": f"{first_day}T23:59:59Z"}
        assert (await provider_client.get(url, params={"type": "lab"})).json()["history"] == []
        everything = (await provider_client.get(url)).json()
        dates = [h["date"] for h in everything["history"]]
        assert dates == sorted(dates, reverse=True)
        assert len(dates) == 2
        bad = await provider_client.get(url, params={"type": "dream", "startDate": "soon"})
        error = assert_error(bad, 400, "VALIDATION_ERROR")
        assert sorted(d["field"] for d in error["details"]) == ["startDate", "type"]  # type: ignore[union-attr]
        backwards = await provider_client.get(url, params={"startDate": "2024-02-01",
                                                           "endDate": "2024-01-01"})
        assert_error(backwards, 400, "VALIDATION_ERROR")

    async def test_front_desk_has_no_history(self, front_desk_client: RoleClient,
                                             patient_id: str) -> None:
        response = await front_desk_client.get(f"/v1/patients/{patient_id}/history")
        assert_error(response, 403, "FORBIDDEN")
