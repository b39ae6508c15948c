"""Test configuration shared by in-process tests and e2e tests: which real services to use."""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from dermifi.core.config import Settings

POSTGRES_URL = os.environ.get("DERMIFI_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")


def _redis_url_of_this_worker(base: str) -> str:
    """Tests empty their Redis database: under pytest-xdist each worker gets its own, counting
    down from the configured one (gw0 -> /15, gw1 -> /14, ...)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return base
    parts = urlsplit(base)
    database = int(parts.path.lstrip("/") or 0) - int(worker[2:])
    if database < 0:
        raise RuntimeError(f"no Redis database left for xdist worker {worker} below {base}")
    return urlunsplit(parts._replace(path=f"/{database}"))


REDIS_URL = _redis_url_of_this_worker(
    os.environ.get("DERMIFI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
TEST_SECRET_KEY = "test-only-secret-key-0123456789abcdef0123456789"
TEST_PASSWORD = "saffron-lantern-quietly-47"


@dataclass(frozen=True)
class Backend:
    name: str
    url: str  # a plain URL, as an operator would write it in DERMIFI_DATABASE_URL


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


async def _postgres_admin(sql: str) -> None:
    dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_postgres_database() -> Backend:
    """A fresh, empty database on the test PostgreSQL. Unreachable PostgreSQL fails the run."""
    name = f"dermifi_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL is required for the test suite and is unreachable at "
                    f"{POSTGRES_URL}: {exc}", pytrace=False)
    return Backend("postgresql", _with_database(POSTGRES_URL, name))


def drop_postgres_database(backend: Backend) -> None:
    name = urlsplit(backend.url).path.lstrip("/")
    asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def create_sqlite_database(directory: Path) -> Backend:
    return Backend("sqlite", f"sqlite:///{directory / 'dermifi.sqlite3'}")


def test_settings(backend: Backend, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test app: real database, cheap argon2 (the cost is a deployment knob),
    limits high enough that only the tests about limits ever meet them."""
    values: dict[str, Any] = {
        "env": "test",
        "database_url": backend.url,
        "data_dir": data_dir,
        "secret_key": TEST_SECRET_KEY,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "argon2_parallelism": 1,
        "rate_limit": "100000/hour",
        "login_rate_limit": "100000/minute",
        "redis_url": None,
        "ip_allowlist": [],
        "trusted_proxies": [],
    }
    values.update(overrides)
    return Settings(**values)


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test
