"""A parallel burst of wrong passwords against one account (the hardening issue's first
finding): each failure is claimed under the account's row lock before the slow hash, so at
most the threshold of guesses are ever checked, the rest are refused at once, and the right
password that arrives during or after the burst is refused too."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from dermifi.audit.models import AuditEvent
from dermifi.auth.models import LoginFailure
from dermifi.core.security import totp_code
from dermifi.core.state import AppState
from dermifi.practices.models import Practice
from tests.factories.users import make_user
from tests.support import TEST_PASSWORD

WRONG = "definitely-wrong-pass"


@pytest.fixture
def hash_checks(state: AppState, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password the server checks against a stored hash, in order."""
    checked: list[str] = []
    verify = state.passwords.verify

    async def counting(stored: str | None, password: str) -> bool:
        checked.append(password)
        return await verify(stored, password)

    monkeypatch.setattr(state.passwords, "verify", counting)
    return checked


async def _failures_audited(state: AppState, user_id: str) -> list[dict[str, Any]]:
    async with state.sessionmaker() as session:
        return list((await session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "auth.login",
                                             AuditEvent.outcome == "failure",
                                             AuditEvent.resource_id == user_id))).all())


async def test_thirty_parallel_wrong_passwords_check_at_most_the_threshold(
    anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
    hash_checks: list[str],
) -> None:
    created = await make_user(state, practice_id=practice.id)
    body = {"email": created.user.email, "password": WRONG}
    answers = await asyncio.gather(*(anon_client.post("/v1/auth/login", json=body)
                                     for _ in range(30)))
    statuses = sorted(a.status_code for a in answers)
    threshold = state.settings.lockout_threshold
    assert statuses.count(401) <= threshold
    assert statuses.count(401) + statuses.count(423) == 30
    assert hash_checks.count(WRONG) <= threshold
    for answer in answers:
        if answer.status_code == 423:
            assert answer.json()["error"]["code"] == "ACCOUNT_LOCKED"
            assert int(answer.headers["Retry-After"]) > 0
    # Every guess that was checked is audited; the account ends locked.
    audited = await _failures_audited(state, created.user.id)
    assert len(audited) == hash_checks.count(WRONG)
    assert sum(1 for d in audited if d["locked"]) == 1

    good = await anon_client.post("/v1/auth/login", json={**body, "password": TEST_PASSWORD})
    assert good.status_code == 423
    assert good.json()["error"]["code"] == "ACCOUNT_LOCKED"
    assert TEST_PASSWORD not in hash_checks  # refused before the hash: the lock is known


async def test_the_right_password_inside_a_burst_is_refused(
    anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
    hash_checks: list[str],
) -> None:
    # 29 wrong passwords in parallel, and the right one with a valid code right behind them.
    created = await make_user(state, practice_id=practice.id, mfa=True)
    assert created.totp_secret is not None
    wrong = {"email": created.user.email, "password": WRONG, "mfaCode": "000000"}
    right = {"email": created.user.email, "password": TEST_PASSWORD,
             "mfaCode": totp_code(created.totp_secret, state.clock.now())}

    async def late_right() -> httpx.Response:
        await asyncio.sleep(0.05)
        return await anon_client.post("/v1/auth/login", json=right)

    *_, answer = await asyncio.gather(
        *(anon_client.post("/v1/auth/login", json=wrong) for _ in range(29)), late_right())
    assert answer.status_code == 423, answer.text
    assert "accessToken" not in answer.text
    assert hash_checks.count(WRONG) <= state.settings.lockout_threshold


async def test_a_correct_password_checked_while_the_lock_was_set_is_refused(
    anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The lock is read again after the hash: guesses that lock the account while the right
    password is being hashed win."""
    created = await make_user(state, practice_id=practice.id)
    email = created.user.email
    for _ in range(state.settings.lockout_threshold - 1):
        assert (await anon_client.post("/v1/auth/login", json={
            "email": email, "password": WRONG})).status_code == 401
    verify = state.passwords.verify
    gate = asyncio.Event()

    async def slow_right(stored: str | None, password: str) -> bool:
        ok = await verify(stored, password)
        if password == TEST_PASSWORD:
            await gate.wait()  # the last wrong guess locks the account meanwhile
        return ok

    monkeypatch.setattr(state.passwords, "verify", slow_right)
    right = asyncio.create_task(anon_client.post("/v1/auth/login", json={
        "email": email, "password": TEST_PASSWORD}))
    await asyncio.sleep(0.1)
    # The right password's claim took the last slot: the wrong one is refused unhashed...
    refused = await anon_client.post("/v1/auth/login", json={"email": email, "password": WRONG})
    assert refused.status_code == 423
    # ...so lock the account the way a parallel process would, then let the hash finish.
    async with state.sessionmaker() as session:
        from sqlalchemy import update

        from dermifi.users.models import User

        await session.execute(update(User).where(User.id == created.user.id).values(
            locked_until=state.clock.now().replace(year=state.clock.now().year + 1)))
        await session.commit()
    gate.set()
    answer = await right
    assert answer.status_code == 423, answer.text


async def test_a_refused_mfa_step_gives_its_claim_back(
    anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
) -> None:
    """A right password without its code is not a failure: it must not count towards the
    lock (and the claim it made is removed)."""
    created = await make_user(state, practice_id=practice.id, mfa=True)
    for _ in range(state.settings.lockout_threshold + 2):
        answer = await anon_client.post("/v1/auth/login", json={
            "email": created.user.email, "password": TEST_PASSWORD})
        assert answer.json()["error"]["code"] == "MFA_REQUIRED"
    async with state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(LoginFailure)) == 0
