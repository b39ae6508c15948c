"""The ``dermifi`` command line as an operator runs it: practices, users, and the production
guard on the secret key."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from dermifi.core.config import DEFAULT_SECRET_KEY
from tests.e2e.helpers import (
    add_practice,
    bytecode_cache,  # noqa: F401 - fixture
)
from tests.e2e.server import dermifi, free_port
from tests.support import TEST_PASSWORD, Backend

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bytecode_cache")]


def run_all(*commands: tuple[str, ...], env: dict[str, str]
            ) -> list[subprocess.CompletedProcess[str]]:
    """Independent commands at once: each is mostly interpreter start-up."""
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(lambda args: dermifi(*args, env=env, check=False), commands))


def test_practice_and_user_commands(server_env: dict[str, str], e2e_backend: Backend) -> None:
    created = dermifi("practice", "create", "--name", "Bayview Dermatology", env=server_env)
    practice = json.loads(created.stdout)
    assert practice["id"].startswith("prc_")
    assert practice["name"] == "Bayview Dermatology"

    nurse, common = run_all(
        ("user", "create", "--email", "Nora.Nurse@clinic.example.org",
         "--password", TEST_PASSWORD, "--role", "nurse", "--mfa"),
        ("user", "create", "--email", "weak@clinic.example.org",
         "--password", "password1234", "--role", "nurse"),
        env=server_env)

    # --practice defaults to the only practice; --mfa prints the secret and an otpauth URI.
    assert nurse.returncode == 0, nurse.stderr
    user = json.loads(nurse.stdout)
    assert user["id"].startswith("usr_")
    assert user["email"] == "nora.nurse@clinic.example.org"
    assert user["role"] == "nurse"
    assert user["mfaEnabled"] is True
    secret = user["totpSecret"]
    assert len(pyotp.TOTP(secret).now()) == 6  # a valid base32 secret
    uri = urlsplit(user["otpauthUri"])
    assert uri.scheme == "otpauth"
    assert uri.netloc == "totp"
    assert parse_qs(uri.query)["secret"] == [secret]
    assert "password" not in nurse.stdout.lower()

    # A common password is refused, plainly, with a non-zero exit.
    assert common.returncode != 0
    assert common.stdout == ""
    assert "password" in common.stderr.lower()
    assert "Traceback" not in common.stderr

    # A second practice (written directly: one more process start-up would prove nothing new).
    add_practice(e2e_backend, Path(server_env["DERMIFI_DATA_DIR"]), "Mission Skin Clinic")

    # With two practices the command will not guess which one.
    ambiguous = dermifi("user", "create", "--email", "frank@clinic.example.org",
                        "--password", TEST_PASSWORD, "--role", "front_desk",
                        env=server_env, check=False)
    assert ambiguous.returncode != 0
    assert ambiguous.stdout == ""
    assert "practice" in ambiguous.stderr.lower()
    assert "Traceback" not in ambiguous.stderr


# Random, as an operator makes one: the check must not refuse what it recommends.
STRONG_KEY = "kq3V9x_Rw2mZt8LpYc4NbH7dFs6JgA1eUo5Ti0Wy"


def test_production_refuses_to_serve_with_a_weak_secret_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DERMIFI_SECRET_KEY", raising=False)  # unset means the default key
    env = {"DERMIFI_ENV": "production", "DERMIFI_DATA_DIR": str(tmp_path),
           "DERMIFI_DATABASE_URL": f"sqlite:///{tmp_path / 'never.sqlite3'}"}
    short_key = "too-short-0123456789"

    def serve(extra: dict[str, str]) -> subprocess.CompletedProcess[str] | None:
        try:
            return dermifi("serve", "--port", str(free_port()), env={**env, **extra},
                           check=False, timeout=30)
        except subprocess.TimeoutExpired:
            return None  # it served

    weak = {
        "default key": {},
        "short key": {"DERMIFI_SECRET_KEY": short_key},
        "one repeated character": {"DERMIFI_SECRET_KEY": "a" * 40},
        "spaces": {"DERMIFI_SECRET_KEY": " " * 40},
        "a repeated sequence": {"DERMIFI_SECRET_KEY": "0123456789abcdef" * 3},
        "bench routes": {"DERMIFI_SECRET_KEY": STRONG_KEY, "DERMIFI_ENABLE_BENCH_ROUTES": "1"},
    }
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(serve, weak.values()))
    for name, result in zip(weak, results, strict=True):
        assert result is not None, f"dermifi serve started in production with the {name}"
        assert result.returncode != 0, name
        expected = "DERMIFI_ENABLE_BENCH_ROUTES" if "bench" in name else "DERMIFI_SECRET_KEY"
        assert expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
        output = result.stdout + result.stderr
        # The refusal names the setting, never the secret itself.
        assert short_key not in output
        assert STRONG_KEY not in output
        assert DEFAULT_SECRET_KEY not in output
    assert not (tmp_path / "never.sqlite3").exists()


def test_pharmacy_create(server_env: dict[str, str], e2e_backend: Backend) -> None:
    args = ("pharmacy", "create", "--name", "Bayview Community Pharmacy", "--ncpdp-id",
            "1234563", "--npi", "1987654328", "--street", "123 Market St", "--city",
            "San Francisco", "--state", "CA", "--zip-code", "94105", "--phone",
            "415-555-0140", "--fax", "415-555-0141")
    created = dermifi(*args, env=server_env)
    pharmacy = json.loads(created.stdout)
    assert pharmacy["id"].startswith("pharm_")
    assert pharmacy["ncpdpId"] == "1234563"
    assert pharmacy["phone"] == "+1 (415) 555-0140"
    assert pharmacy["gateway"] == "loopback"

    again, bad_check = run_all(
        args,
        ("pharmacy", "create", "--name", "X", "--ncpdp-id", "1234567", "--npi", "1234567893",
         "--street", "1 A St", "--city", "Fresno", "--state", "CA", "--zip-code", "93721",
         "--phone", "415-555-0142", "--fax", "415-555-0143"),
        env=server_env)
    assert again.returncode == 1
    assert "already in the directory" in again.stderr
    assert bad_check.returncode == 1
    assert "ncpdpId: Not a valid NCPDP ID (check digit)" in bad_check.stderr
