"""Client addresses over TCP: X-Forwarded-For counts only from trusted proxies, the IP allowlist
sees the real client, and rotating addresses does not dodge the account lockout."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from dermifi.auth.permissions import Role
from tests.e2e.helpers import (
    assert_error,
    bytecode_cache,  # noqa: F401 - fixture
    login,
    running,
    seed_user,
)
from tests.e2e.server import ServerProcess
from tests.support import Backend

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bytecode_cache")]

ALLOWED = "10.9.9.0/24"


def me(server: ServerProcess, forwarded_for: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return httpx.get(f"{server.url}/v1/users/me", headers=headers)


def test_forwarded_for_counts_only_from_trusted_proxies_and_lockout_holds(
        server_env: dict[str, str], e2e_backend: Backend, tmp_path: Path) -> None:
    user = seed_user(e2e_backend, tmp_path / "data", role=Role.FRONT_DESK)
    direct_env = {**server_env, "DERMIFI_IP_ALLOWLIST": ALLOWED}
    proxied_env = {**direct_env, "DERMIFI_TRUSTED_PROXIES": "127.0.0.1/32"}
    with running(ServerProcess(direct_env, tmp_path / "direct.log"),
                 ServerProcess(proxied_env, tmp_path / "proxied.log")) as (direct, proxied):
        # No trusted proxies: the header is the client's word, and the client is 127.0.0.1.
        assert_error(me(direct, "10.9.9.9"), 403, "IP_NOT_ALLOWED")
        assert_error(me(direct), 403, "IP_NOT_ALLOWED")
        assert_error(login(direct.url, user["email"], user["password"],
                           headers={"X-Forwarded-For": "10.9.9.9"}), 403, "IP_NOT_ALLOWED")
        assert httpx.get(f"{direct.url}/healthz").status_code == 200  # probes stay open

        # Behind a trusted proxy the forwarded address is the client: allowed in, so the
        # answer is about the missing token.
        assert_error(me(proxied, "10.9.9.9"), 401, "UNAUTHORIZED")
        assert_error(me(proxied), 403, "IP_NOT_ALLOWED")
        # Only the rightmost untrusted hop counts; what the client prepends is ignored.
        assert_error(me(proxied, "10.9.9.9, 203.0.113.5"), 403, "IP_NOT_ALLOWED")
        assert_error(me(proxied, "203.0.113.5, 10.9.9.9"), 401, "UNAUTHORIZED")

        # Lockout is per account: five failures from five addresses lock it all the same.
        for n in range(1, 6):
            failed = login(proxied.url, user["email"], "wrong-password-but-long",
                           headers={"X-Forwarded-For": f"10.9.9.{n}"})
            assert_error(failed, 401, "INVALID_CREDENTIALS")
        locked = login(proxied.url, user["email"], user["password"],
                       headers={"X-Forwarded-For": "10.9.9.6"})
        assert_error(locked, 423, "ACCOUNT_LOCKED")
        assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60 + 1
