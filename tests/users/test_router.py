"""/v1/users: admin-only creation and listing, the caller's own account."""

from __future__ import annotations

import httpx
import pyotp
import pytest
from sqlalchemy import select

from dermifi.audit.models import AuditEvent
from dermifi.core.state import AppState
from tests.auth.test_login import assert_error
from tests.factories.users import RoleClient

NEW_USER = {"email": "New.Nurse@clinic.example.org", "password": "marigold-harbor-stone-91",
            "role": "nurse", "firstName": "Nina", "lastName": "Park"}


async def test_admin_creates_a_user_who_can_log_in(
    admin_client: RoleClient, anon_client: httpx.AsyncClient, state: AppState,
) -> None:
    response = await admin_client.post("/v1/users", json=NEW_USER)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("usr_")
    assert response.headers["Location"] == f"/v1/users/{body['id']}"
    assert body["email"] == "new.nurse@clinic.example.org"
    assert body["role"] == "nurse"
    assert body["permissions"] == ["read", "write"]
    assert body["mfaEnabled"] is False
    assert body["totpSecret"] is None
    assert "password" not in body
    assert "passwordHash" not in body
    login = await anon_client.post("/v1/auth/login", json={
        "email": NEW_USER["email"], "password": NEW_USER["password"]})
    assert login.status_code == 200
    async with state.sessionmaker() as session:
        event = await session.scalar(select(AuditEvent).where(
            AuditEvent.action == "user.create", AuditEvent.resource_id == body["id"]))
    assert event is not None
    assert event.actor_id == admin_client.user_id
    assert event.practice_id == admin_client.practice_id


async def test_created_user_with_mfa_gets_a_working_secret_once(
    admin_client: RoleClient, anon_client: httpx.AsyncClient, state: AppState,
) -> None:
    response = await admin_client.post("/v1/users", json={**NEW_USER, "mfa": True})
    body = response.json()
    assert body["mfaEnabled"] is True
    assert body["otpauthUri"].startswith("otpauth://totp/")
    secret = body["totpSecret"]
    code = pyotp.TOTP(secret).at(state.clock.now())
    login = await anon_client.post("/v1/auth/login", json={
        "email": NEW_USER["email"], "password": NEW_USER["password"], "mfaCode": code})
    assert login.status_code == 200
    listed = await admin_client.get("/v1/users")
    assert all("totpSecret" not in u for u in listed.json()["data"])


@pytest.mark.parametrize("role", ["provider", "nurse", "front_desk", "pharmacy"])
async def test_only_admins_create_users(client_for: object, role: str) -> None:
    client = await client_for(role)  # type: ignore[operator]
    assert_error(await client.post("/v1/users", json=NEW_USER), 403, "FORBIDDEN")
    assert_error(await client.get("/v1/users"), 403, "FORBIDDEN")


async def test_anonymous_cannot_create_users(anon_client: httpx.AsyncClient) -> None:
    assert_error(await anon_client.post("/v1/users", json=NEW_USER), 401, "UNAUTHORIZED")


async def test_duplicate_email_is_a_conflict(admin_client: RoleClient) -> None:
    assert (await admin_client.post("/v1/users", json=NEW_USER)).status_code == 201
    again = await admin_client.post(
        "/v1/users", json={**NEW_USER, "email": NEW_USER["email"].upper()})
    error = assert_error(again, 409, "CONFLICT")
    assert error["details"] == [{"field": "email", "message": "Already in use"}]


@pytest.mark.parametrize(("password", "reason"), [
    ("short-pass", "at least 12"),
    ("x" * 129, "at most 128"),
    ("password1234", "common"),
    ("qwertyuiop123", "common"),
    ("aaaaaaaaaaaaaaaa", "common"),
])
async def test_password_policy(admin_client: RoleClient, password: str, reason: str) -> None:
    response = await admin_client.post("/v1/users", json={**NEW_USER, "password": password})
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == ["password"]  # type: ignore[union-attr]
    assert reason in error["details"][0]["message"].lower()  # type: ignore[index]


async def test_long_passphrases_without_composition_rules_are_accepted(
    admin_client: RoleClient,
) -> None:
    passphrase = "the quiet heron waits beside a copper lantern at dusk every single day"
    assert len(passphrase) > 64
    response = await admin_client.post("/v1/users", json={**NEW_USER, "password": passphrase})
    assert response.status_code == 201, response.text


async def test_every_invalid_field_is_reported(admin_client: RoleClient) -> None:
    response = await admin_client.post("/v1/users", json={
        "email": "not-an-email", "password": "x", "role": "superuser", "id": "usr_x"})
    error = assert_error(response, 400, "VALIDATION_ERROR")
    fields = sorted(d["field"] for d in error["details"])  # type: ignore[union-attr]
    assert fields == ["email", "id", "password", "role"]


async def test_list_is_paginated(admin_client: RoleClient) -> None:
    for i in range(3):
        response = await admin_client.post(
            "/v1/users", json={**NEW_USER, "email": f"user{i}@clinic.example.org"})
        assert response.status_code == 201
    page1 = (await admin_client.get("/v1/users", params={"limit": 2})).json()
    page2 = (await admin_client.get("/v1/users", params={"limit": 2, "page": 2})).json()
    assert page1["pagination"] == {"page": 1, "limit": 2, "total": 4, "totalPages": 2,
                                   "hasNext": True, "hasPrevious": False}
    assert page2["pagination"]["hasPrevious"] is True
    assert page2["pagination"]["hasNext"] is False
    ids = [u["id"] for u in page1["data"] + page2["data"]]
    assert len(set(ids)) == 4
    nurses = (await admin_client.get("/v1/users", params={"role": "nurse"})).json()
    assert {u["role"] for u in nurses["data"]} == {"nurse"}
    assert nurses["pagination"]["total"] == 3


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"page": 0},
                                    {"page": "x"}, {"role": "superuser"}])
async def test_bad_list_parameters(admin_client: RoleClient, params: dict[str, object]) -> None:
    response = await admin_client.get("/v1/users", params=params)
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == list(params)  # type: ignore[union-attr]


@pytest.mark.parametrize("role", ["admin", "provider", "nurse", "front_desk", "pharmacy"])
async def test_everyone_reads_themselves(client_for: object, role: str) -> None:
    client = await client_for(role)  # type: ignore[operator]
    response = await client.get("/v1/users/me")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == client.user_id
    assert body["role"] == role
    assert set(body) == {"id", "email", "role", "permissions", "firstName", "lastName",
                         "mfaEnabled", "active", "createdAt"}
