"""Auth over TCP against the real server: the newcomer's first login, and logout seen by a
second server process on the same database (with and without Redis)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from dermifi.auth.permissions import Role
from tests.e2e.helpers import (
    assert_error,
    assert_logout_is_seen_by_the_other_process,
    bearer,
    bytecode_cache,  # noqa: F401 - fixture
    login,
    running,
    seed_user,
)
from tests.e2e.server import ServerProcess, dermifi
from tests.support import Backend

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bytecode_cache")]

DEMO_ENTRY = re.compile(
    r"^\s*(?P<role>admin|provider|nurse|front_desk|pharmacy)\s+(?P<email>\S+@\S+)\s*\n"
    r"\s*password:\s+(?P<password>\S+)\s*\n"
    r"\s*TOTP secret:\s+(?P<secret>[A-Z2-7]+=*)\s*$",
    re.MULTILINE,
)


def test_newcomer_seeds_demo_users_and_logs_in(server_env: dict[str, str],
                                               tmp_path: Path) -> None:
    # Seeding and the server's start-up run side by side: both are mostly process start-up.
    with ThreadPoolExecutor(max_workers=1) as pool:
        seeding = pool.submit(dermifi, "seed-demo", env=server_env)
        with running(ServerProcess(server_env, tmp_path / "server.log")) as (server,):
            seeded = seeding.result()
            _newcomer_logs_in(server, seeded.stdout, server_env)


def _newcomer_logs_in(server: ServerProcess, printed: str, env: dict[str, str]) -> None:
    users = {m["role"]: m.groupdict() for m in DEMO_ENTRY.finditer(printed)}
    assert set(users) == {"admin", "provider", "nurse", "front_desk", "pharmacy"}, printed
    admin = users["admin"]

    # Seeding again (--if-empty) runs while we use the API.
    again = subprocess.Popen([sys.executable, "-m", "dermifi", "seed-demo", "--if-empty"],
                             env={**os.environ, **env}, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        response = login(server.url, admin["email"], admin["password"],
                         totp_secret=admin["secret"])
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"accessToken", "refreshToken", "tokenType", "expiresIn", "user"}
        assert body["tokenType"] == "Bearer"
        assert body["expiresIn"] == 3600
        assert body["accessToken"]
        assert body["refreshToken"]
        assert set(body["user"]) == {"id", "email", "role", "permissions"}
        assert body["user"]["id"].startswith("usr_")
        assert body["user"]["email"] == admin["email"]
        assert body["user"]["role"] == "admin"
        assert sorted(body["user"]["permissions"]) == ["admin", "read", "write"]

        me = httpx.get(f"{server.url}/v1/users/me", headers=bearer(body["accessToken"]))
        assert me.status_code == 200, me.text
        assert me.json()["id"] == body["user"]["id"]
        assert me.json()["email"] == admin["email"]

        # The demo clinic: a verified provider linked to the provider's login, with hours
        # every weekday, so an appointment can be booked at once.
        as_admin = bearer(body["accessToken"])
        providers = httpx.get(f"{server.url}/v1/providers", headers=as_admin).json()
        [provider] = providers["providers"]  # the directory lists verified providers only
        assert provider["lastName"] == "Johnson"
        monday = date.today() + timedelta(days=7 - date.today().weekday())
        day = httpx.get(f"{server.url}/v1/providers/{provider['id']}/schedule",
                        params={"date": monday.isoformat()}, headers=as_admin)
        assert day.status_code == 200, day.text
        assert day.json()["location"] == "Main"
        assert len(day.json()["schedule"]["availableSlots"]) == 14
        assert "Demo clinic: Dr. Emily Johnson" in printed

        # The password alone is not enough: the demo accounts have MFA enrolled.
        provider = users["provider"]
        assert_error(login(server.url, provider["email"], provider["password"]),
                     401, "MFA_REQUIRED")

        stdout, stderr = again.communicate(timeout=120)
        assert again.returncode == 0, stderr
        assert "no demo users created" in stdout, stdout
        assert "TOTP secret" not in stdout, stdout
        listed = httpx.get(f"{server.url}/v1/users", params={"limit": 100},
                           headers=bearer(body["accessToken"]))
        assert listed.status_code == 200, listed.text
        assert listed.json()["pagination"]["total"] == 5
        assert sorted(u["role"] for u in listed.json()["data"]) == sorted(users)
    finally:
        if again.poll() is None:
            again.kill()
            again.communicate()


def test_logout_is_seen_at_once_by_another_server_process(
        server_env: dict[str, str], e2e_backend: Backend, tmp_path: Path) -> None:
    """Without Redis: the database is the only thing the two processes share."""
    user = seed_user(e2e_backend, tmp_path / "data", role=Role.NURSE)
    with running(ServerProcess(server_env, tmp_path / "a.log"),
                 ServerProcess(server_env, tmp_path / "b.log")) as (a, b):
        assert_logout_is_seen_by_the_other_process(a, b, user)
    # (With Redis: tests/e2e/test_limits_e2e.py, on processes that share Redis.)
