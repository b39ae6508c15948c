"""Fixtures: every database test runs on SQLite and PostgreSQL, against migrated schemas."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import redis
from fastapi import FastAPI
from sqlalchemy import text

from dermifi.auth.permissions import Role
from dermifi.core.clock import FrozenClock
from dermifi.core.config import Settings
from dermifi.core.state import AppState
from dermifi.main import create_app
from dermifi.migrate import upgrade
from dermifi.models import Base
from dermifi.practices.models import Practice
from tests.factories.practices import make_practice
from tests.factories.users import RoleClient, login_client, make_user
from tests.object_store import s3_bucket, s3_server  # noqa: F401 - fixtures for every folder
from tests.support import (
    REDIS_URL,
    Backend,
    create_postgres_database,
    create_sqlite_database,
    drop_postgres_database,
    test_settings,
)

TEST_CLIENT_ADDRESS = "203.0.113.10"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Backend]:
    """A database built by running the migrations from empty, once per backend."""
    data_dir = tmp_path_factory.mktemp(f"db-{request.param}")
    if request.param == "sqlite":
        db = create_sqlite_database(data_dir)
    else:
        db = create_postgres_database()
    upgrade(test_settings(db, data_dir))
    yield db
    if db.name == "postgresql":
        drop_postgres_database(db)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module (or parametrize) to change the app's settings."""
    return {}


@pytest.fixture
def settings(backend: Backend, data_dir: Path, settings_overrides: dict[str, Any]) -> Settings:
    return test_settings(backend, data_dir, **settings_overrides)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


async def _empty_all_tables(state: AppState) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with state.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        else:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))


@pytest_asyncio.fixture
async def app(settings: Settings, clock: FrozenClock) -> AsyncIterator[FastAPI]:
    app = create_app(settings, clock=clock)
    state: AppState = app.state.dermifi
    await _empty_all_tables(state)
    yield app
    await _empty_all_tables(state)
    await state.engine.dispose()
    if state.redis is not None:
        await state.redis.aclose()


@pytest.fixture
def state(app: FastAPI) -> AppState:
    result: AppState = app.state.dermifi
    return result


def make_client(app: FastAPI, address: str = TEST_CLIENT_ADDRESS, **headers: str
                ) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


@pytest_asyncio.fixture
async def anon_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as client:
        yield client


@pytest_asyncio.fixture
async def practice(state: AppState) -> Practice:
    return await make_practice(state, name="Bayview Dermatology")


ClientFactory = Callable[..., Awaitable[RoleClient]]


@pytest_asyncio.fixture
async def client_for(app: FastAPI, state: AppState, practice: Practice
                     ) -> AsyncIterator[ClientFactory]:
    """``await client_for("nurse")``: a logged-in client of a new user with that role."""
    opened: list[RoleClient] = []

    async def factory(role: Role | str, *, practice_id: str | None = None, mfa: bool = False,
                      **user_fields: Any) -> RoleClient:
        created = await make_user(state, practice_id=practice_id or practice.id,
                                  role=Role(role), mfa=mfa, **user_fields)
        client = await login_client(app, state, created)
        opened.append(client)
        return client

    yield factory
    for client in opened:
        await client.aclose()


@pytest_asyncio.fixture
async def admin_client(client_for: ClientFactory) -> RoleClient:
    return await client_for(Role.ADMIN)


@pytest_asyncio.fixture
async def provider_client(client_for: ClientFactory) -> RoleClient:
    return await client_for(Role.PROVIDER)


@pytest_asyncio.fixture
async def nurse_client(client_for: ClientFactory) -> RoleClient:
    return await client_for(Role.NURSE)


@pytest_asyncio.fixture
async def front_desk_client(client_for: ClientFactory) -> RoleClient:
    return await client_for(Role.FRONT_DESK)


@pytest_asyncio.fixture
async def pharmacy_client(client_for: ClientFactory) -> RoleClient:
    return await client_for(Role.PHARMACY)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """Real Redis, emptied before and after. Unreachable Redis fails the test."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is required and unreachable at {REDIS_URL}: {exc}", pytrace=False)
    yield REDIS_URL
    client.flushdb()
    client.close()
