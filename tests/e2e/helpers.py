"""Shared pieces of the e2e tests: starting several servers at once, seeding users directly in
the database, and checking the error envelope as a client sees it over TCP."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from dermifi.auth.permissions import Role
from dermifi.core.clock import SystemClock
from dermifi.main import build_state
from tests.e2e.server import ServerProcess
from tests.factories.practices import make_practice
from tests.factories.users import make_user
from tests.support import TEST_PASSWORD, Backend, test_settings

# Several servers starting at once on a busy 2-core machine: generous, since readiness is polled.
START_TIMEOUT = 120.0


@pytest.fixture(scope="module")
def bytecode_cache(request: pytest.FixtureRequest,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Let the ``dermifi`` child processes cache their bytecode outside the source tree.

    The environment sets PYTHONDONTWRITEBYTECODE, so every child process would compile FastAPI,
    SQLAlchemy and pydantic from source again (seconds per process). A pycache prefix keeps the
    tree clean and makes each server or command start several times faster; behaviour is the same.
    """
    cache = getattr(request.config, "cache", None)
    directory = (cache.mkdir("e2e-pycache") if cache is not None
                 else tmp_path_factory.mktemp("e2e-pycache"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONDONTWRITEBYTECODE", "")
        patch.setenv("PYTHONPYCACHEPREFIX", str(directory))
        yield


@contextlib.contextmanager
def running(*servers: ServerProcess, timeout: float = START_TIMEOUT
            ) -> Iterator[tuple[ServerProcess, ...]]:
    """Start every server at once (their start-up is CPU-bound imports) and stop them all."""
    try:
        with ThreadPoolExecutor(max_workers=len(servers)) as pool:
            for future in [pool.submit(server.start, timeout) for server in servers]:
                future.result()
        yield servers
    finally:
        for server in servers:
            server.stop()


def seed_user(backend: Backend, data_dir: Path, *, role: Role = Role.ADMIN,
              email: str | None = None, mfa: bool = False) -> dict[str, Any]:
    """A practice (the first, if none) and one user, written straight into the test database."""

    async def work() -> dict[str, Any]:
        state = build_state(test_settings(backend, data_dir), SystemClock())
        try:
            from dermifi.practices import service as practice_service

            async with state.sessionmaker() as session:
                practices = await practice_service.list_practices(session)
            practice = practices[0] if practices else await make_practice(state)
            created = await make_user(state, practice_id=practice.id, role=role, email=email,
                                      mfa=mfa)
            return {"id": created.user.id, "email": created.user.email,
                    "password": TEST_PASSWORD, "totpSecret": created.totp_secret,
                    "practiceId": practice.id}
        finally:
            await state.engine.dispose()

    return asyncio.run(work())


def add_practice(backend: Backend, data_dir: Path, name: str) -> str:
    """A practice written straight into the test database; returns its id."""

    async def work() -> str:
        state = build_state(test_settings(backend, data_dir), SystemClock())
        try:
            return (await make_practice(state, name=name)).id
        finally:
            await state.engine.dispose()

    return asyncio.run(work())


def login(base_url: str, email: str, password: str, *, totp_secret: str | None = None,
          headers: dict[str, str] | None = None) -> httpx.Response:
    body: dict[str, str] = {"email": email, "password": password}
    if totp_secret:
        body["mfaCode"] = pyotp.TOTP(totp_secret).now()
    return httpx.post(f"{base_url}/v1/auth/login", json=body, headers=headers, timeout=10)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The contract's error envelope, with the given status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, body
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], list)
    assert error["requestId"] == response.headers["X-Request-Id"]
    assert error["timestamp"].endswith("Z")
    return dict(error)


def assert_rate_limit_headers(response: httpx.Response, limit: int) -> tuple[int, int]:
    """X-RateLimit-Limit/Remaining/Reset as the contract names them; returns (remaining, reset)."""
    headers = response.headers
    assert headers.get("X-RateLimit-Limit") == str(limit), dict(headers)
    remaining = int(headers["X-RateLimit-Remaining"])
    reset = int(headers["X-RateLimit-Reset"])
    assert 0 <= remaining < limit
    now = time.time()
    assert now - 2 <= reset <= now + 3600 + 2, "X-RateLimit-Reset must be epoch seconds"
    return remaining, reset


def assert_logout_is_seen_by_the_other_process(a: ServerProcess, b: ServerProcess,
                                               user: dict[str, Any]) -> str:
    """Log in on A, use the token on B, log out on A: B refuses the token and its refresh
    token at once."""
    tokens = login(a.url, user["email"], user["password"])
    assert tokens.status_code == 200, tokens.text
    access, refresh = tokens.json()["accessToken"], tokens.json()["refreshToken"]

    assert httpx.get(f"{b.url}/v1/users/me", headers=bearer(access)).status_code == 200

    out = httpx.post(f"{a.url}/v1/auth/logout", headers=bearer(access))
    assert out.status_code == 204, out.text
    assert out.content == b""

    # At once, on the other process: no waiting, no retry.
    assert_error(httpx.get(f"{b.url}/v1/users/me", headers=bearer(access)), 401, "UNAUTHORIZED")
    assert_error(httpx.get(f"{a.url}/v1/users/me", headers=bearer(access)), 401, "UNAUTHORIZED")
    assert_error(httpx.post(f"{b.url}/v1/auth/refresh", json={"refreshToken": refresh}),
                 401, "UNAUTHORIZED")
    return access
