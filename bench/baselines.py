"""The baselines every target is a ratio of: bare FastAPI apps, measured in the same run.

They are served as ``dermifi serve`` serves the API (uvicorn, the same number of worker
processes, 127.0.0.1, the event loop and HTTP parser uvicorn picks, no access log, no server
header; see ``bench.server.baseline_command``), so that a ratio tells what the project's own
code costs, on this machine, at this moment:

- ``hello_app``: ``GET /`` answers a small JSON object. Framework and server, nothing else.
- ``one_row_app``: ``GET /patients/{id}`` reads one row of the bench's own ``patient`` table
  by primary key (asyncpg, one pool per worker process sized like the server's) and answers
  it as JSON. The least a database-backed read can cost.

The one-row app reads its database from ``BENCH_BASELINE_DATABASE_URL`` (the URL the server
got as ``DERMIFI_DATABASE_URL``). On SQLite it reads with aiosqlite instead: ratios there are
reported, but the targets are defined on PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request

DATABASE_URL_ENV = "BENCH_BASELINE_DATABASE_URL"
# What the server's SQLAlchemy pool keeps per process (DERMIFI_DB_POOL_SIZE's default).
POOL_SIZE = 10
ONE_ROW_SQL = ("SELECT id, first_name, last_name, date_of_birth FROM patient "
               "WHERE id = {placeholder}")

hello_app = FastAPI()


@hello_app.get("/")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


class _PostgresRows:
    def __init__(self, url: str) -> None:
        self.url = url
        self.pool: Any = None

    async def open(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.url, min_size=1, max_size=POOL_SIZE)

    async def one(self, patient_id: str) -> Any:
        return await self.pool.fetchrow(ONE_ROW_SQL.format(placeholder="$1"), patient_id)

    async def close(self) -> None:
        await self.pool.close()


class _SqliteRows:
    def __init__(self, path: str) -> None:
        self.path = path
        self.conn: Any = None

    async def open(self) -> None:
        import aiosqlite

        self.conn = await aiosqlite.connect(self.path)
        self.conn.row_factory = aiosqlite.Row

    async def one(self, patient_id: str) -> Any:
        async with self.conn.execute(ONE_ROW_SQL.format(placeholder="?"),
                                     (patient_id,)) as cursor:
            return await cursor.fetchone()

    async def close(self) -> None:
        await self.conn.close()


def _rows_for(url: str) -> _PostgresRows | _SqliteRows:
    if url.startswith("sqlite:///"):
        return _SqliteRows(url.removeprefix("sqlite:///"))
    # asyncpg takes postgresql:// only, without a SQLAlchemy driver suffix.
    scheme, rest = url.split("://", 1)
    if not scheme.startswith("postgres"):
        raise ValueError(f"{DATABASE_URL_ENV} must be sqlite:/// or postgresql://")
    return _PostgresRows(f"postgresql://{rest}")


@asynccontextmanager
async def _one_row_lifespan(app: FastAPI) -> AsyncIterator[None]:
    rows = _rows_for(os.environ[DATABASE_URL_ENV])
    await rows.open()
    app.state.rows = rows
    yield
    await rows.close()


one_row_app = FastAPI(lifespan=_one_row_lifespan)


@one_row_app.get("/ready")
async def ready(request: Request) -> dict[str, str]:
    """For the harness's start-up wait: the pool is open (the lifespan ran)."""
    return {"status": "ready" if request.app.state.rows else "starting"}


@one_row_app.get("/patients/{patient_id}")
async def one_row(patient_id: str, request: Request) -> dict[str, Any]:
    row = await request.app.state.rows.one(patient_id)
    if row is None:
        raise HTTPException(status_code=404)
    born = row["date_of_birth"]
    return {"id": row["id"], "firstName": row["first_name"], "lastName": row["last_name"],
            # asyncpg answers a date, SQLite the ISO text it stores.
            "dateOfBirth": born if isinstance(born, str) else born.isoformat()}
