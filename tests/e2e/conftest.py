"""E2E fixtures: a fresh database per test, migrated by the real command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import dermifi
from tests.support import (
    TEST_SECRET_KEY,
    Backend,
    create_postgres_database,
    create_sqlite_database,
    drop_postgres_database,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def e2e_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    db = (create_sqlite_database(tmp_path) if request.param == "sqlite"
          else create_postgres_database())
    yield db
    if db.name == "postgresql":
        drop_postgres_database(db)


@pytest.fixture
def server_env(e2e_backend: Backend, tmp_path: Path) -> dict[str, str]:
    """Environment for ``dermifi`` processes: a migrated empty database, cheap argon2."""
    env = {
        "DERMIFI_DATABASE_URL": e2e_backend.url,
        "DERMIFI_DATA_DIR": str(tmp_path / "data"),
        "DERMIFI_SECRET_KEY": TEST_SECRET_KEY,
        "DERMIFI_ENV": "development",
        "DERMIFI_ARGON2_TIME_COST": "1",
        "DERMIFI_ARGON2_MEMORY_KIB": "1024",
        "DERMIFI_LOG_LEVEL": "INFO",
    }
    dermifi("migrate", env=env)
    return env
