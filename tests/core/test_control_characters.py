"""NUL and other control characters are refused with 400 wherever a string enters: the path,
the query string and every string of a body, on both backends (PostgreSQL answered 500 for
NUL in text; SQLite matched ``search=%00`` against every patient)."""

from __future__ import annotations

import httpx
import pytest

from tests.factories.patients import patient_payload
from tests.factories.users import RoleClient
from tests.photos.conftest import make_chart, upload

CONTROL = ["\x00", "\x01", "\x1b", "\x7f"]


def assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in [d["field"] for d in error["details"]], error
    assert "Traceback" not in response.text


@pytest.mark.parametrize("char", CONTROL)
async def test_search_with_a_control_character(admin_client: RoleClient, char: str) -> None:
    await admin_client.post("/v1/patients", json=patient_payload())
    assert_refused(await admin_client.get("/v1/patients", params={"search": f"jo{char}"}),
                   "search")


@pytest.mark.parametrize(("path", "param"), [
    ("/v1/appointments", "patientId"),
    ("/v1/audit-events", "action"),
    ("/v1/providers", "specialty"),
    ("/v1/audit-events", "patientId"),
])
async def test_query_filters_with_nul(admin_client: RoleClient, path: str, param: str) -> None:
    assert_refused(await admin_client.get(path, params={param: "x\x00"}), param)


@pytest.mark.parametrize("path", ["/v1/patients/pat_%00", "/v1/patients/pat_%00/history",
                                  "/v1/appointments/appt_%01x", "/v1/providers/%00"])
async def test_an_id_with_nul(admin_client: RoleClient, path: str) -> None:
    assert_refused(await admin_client.get(path), "path")


async def test_a_login_email_with_nul(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.post("/v1/auth/login", json={
        "email": "admin\u0000@clinic.example.org", "password": "whatever-it-is"})
    assert_refused(response, "email")


@pytest.mark.parametrize(("overrides", "field"), [
    ({"firstName": "Ja\u0000ne"}, "firstName"),
    ({"allergies": ["penicillin", "sul\u0000fa"]}, "allergies.1"),
    ({"medications": ["x\u0007"]}, "medications.0"),
    ({"address": {"street": "1 Main\u0000", "city": "SF", "state": "CA", "zipCode": "94105"}},
     "address.street"),
    ({"insurance": {"provider": "Aetna\u001f", "memberId": "A1"}}, "insurance.provider"),
])
async def test_body_strings_at_any_depth(front_desk_client: RoleClient,
                                         overrides: dict[str, object], field: str) -> None:
    response = await front_desk_client.post("/v1/patients", json=patient_payload(**overrides))
    assert_refused(response, field)


async def test_free_form_objects_are_walked(provider_client: RoleClient) -> None:
    chart = await make_chart(provider_client)
    note = await provider_client.post(f"/v1/patients/{chart}/notes", json={
        "type": "progress_note", "content": {"chiefComplaint": "Acne\u0000"}})
    assert_refused(note, "content.chiefComplaint")
    photo = await upload(provider_client, chart, metadata='{"lighting": "polar\\u0000ized"}')
    assert_refused(photo, "metadata")


async def test_line_breaks_and_tabs_in_free_text_are_kept(provider_client: RoleClient) -> None:
    chart = await make_chart(provider_client)
    text = "Line one\n\tindented\r\nline two"
    note = await provider_client.post(f"/v1/patients/{chart}/notes", json={
        "type": "progress_note", "content": {"chiefComplaint": "Acne", "hpi": text}})
    assert note.status_code == 201, note.text
    assert note.json()["content"]["hpi"] == text
