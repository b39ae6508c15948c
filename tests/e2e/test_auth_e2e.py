"""Auth over TCP against the real server: the newcomer's first login, and logout seen by a
second server process on the same database (with and without Redis)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import redis

from dermifi.auth.permissions import Role
from tests.e2e.helpers import (
    assert_error,
    bearer,
    bytecode_cache,  # noqa: F401 - fixture
    login,
    running,
    seed_user,
)
from tests.e2e.server import ServerProcess, dermifi
from tests.support import REDIS_URL, Backend

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bytecode_cache")]

DEMO_ENTRY = re.compile(
    r"^\s*(?P<role>admin|provider|nurse|front_desk|pharmacy)\s+(?P<email>\S+@\S+)\s*\n"
    r"\s*password:\s+(?P<password>\S+)\s*\n"
    r"\s*TOTP secret:\s+(?P<secret>[A-Z2-7]+=*)\s*$",
    re.MULTILINE,
)


def test_newcomer_seeds_demo_users_and_logs_in(server_env: dict[str, str],
                                               tmp_path: Path) -> None:
    seeded = dermifi("seed-demo", env=server_env)
    users = {m["role"]: m.groupdict() for m in DEMO_ENTRY.finditer(seeded.stdout)}
    assert set(users) == {"admin", "provider", "nurse", "front_desk", "pharmacy"}, seeded.stdout
    admin = users["admin"]

    # The second seeding runs while the server starts: both are process start-ups.
    again = subprocess.Popen(
        [sys.executable, "-m", "dermifi", "seed-demo", "--if-empty"],
        env={**os.environ, **server_env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with running(ServerProcess(server_env, tmp_path / "server.log")) as (server,):
            response = login(server.url, admin["email"], admin["password"],
                             totp_secret=admin["secret"])
            assert response.status_code == 200, response.text
            body = response.json()
            assert set(body) == {"accessToken", "refreshToken", "tokenType", "expiresIn", "user"}
            assert body["tokenType"] == "Bearer"
            assert body["expiresIn"] == 3600
            assert body["accessToken"] and body["refreshToken"]
            assert set(body["user"]) == {"id", "email", "role", "permissions"}
            assert body["user"]["id"].startswith("usr_")
            assert body["user"]["email"] == admin["email"]
            assert body["user"]["role"] == "admin"
            assert sorted(body["user"]["permissions"]) == ["admin", "read", "write"]

            me = httpx.get(f"{server.url}/v1/users/me", headers=bearer(body["accessToken"]))
            assert me.status_code == 200, me.text
            assert me.json()["id"] == body["user"]["id"]
            assert me.json()["email"] == admin["email"]

            # The secret without a code is not enough: the demo accounts have MFA enrolled.
            provider = users["provider"]
            assert_error(login(server.url, provider["email"], provider["password"]),
                         401, "MFA_REQUIRED")

            stdout, stderr = again.communicate(timeout=120)
            assert again.returncode == 0, stderr
            assert "password:" not in stdout and "TOTP secret" not in stdout, stdout
            listed = httpx.get(f"{server.url}/v1/users", params={"limit": 100},
                               headers=bearer(body["accessToken"]))
            assert listed.status_code == 200, listed.text
            assert listed.json()["pagination"]["total"] == 5
            assert sorted(u["role"] for u in listed.json()["data"]) == sorted(users)
    finally:
        if again.poll() is None:
            again.kill()
            again.communicate()


@pytest.fixture
def flushed_redis() -> str:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is required and unreachable at {REDIS_URL}: {exc}", pytrace=False)
    finally:
        client.close()
    return REDIS_URL


def _logout_is_seen_by_the_other_process(a: ServerProcess, b: ServerProcess,
                                         user: dict[str, str]) -> str:
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


def test_logout_is_seen_at_once_by_another_server_process(
        server_env: dict[str, str], e2e_backend: Backend, tmp_path: Path,
        flushed_redis: str) -> None:
    user = seed_user(e2e_backend, tmp_path / "data", role=Role.NURSE)
    with_redis = {**server_env, "DERMIFI_REDIS_URL": flushed_redis}
    store = redis.Redis.from_url(flushed_redis)
    try:
        with running(ServerProcess(server_env, tmp_path / "a.log"),
                     ServerProcess(server_env, tmp_path / "b.log"),
                     ServerProcess(with_redis, tmp_path / "ra.log"),
                     ServerProcess(with_redis, tmp_path / "rb.log")) as (a, b, ra, rb):
            _logout_is_seen_by_the_other_process(a, b, user)
            assert store.keys("dermifi:revoked-session:*") == []

            _logout_is_seen_by_the_other_process(ra, rb, user)
            # With Redis the revocation is also published for every process to see.
            assert len(store.keys("dermifi:revoked-session:*")) == 1
    finally:
        store.flushdb()
        store.close()
