"""Migrations run from empty on both backends, match the models, and reverse cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from dermifi.core.db import create_engine
from dermifi.migrate import downgrade, upgrade
from dermifi.migrations.env_filters import include_object
from dermifi.models import Base
from tests.support import (
    Backend,
    create_postgres_database,
    create_sqlite_database,
    drop_postgres_database,
    test_settings,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    db = (create_sqlite_database(tmp_path) if request.param == "sqlite"
          else create_postgres_database())
    yield db
    if db.name == "postgresql":
        drop_postgres_database(db)


def _inspect(url: str) -> tuple[set[str], list[object]]:
    def work(conn: Connection) -> tuple[set[str], list[object]]:
        tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(context, Base.metadata)
        return tables, diff

    async def main() -> tuple[set[str], list[object]]:
        engine = create_engine(url)
        async with engine.connect() as conn:
            result = await conn.run_sync(work)
        await engine.dispose()
        return result

    return asyncio.run(main())


def test_upgrade_matches_models_and_downgrade_reverses(empty_database: Backend,
                                                       tmp_path: Path) -> None:
    settings = test_settings(empty_database, tmp_path)
    upgrade(settings)
    tables, diff = _inspect(settings.async_database_url)
    assert tables == set(Base.metadata.tables)
    assert diff == [], f"models and migrations differ: {diff}"
    downgrade(settings)
    tables, _ = _inspect(settings.async_database_url)
    assert tables == set()
    upgrade(settings)
    tables, diff = _inspect(settings.async_database_url)
    assert tables == set(Base.metadata.tables)
    assert diff == []
