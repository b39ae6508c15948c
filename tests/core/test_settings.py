"""Settings that guard a deployment: production refuses weak secret keys and the bench routes;
development warns about the public placeholder key."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from pydantic import ValidationError

from dermifi.core.config import DEFAULT_SECRET_KEY, Settings, secret_key_problem
from dermifi.main import create_app


@pytest.mark.parametrize("key", [
    DEFAULT_SECRET_KEY, "short-key", "a" * 32, " " * 32, "x" * 200,
    "0123456789abcdef" * 2, "abcdefghijklmnopqrstuvwxyz012345", "password" * 5,
    "correcthorsebatterystaple" * 2,
])
def test_weak_keys_are_refused(key: str) -> None:
    assert secret_key_problem(key) is not None
    with pytest.raises(ValidationError) as refused:
        Settings(env="production", secret_key=key)
    assert "DERMIFI_SECRET_KEY" in str(refused.value)


def test_random_keys_as_the_readme_makes_them_are_accepted() -> None:
    # What an operator is told to run, and a plain random hex key of the minimum length.
    for _ in range(50):
        assert secret_key_problem(secrets.token_urlsafe(48)) is None
        assert secret_key_problem(secrets.token_hex(16)) is None


def test_bench_routes_are_refused_in_production() -> None:
    key = secrets.token_urlsafe(48)
    with pytest.raises(ValidationError, match="DERMIFI_ENABLE_BENCH_ROUTES"):
        Settings(env="production", secret_key=key, enable_bench_routes=True)
    assert Settings(env="production", secret_key=key).enable_bench_routes is False


def test_development_warns_about_the_placeholder_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # The app's own logging configuration writes to stderr (it replaces the root handlers).
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    create_app(Settings(env="development", database_url=database, data_dir=tmp_path))
    warned = [line for line in capsys.readouterr().err.splitlines() if "dermifi.startup" in line]
    assert len(warned) == 1
    assert "DERMIFI_SECRET_KEY" in warned[0]
    assert DEFAULT_SECRET_KEY not in warned[0]
    create_app(Settings(env="development", database_url=database, data_dir=tmp_path,
                        secret_key=secrets.token_urlsafe(48)))
    assert "dermifi.startup" not in capsys.readouterr().err
