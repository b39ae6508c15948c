"""POST /v1/auth/login: credentials, MFA, lockout (contract, section Auth)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from dermifi.audit.models import AuditEvent
from dermifi.auth.permissions import Role
from dermifi.core.clock import FrozenClock
from dermifi.core.security import TOTP_STEP_SECONDS, totp_code
from dermifi.core.state import AppState
from dermifi.practices.models import Practice
from tests.factories.users import make_user
from tests.support import TEST_PASSWORD


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["requestId"] == response.headers["X-Request-Id"]
    return dict(error)


async def test_login_returns_the_documented_shape(
    anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
) -> None:
    created = await make_user(state, practice_id=practice.id, role=Role.PROVIDER,
                              email="Provider@Dermifi.example.com")
    response = await anon_client.post("/v1/auth/login", json={
        "email": "provider@dermifi.example.com", "password": TEST_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"accessToken", "refreshToken", "tokenType", "expiresIn", "user"}
    assert body["tokenType"] == "Bearer"
    assert body["expiresIn"] == 3600
    assert body["user"] == {"id": created.user.id, "email": "provider@dermifi.example.com",
                            "role": "provider", "permissions": ["read", "write", "prescribe"]}
    assert body["user"]["id"].startswith("usr_")


@pytest.mark.parametrize(("role", "permissions"), [
    ("admin", ["read", "write", "admin"]),
    ("provider", ["read", "write", "prescribe"]),
    ("nurse", ["read", "write"]),
    ("front_desk", ["read", "write"]),
    ("pharmacy", ["read", "fulfill"]),
])
async def test_each_role_carries_its_permissions(
    anon_client: httpx.AsyncClient, state: AppState, practice: Practice, role: str,
    permissions: list[str],
) -> None:
    created = await make_user(state, practice_id=practice.id, role=Role(role))
    response = await anon_client.post("/v1/auth/login", json={
        "email": created.user.email, "password": TEST_PASSWORD})
    assert response.json()["user"]["permissions"] == permissions


async def test_unknown_email_and_wrong_password_answer_alike(
    anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
) -> None:
    created = await make_user(state, practice_id=practice.id)
    wrong = await anon_client.post("/v1/auth/login", json={
        "email": created.user.email, "password": "not-the-password-at-all"})
    unknown = await anon_client.post("/v1/auth/login", json={
        "email": "nobody@clinic.example.org", "password": TEST_PASSWORD})
    a = assert_error(wrong, 401, "INVALID_CREDENTIALS")
    b = assert_error(unknown, 401, "INVALID_CREDENTIALS")
    assert a["message"] == b["message"]


async def test_deactivated_user_cannot_log_in(
    anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
) -> None:
    created = await make_user(state, practice_id=practice.id)
    async with state.sessionmaker() as session:
        user = await session.get(type(created.user), created.user.id)
        assert user is not None
        user.is_active = False
        await session.commit()
    response = await anon_client.post("/v1/auth/login", json={
        "email": created.user.email, "password": TEST_PASSWORD})
    assert_error(response, 401, "INVALID_CREDENTIALS")


async def test_login_validation_errors_name_fields(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.post("/v1/auth/login", json={
        "email": "a@b.org", "password": "x" * 20, "mfaCode": "12ab", "role": "admin"})
    error = assert_error(response, 400, "VALIDATION_ERROR")
    fields = {d["field"] for d in error["details"]}  # type: ignore[attr-defined]
    assert fields == {"mfaCode", "role"}


class TestMfa:
    async def test_enrolled_account_needs_a_code(
        self, anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
    ) -> None:
        created = await make_user(state, practice_id=practice.id, mfa=True)
        response = await anon_client.post("/v1/auth/login", json={
            "email": created.user.email, "password": TEST_PASSWORD})
        assert_error(response, 401, "MFA_REQUIRED")

    async def test_wrong_code_is_refused(
        self, anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
        clock: FrozenClock,
    ) -> None:
        created = await make_user(state, practice_id=practice.id, mfa=True)
        assert created.totp_secret
        good = totp_code(created.totp_secret, clock.now())
        bad = f"{(int(good) + 1) % 1_000_000:06d}"
        response = await anon_client.post("/v1/auth/login", json={
            "email": created.user.email, "password": TEST_PASSWORD, "mfaCode": bad})
        assert_error(response, 401, "MFA_INVALID")

    async def test_wrong_password_with_mfa_is_invalid_credentials(
        self, anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
        clock: FrozenClock,
    ) -> None:
        created = await make_user(state, practice_id=practice.id, mfa=True)
        assert created.totp_secret
        response = await anon_client.post("/v1/auth/login", json={
            "email": created.user.email, "password": "a-wrong-password-here",
            "mfaCode": totp_code(created.totp_secret, clock.now())})
        assert_error(response, 401, "INVALID_CREDENTIALS")

    @pytest.mark.parametrize("offset_steps", [-1, 0, 1])
    async def test_code_accepted_within_one_step(
        self, anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
        clock: FrozenClock, offset_steps: int,
    ) -> None:
        created = await make_user(state, practice_id=practice.id, mfa=True)
        assert created.totp_secret
        code = totp_code(created.totp_secret,
                         clock.now() + timedelta(seconds=offset_steps * TOTP_STEP_SECONDS))
        response = await anon_client.post("/v1/auth/login", json={
            "email": created.user.email, "password": TEST_PASSWORD, "mfaCode": code})
        assert response.status_code == 200, response.text

    @pytest.mark.parametrize("offset_steps", [-2, 2])
    async def test_code_outside_the_window_is_refused(
        self, anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
        clock: FrozenClock, offset_steps: int,
    ) -> None:
        created = await make_user(state, practice_id=practice.id, mfa=True)
        assert created.totp_secret
        code = totp_code(created.totp_secret,
                         clock.now() + timedelta(seconds=offset_steps * TOTP_STEP_SECONDS))
        response = await anon_client.post("/v1/auth/login", json={
            "email": created.user.email, "password": TEST_PASSWORD, "mfaCode": code})
        assert_error(response, 401, "MFA_INVALID")

    async def test_a_code_is_accepted_once(
        self, anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
        clock: FrozenClock,
    ) -> None:
        created = await make_user(state, practice_id=practice.id, mfa=True)
        assert created.totp_secret
        body = {"email": created.user.email, "password": TEST_PASSWORD,
                "mfaCode": totp_code(created.totp_secret, clock.now())}
        assert (await anon_client.post("/v1/auth/login", json=body)).status_code == 200
        assert_error(await anon_client.post("/v1/auth/login", json=body), 401, "MFA_INVALID")
        # An older code, still inside the window, is refused too once a newer one was used.
        older = totp_code(created.totp_secret, clock.now() - timedelta(seconds=30))
        assert_error(await anon_client.post("/v1/auth/login", json={**body, "mfaCode": older}),
                     401, "MFA_INVALID")
        # The next step's code works.
        clock.advance(seconds=TOTP_STEP_SECONDS)
        newer = totp_code(created.totp_secret, clock.now())
        ok = await anon_client.post("/v1/auth/login", json={**body, "mfaCode": newer})
        assert ok.status_code == 200


class TestLockout:
    async def _fail(self, client: httpx.AsyncClient, email: str, **headers: str
                    ) -> httpx.Response:
        return await client.post("/v1/auth/login", headers=headers,
                                 json={"email": email, "password": "definitely-wrong-pass"})

    async def test_five_failures_lock_the_account_for_fifteen_minutes(
        self, anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
        clock: FrozenClock,
    ) -> None:
        created = await make_user(state, practice_id=practice.id)
        email = created.user.email
        for _ in range(5):
            assert_error(await self._fail(anon_client, email), 401, "INVALID_CREDENTIALS")
        good = {"email": email, "password": TEST_PASSWORD}
        locked = await anon_client.post("/v1/auth/login", json=good)
        assert_error(locked, 423, "ACCOUNT_LOCKED")
        assert int(locked.headers["Retry-After"]) > 0
        clock.advance(minutes=14, seconds=59)
        assert_error(await anon_client.post("/v1/auth/login", json=good), 423, "ACCOUNT_LOCKED")
        clock.advance(seconds=2)
        assert (await anon_client.post("/v1/auth/login", json=good)).status_code == 200

    async def test_failures_outside_the_window_do_not_count(
        self, anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
        clock: FrozenClock,
    ) -> None:
        created = await make_user(state, practice_id=practice.id)
        for _ in range(4):
            await self._fail(anon_client, created.user.email)
        clock.advance(minutes=15, seconds=1)
        await self._fail(anon_client, created.user.email)
        ok = await anon_client.post("/v1/auth/login", json={
            "email": created.user.email, "password": TEST_PASSWORD})
        assert ok.status_code == 200

    async def test_success_resets_the_count(
        self, anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
    ) -> None:
        created = await make_user(state, practice_id=practice.id)
        good = {"email": created.user.email, "password": TEST_PASSWORD}
        for _ in range(4):
            await self._fail(anon_client, created.user.email)
        assert (await anon_client.post("/v1/auth/login", json=good)).status_code == 200
        for _ in range(4):
            await self._fail(anon_client, created.user.email)
        assert (await anon_client.post("/v1/auth/login", json=good)).status_code == 200

    async def test_wrong_mfa_codes_count_towards_lockout(
        self, anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
    ) -> None:
        created = await make_user(state, practice_id=practice.id, mfa=True)
        body = {"email": created.user.email, "password": TEST_PASSWORD, "mfaCode": "000000"}
        for _ in range(5):
            await anon_client.post("/v1/auth/login", json=body)
        assert_error(await anon_client.post("/v1/auth/login", json=body), 423, "ACCOUNT_LOCKED")

    async def test_spoofed_forwarded_for_does_not_dodge_the_lock(
        self, anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
    ) -> None:
        created = await make_user(state, practice_id=practice.id)
        for i in range(5):
            await self._fail(anon_client, created.user.email,
                             **{"X-Forwarded-For": f"198.51.100.{i + 1}"})
        response = await anon_client.post(
            "/v1/auth/login", headers={"X-Forwarded-For": "198.51.100.77"},
            json={"email": created.user.email, "password": TEST_PASSWORD})
        assert_error(response, 423, "ACCOUNT_LOCKED")

    @pytest.mark.parametrize("settings_overrides", [
        {"lockout_threshold": 2, "lockout_window_seconds": 60, "lockout_duration_seconds": 30}])
    async def test_threshold_window_and_duration_are_settings(
        self, anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
        clock: FrozenClock,
    ) -> None:
        created = await make_user(state, practice_id=practice.id)
        good = {"email": created.user.email, "password": TEST_PASSWORD}
        for _ in range(2):
            await self._fail(anon_client, created.user.email)
        assert_error(await anon_client.post("/v1/auth/login", json=good), 423, "ACCOUNT_LOCKED")
        clock.advance(seconds=31)
        assert (await anon_client.post("/v1/auth/login", json=good)).status_code == 200

    async def test_failures_and_lock_are_audited(
        self, anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
    ) -> None:
        created = await make_user(state, practice_id=practice.id)
        for _ in range(5):
            await self._fail(anon_client, created.user.email)
        async with state.sessionmaker() as session:
            failures = await session.scalar(
                select(func.count()).select_from(AuditEvent).where(
                    AuditEvent.action == "auth.login", AuditEvent.outcome == "failure",
                    AuditEvent.resource_id == created.user.id))
            locked = (await session.scalars(
                select(AuditEvent.details).where(AuditEvent.action == "auth.login",
                                                 AuditEvent.resource_id == created.user.id)
            )).all()
        assert failures == 5
        assert sum(1 for d in locked if d.get("locked")) == 1


async def test_password_hash_is_argon2id(state: AppState, practice: Practice) -> None:
    created = await make_user(state, practice_id=practice.id)
    assert created.user.password_hash.startswith("$argon2id$")
    assert TEST_PASSWORD not in created.user.password_hash
