"""Rate limits over TCP: headers on every answer, 429 with Retry-After, per-user keys, login's own
stricter limit; and processes that share Redis sharing limits and session revocations."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import redis

from dermifi.auth.permissions import Role
from tests.e2e.helpers import (
    assert_error,
    assert_logout_is_seen_by_the_other_process,
    assert_rate_limit_headers,
    bearer,
    bytecode_cache,  # noqa: F401 - fixture
    login,
    running,
    seed_user,
)
from tests.e2e.server import ServerProcess
from tests.support import Backend

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bytecode_cache")]



def assert_rate_limited(response: httpx.Response, limit: int) -> None:
    assert_error(response, 429, "RATE_LIMITED")
    remaining, reset = assert_rate_limit_headers(response, limit)
    assert remaining == 0
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert reset <= time.time() + retry_after + 2


def test_rate_limits_per_user_and_stricter_login_limit(
        server_env: dict[str, str], e2e_backend: Backend, tmp_path: Path) -> None:
    first = seed_user(e2e_backend, tmp_path / "data", role=Role.NURSE)
    second = seed_user(e2e_backend, tmp_path / "data", role=Role.PROVIDER)
    env = {**server_env, "DERMIFI_RATE_LIMIT": "5/minute", "DERMIFI_LOGIN_RATE_LIMIT": "3/minute"}
    with running(ServerProcess(env, tmp_path / "server.log")) as (server,):
        url = server.url

        # Login has its own limit (3), counted apart from the default one (5).
        one = login(url, first["email"], first["password"])
        assert one.status_code == 200, one.text
        assert assert_rate_limit_headers(one, 3)[0] == 2
        two = login(url, second["email"], second["password"])
        assert two.status_code == 200, two.text
        token, other_token = one.json()["accessToken"], two.json()["accessToken"]
        wrong = login(url, "nobody@clinic.example.org", "not-the-password-at-all")
        assert_error(wrong, 401, "INVALID_CREDENTIALS")
        assert assert_rate_limit_headers(wrong, 3)[0] == 0
        assert_rate_limited(login(url, first["email"], first["password"]), 3)

        # Headers on a 401 and a 200 of an anonymous client (keyed by address), the login
        # limit being spent does not touch the default one.
        anonymous = httpx.get(f"{url}/v1/users/me")
        assert_error(anonymous, 401, "UNAUTHORIZED")
        assert_rate_limit_headers(anonymous, 5)
        health = httpx.get(f"{url}/healthz")
        assert health.status_code == 200
        assert_rate_limit_headers(health, 5)

        # An authenticated user has a bucket of its own: 5 answers, whatever their status...
        statuses, remaining = [], []
        for path in ["/v1/users/me", "/v1/no-such-resource", "/v1/users/me", "/v1/users/me",
                     "/v1/users/me"]:
            response = httpx.get(f"{url}{path}", headers=bearer(token))
            statuses.append(response.status_code)
            remaining.append(assert_rate_limit_headers(response, 5)[0])
            if response.status_code == 404:
                assert_error(response, 404, "NOT_FOUND")
        assert statuses == [200, 404, 200, 200, 200]
        assert remaining == [4, 3, 2, 1, 0]
        # ... then the 6th is refused, with Retry-After and the error envelope.
        assert_rate_limited(httpx.get(f"{url}/v1/users/me", headers=bearer(token)), 5)

        # Other users and other clients keep their own budgets.
        mine = httpx.get(f"{url}/v1/users/me", headers=bearer(other_token))
        assert mine.status_code == 200, mine.text
        assert assert_rate_limit_headers(mine, 5)[0] == 4
        assert httpx.get(f"{url}/healthz").status_code == 200


def test_processes_sharing_redis_share_rate_limits_and_revocations(
        server_env: dict[str, str], e2e_backend: Backend, tmp_path: Path,
        redis_url: str) -> None:
    limited = seed_user(e2e_backend, tmp_path / "data", role=Role.NURSE)
    leaving = seed_user(e2e_backend, tmp_path / "data", role=Role.PROVIDER)
    # A generous Redis timeout: on a loaded test machine a healthy Redis can miss the
    # production default, and a request that falls back to its own counter breaks the count
    # this test checks (the fallback itself is tested in test_outages_e2e).
    env = {**server_env, "DERMIFI_RATE_LIMIT": "5/minute", "DERMIFI_REDIS_URL": redis_url,
           "DERMIFI_REDIS_TIMEOUT_SECONDS": "3"}
    store = redis.Redis.from_url(redis_url)
    try:
        with running(ServerProcess(env, tmp_path / "a.log"),
                     ServerProcess(env, tmp_path / "b.log")) as (a, b):
            # One budget of 5 for the user, whichever process answers.
            token = login(a.url, limited["email"], limited["password"]).json()["accessToken"]
            seen = []
            for server in (a, a, a, b, b):
                response = httpx.get(f"{server.url}/v1/users/me", headers=bearer(token))
                assert response.status_code == 200, response.text
                seen.append(assert_rate_limit_headers(response, 5)[0])
            assert seen == [4, 3, 2, 1, 0]
            assert_rate_limited(httpx.get(f"{b.url}/v1/users/me", headers=bearer(token)), 5)
            assert_rate_limited(httpx.get(f"{a.url}/v1/users/me", headers=bearer(token)), 5)

            # A logout on A is refused on B at once, and published in Redis for every process.
            assert store.keys("dermifi:revoked-session:*") == []
            assert_logout_is_seen_by_the_other_process(a, b, leaving)
            assert len(store.keys("dermifi:revoked-session:*")) == 1
    finally:
        store.close()
