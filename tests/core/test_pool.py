"""The pool hands out no connection the server has closed, without a ping per checkout
(core.db._refuse_closed_connection), and authentication reads without a transaction."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from dermifi.core.config import Settings
from dermifi.core.db import create_engine, single_statement_engine
from tests.factories.users import RoleClient
from tests.support import Backend

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


async def _terminate(url: str, pid: int) -> None:
    parts = make_url(url)
    admin = await asyncpg.connect(host=parts.host, port=parts.port, user=parts.username,
                                  database=parts.database)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_a_connection_the_server_closed_is_replaced_at_checkout(
    backend: Backend, settings: Settings,
) -> None:
    # One pooled connection, so the next checkout can only be that one or a new one.
    engine = create_engine(settings.async_database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            first_pid = await connection.scalar(text("SELECT pg_backend_pid()"))
        await _terminate(backend.url, first_pid)
        # The server's goodbye reaches the driver through the event loop, within moments.
        await asyncio.sleep(0.3)
        async with engine.connect() as connection:
            second_pid = await connection.scalar(text("SELECT pg_backend_pid()"))
        assert second_pid != first_pid
    finally:
        await engine.dispose()


async def test_single_statements_run_outside_a_transaction(settings: Settings) -> None:
    engine = create_engine(settings.async_database_url, pool_size=1)
    try:
        async with single_statement_engine(engine).connect() as connection:
            # Two statements, two transactions: each committed on its own.
            first = await connection.scalar(text("SELECT txid_current()"))
            second = await connection.scalar(text("SELECT txid_current()"))
        assert first != second
        async with engine.connect() as connection:
            first = await connection.scalar(text("SELECT txid_current()"))
            second = await connection.scalar(text("SELECT txid_current()"))
        assert first == second  # the ordinary engine's connection still has transactions
    finally:
        await engine.dispose()


async def test_a_request_after_the_server_closed_every_connection_is_served(
    backend: Backend, front_desk_client: RoleClient,
) -> None:
    """A PostgreSQL restart closes every pooled connection; the next request must not be the
    one that finds out (a 503)."""
    assert (await front_desk_client.get("/v1/patients")).status_code == 200
    parts = make_url(backend.url)
    admin = await asyncpg.connect(host=parts.host, port=parts.port, user=parts.username,
                                  database=parts.database)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    finally:
        await admin.close()
    await asyncio.sleep(0.2)
    answer = await front_desk_client.get("/v1/patients")
    assert answer.status_code == 200, answer.text
