"""Outages of the services the server depends on, tried for real: a private PostgreSQL
cluster stopped and frozen (SIGSTOP), and a private Redis killed and frozen, under a real
server process. The machine's shared PostgreSQL and Redis are never touched.

What must hold: fast ``503 SERVICE_UNAVAILABLE`` envelopes with ``Retry-After`` (never a 500
or a hang), one log line per failed request and no tracebacks, ``/readyz`` answering within a
second, rate limits still enforced and headed while Redis is away, and recovery on its own
once the service is back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from dermifi.auth.permissions import Role
from tests.e2e.helpers import (
    assert_error,
    bearer,
    bytecode_cache,  # noqa: F401 - fixture
    login,
    seed_user,
)
from tests.e2e.server import ServerProcess, dermifi
from tests.private_services import PrivatePostgres, PrivateRedis
from tests.support import TEST_SECRET_KEY, Backend

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bytecode_cache")]

DB_TIMEOUT = 1.0


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres().init()
    cluster.start()
    yield cluster
    cluster.destroy()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.kill()


def _env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {"DERMIFI_DATABASE_URL": database_url, "DERMIFI_DATA_DIR": str(data_dir),
            "DERMIFI_SECRET_KEY": TEST_SECRET_KEY, "DERMIFI_ARGON2_TIME_COST": "1",
            "DERMIFI_ARGON2_MEMORY_KIB": "1024",
            "DERMIFI_DB_CONNECT_TIMEOUT_SECONDS": str(DB_TIMEOUT),
            "DERMIFI_DB_POOL_TIMEOUT_SECONDS": str(DB_TIMEOUT),
            "DERMIFI_DB_STATEMENT_TIMEOUT_SECONDS": str(DB_TIMEOUT), **extra}


def _get(url: str, token: str | None = None) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.get(url, headers=bearer(token) if token else None, timeout=30)
    return response, time.monotonic() - started


def _assert_outage_answer(response: httpx.Response) -> None:
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers.get("X-RateLimit-Limit")


def test_database_stopped_then_frozen(private_postgres: PrivatePostgres,
                                      tmp_path: Path) -> None:
    env = _env(private_postgres.url, tmp_path / "data")
    dermifi("migrate", env=env)
    user = seed_user(Backend("postgresql", private_postgres.url), tmp_path / "data",
                     role=Role.ADMIN)
    with ServerProcess(env, tmp_path / "server.log") as server:
        token = login(server.url, user["email"], user["password"]).json()["accessToken"]
        me = f"{server.url}/v1/users/me"
        assert _get(me, token)[0].status_code == 200

        # Stopped: refused connections, answered at once.
        private_postgres.stop()
        stopped = [_get(me, token) for _ in range(10)]
        ready, ready_took = _get(f"{server.url}/readyz")
        for response, _took in stopped:
            _assert_outage_answer(response)
        assert_error(ready, 503, "SERVICE_UNAVAILABLE")
        slowest_stopped = max(took for _, took in stopped)
        private_postgres.start()
        recovered_after = _wait_until_served(me, token)

        # Frozen: nothing answers, connections stay open. Bounded by the timeouts.
        private_postgres.freeze()
        try:
            with ThreadPoolExecutor(max_workers=6) as pool:
                frozen = list(pool.map(lambda _: _get(me, token), range(6)))
            ready_frozen, ready_frozen_took = _get(f"{server.url}/readyz")
        finally:
            private_postgres.thaw()
        for response, _took in frozen:
            _assert_outage_answer(response)
        slowest_frozen = max(took for _, took in frozen)
        thawed_after = _wait_until_served(me, token)

        log = server.log()
    lines = log.count("service unavailable (")
    print(f"\nstopped: 10 requests, 10 x 503, slowest {slowest_stopped:.2f} s, /readyz "
          f"{ready_took:.2f} s; served again {recovered_after:.2f} s after the restart\n"
          f"frozen: 6 concurrent requests, 6 x 503, slowest {slowest_frozen:.2f} s, /readyz "
          f"{ready_frozen_took:.2f} s; served again {thawed_after:.2f} s after the thaw; "
          f"{lines} outage log lines")
    # Bounded by the configured timeouts, not by how fast this machine is: a refused connection
    # costs a pre-ping and one reconnect at most (each within the connect timeout), and the
    # margin absorbs a loaded CI machine. Before the timeouts, these waited up to 20 s.
    assert slowest_stopped < 2 * DB_TIMEOUT + 1.5
    assert ready_took < DB_TIMEOUT + 1.5
    assert_error(ready_frozen, 503, "SERVICE_UNAVAILABLE")
    assert ready_frozen_took < DB_TIMEOUT + 1.5
    # Pool wait, a pre-ping and a reconnect at most: never the 20 s the freeze lasted.
    assert slowest_frozen < 4 * DB_TIMEOUT + 1.5
    assert "Traceback" not in log
    assert 16 <= lines <= 16 + 2  # one per failed request (a probe may add its own)


def _wait_until_served(url: str, token: str, limit: float = 15.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if _get(url, token)[0].status_code == 200:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"not served again within {limit} s")


def test_redis_killed_then_frozen(private_redis: PrivateRedis, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env = _env(database, tmp_path / "data", DERMIFI_REDIS_URL=private_redis.url,
               DERMIFI_LOGIN_RATE_LIMIT="10/minute")
    dermifi("migrate", env=env)
    user = seed_user(Backend("sqlite", database), tmp_path / "data", role=Role.NURSE)
    with ServerProcess(env, tmp_path / "server.log") as server:
        session = login(server.url, user["email"], user["password"])
        assert session.status_code == 200
        token = session.json()["accessToken"]

        private_redis.kill()
        answers = [login(server.url, user["email"], "not-the-password-at-all")
                   for _ in range(15)]
        statuses = [a.status_code for a in answers]
        # Still limited (per process now), still headed.
        assert all(a.headers.get("X-RateLimit-Limit") == "10" for a in answers)
        assert statuses.count(429) >= 5, statuses
        # Logout is still honoured at once: the database is the authority.
        assert httpx.post(f"{server.url}/v1/auth/logout", headers=bearer(token)).status_code \
            == 204
        assert_error(httpx.get(f"{server.url}/v1/users/me", headers=bearer(token)), 401,
                     "UNAUTHORIZED")

        # Frozen: every call would wait on a socket that never answers. Bounded, and the
        # circuit keeps most requests from waiting at all.
        private_redis.start()
        time.sleep(6)  # past the circuit's cool-down: Redis is used again
        assert httpx.get(f"{server.url}/healthz").status_code == 200
        private_redis.freeze()
        try:
            started = time.monotonic()
            probes = [_get(f"{server.url}/healthz") for _ in range(20)]
            frozen_took = time.monotonic() - started
        finally:
            private_redis.thaw()
        log = server.log()
    print(f"\nRedis killed: 15 logins from one address, {statuses.count(429)} x 429, all with "
          f"X-RateLimit-*; frozen: 20 probes in {frozen_took:.2f} s, slowest "
          f"{max(t for _, t in probes):.2f} s")
    assert all(r.status_code == 200 for r, _ in probes)
    # Until the circuit opens (two timeouts in a row) a probe waits for Redis's timeout.
    assert frozen_took < 4.0
    assert max(t for _, t in probes) < 1.5
    assert log.count("Redis unavailable") == 2  # once per outage, not per request
    assert "Traceback" not in log
