"""Engines, sessions, the unit of work, portable column types and practice scoping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    event,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import TypeDecorator, TypeEngine

from dermifi.core.errors import Conflict
from dermifi.core.money import CENT, exact_cents

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on both backends (SQLite stores naive text, PostgreSQL timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use the clock")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class MoneyColumn(TypeDecorator[Decimal]):
    """Exact money on both backends: ``NUMERIC(12, 2)`` on PostgreSQL; whole cents in an
    INTEGER on SQLite, whose NUMERIC is a binary float (0.1 + 0.2 would not be 0.30). SQL
    sums of the column come back through this type, so ``func.sum`` is exact on both."""

    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(12, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | int | None:
        if value is None:
            return None
        cents = exact_cents(value)
        return int(cents * 100) if dialect.name == "sqlite" else cents

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(CENT)
        return Decimal(value).quantize(CENT)


PortableJSON = JSON().with_variant(JSONB(), "postgresql")


class Audited:
    """Who made a row and who changed it last, and the version ``If-Match`` compares (the ORM
    refuses a write whose version moved underneath it)."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]

    def stamp_created(self, actor_id: str, at: datetime) -> None:
        self.created_at = self.updated_at = at
        self.created_by = actor_id
        self.updated_by = actor_id

    def stamp_updated(self, actor_id: str, at: datetime) -> None:
        self.updated_at = at
        self.updated_by = actor_id


# --- engines -------------------------------------------------------------------------------

def _sqlite_connect(dbapi_connection: Any, _: Any) -> None:
    # Let SQLAlchemy's "begin" event below decide how transactions start.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A write unit takes the write lock up front: a deferred transaction that read a snapshot
    # and then writes fails with SQLITE_BUSY when another writer got in between.
    if conn.get_execution_options().get("sqlite_immediate"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


@dataclass(frozen=True)
class DatabaseTimeouts:
    connect: float = 3.0  # opening a connection
    pool: float = 3.0  # waiting for a pooled connection
    # One statement (client side; PostgreSQL's statement_timeout too). None: no limit, for
    # migrations and bulk loads, whose statements legitimately run for minutes.
    statement: float | None = 10.0


UNBOUNDED_STATEMENTS = DatabaseTimeouts(statement=None)


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10,
                  timeouts: DatabaseTimeouts | None = None) -> AsyncEngine:
    timeouts = timeouts or DatabaseTimeouts()
    connect_args: dict[str, Any] = {"timeout": timeouts.connect}
    if timeouts.statement is not None:
        # Client side, so a frozen server (no answer at all) still ends the wait...
        connect_args["command_timeout"] = timeouts.statement
        # ...and server side, so a slow statement stops using the server too.
        connect_args["server_settings"] = {
            "statement_timeout": str(int(timeouts.statement * 1000))}
    if url.startswith("sqlite"):
        # SQLite has no server to lose; its timeout is how long a writer waits for the lock.
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30},
                                     hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    # hide_parameters: bound values (names, dates of birth) never reach logs or tracebacks.
    engine = create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size,
        pool_timeout=timeouts.pool, pool_recycle=POOL_RECYCLE_SECONDS, hide_parameters=True,
        connect_args=connect_args,
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    return engine


# Older pooled connections are replaced: a proxy or firewall that drops idle connections
# silently (no FIN reaches us) would otherwise fail the first request that picks one up.
POOL_RECYCLE_SECONDS = 1800


def _refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Hand out no connection the server has closed (a restart, a terminated backend).

    Instead of ``pool_pre_ping``, whose ping is three round trips on asyncpg (BEGIN, a
    statement, ROLLBACK) on every checkout, about a millisecond of CPU per request: the
    driver learns of a closed socket as soon as the server closes it, so asking it costs
    nothing. The pool answers a DisconnectionError by opening a fresh connection. A connection
    that died without a word fails its first statement instead; that request answers 503 and
    SQLAlchemy invalidates the whole pool, so the next request connects afresh."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the database closed this connection")


def single_statement_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, for reads that are one statement each: on PostgreSQL each statement
    commits on its own (autocommit), so such a read costs its own round trip and no BEGIN or
    ROLLBACK around it. Under READ COMMITTED a transaction would give one statement nothing
    more. SQLite keeps its transactions: they cost no round trip there."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


# --- the unit of work ----------------------------------------------------------------------

_DEPTH = "uow_depth"


@asynccontextmanager
async def unit_of_work(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """One change, one transaction: commit at the outermost level, roll back on any error.

    Nested calls join the outer unit. A unique-constraint violation becomes ``CONFLICT``.
    """
    depth = session.info.get(_DEPTH, 0)
    if depth == 0 and session.bind is not None and session.bind.dialect.name == "sqlite":
        # End any read transaction (nothing is pending) so the write one begins IMMEDIATE.
        if session.in_transaction():
            await session.commit()
        await session.connection(execution_options={"sqlite_immediate": True})
    session.info[_DEPTH] = depth + 1
    try:
        yield session
        if depth == 0:
            await session.commit()
    except IntegrityError as exc:
        if depth == 0:
            await session.rollback()
        raise Conflict("The change conflicts with existing data") from exc
    except StaleDataError as exc:
        # Someone else changed the row between our read and our write (version column).
        if depth == 0:
            await session.rollback()
        raise Conflict("The resource was changed by another request; read it again") from exc
    except BaseException:
        if depth == 0:
            await session.rollback()
        raise
    finally:
        session.info[_DEPTH] = depth


# --- practice scoping ----------------------------------------------------------------------

PRACTICE_KEY = "practice_id"


class PracticeOwned:
    """Mixin for tables owned by one practice. Queries are scoped in one place (below)."""

    practice_id: Mapped[str] = mapped_column(ForeignKey("practice.id"), index=True)


def scope_to_practice(session: AsyncSession, practice_id: str) -> None:
    """From now on every ORM query in this session sees only this practice's rows."""
    session.info[PRACTICE_KEY] = practice_id


@event.listens_for(Session, "do_orm_execute")
def _scope_orm_queries(state: ORMExecuteState) -> None:
    practice_id = state.session.info.get(PRACTICE_KEY)
    if practice_id is None or state.execution_options.get("all_practices", False):
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(
                PracticeOwned,
                lambda cls: cls.practice_id == practice_id,
                include_aliases=True,
            )
        )


@event.listens_for(Session, "before_flush")
def _stamp_practice(session: Session, _ctx: Any, _instances: Any) -> None:
    practice_id = session.info.get(PRACTICE_KEY)
    if practice_id is None:
        return
    for obj in session.new:
        if isinstance(obj, PracticeOwned):
            if obj.practice_id is None:
                obj.practice_id = practice_id
            elif obj.practice_id != practice_id:
                raise PermissionError("refusing to write a row of another practice")
