"""The one repository base: a domain's queries of its own tables start here.

A repository reads one model, its aggregate's root. What a caller may see of it is one
statement, ``readable(actor)``, that every caller-facing get and list starts from, so a rule
such as "confidential notes are for providers" or "a pharmacy sees what was sent to it" is
written once. The order of refusals is the same everywhere: the service's policy checks the
role first (``403 FORBIDDEN`` when the role may not do this at all); a row ``readable`` leaves
out is then ``404 NOT_FOUND``, exactly like an id that does not exist; and a list filtered by
an id the caller cannot see is an empty list.

Practice scoping is not here: the session applies it to every query (``core.db``). Core knows
no domain, so the caller's type is a parameter (``A``): the domains bind it to ``Actor``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.core.concurrency import check_if_match
from dermifi.core.db import Base
from dermifi.core.errors import NotFound
from dermifi.core.pagination import PageRequest, Pagination, paginate

M = TypeVar("M", bound=Base)
A = TypeVar("A")

# "update": FOR UPDATE, the row is about to change. "share": FOR SHARE, the row must not
# change (a booking reads its provider) while other readers go on. SQLite ignores both: it
# serializes writers with the write unit's BEGIN IMMEDIATE.
Lock = Literal["update", "share"]


class Versioned(Protocol):
    version: int


V = TypeVar("V", bound=Versioned)


class Repository(Generic[M, A]):
    model: ClassVar[type[Any]]
    not_found: ClassVar[str] = "Not found"

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def readable(self, actor: A) -> Select[M]:
        """The rows ``actor`` may see. By default every row of the practice: a repository whose
        rows are not all for everyone with the read permission overrides this."""
        return select(self.model)

    @classmethod
    def _id_column(cls) -> ColumnElement[str]:
        (column,) = inspect(cls.model).primary_key
        id_column: ColumnElement[str] = column
        return id_column

    def _one(self, stmt: Select[M], row_id: str, lock: Lock | None) -> Select[M]:
        stmt = stmt.where(self._id_column() == row_id)
        if lock == "update":
            stmt = stmt.with_for_update()
        elif lock == "share":
            stmt = stmt.with_for_update(read=True)
        return stmt

    async def get(self, row_id: str, *, lock: Lock | None = None) -> M | None:
        """Any row of the practice by id: for the domain's own rules and the references other
        domains check through its service, never to answer a caller (``find_readable``)."""
        row: M | None = (await self.session.scalars(
            self._one(select(self.model), row_id, lock))).one_or_none()
        return row

    async def find_readable(self, actor: A, row_id: str, *, lock: Lock | None = None
                            ) -> M | None:
        row: M | None = (await self.session.scalars(
            self._one(self.readable(actor), row_id, lock))).one_or_none()
        return row

    async def get_readable(self, actor: A, row_id: str, *, lock: Lock | None = None) -> M:
        """The row, if ``actor`` may see it; else NOT_FOUND. Check the role's permission
        before calling this (FORBIDDEN comes first)."""
        row = await self.find_readable(actor, row_id, lock=lock)
        if row is None:
            raise NotFound(self.not_found)
        return row

    async def get_many(self, ids: Sequence[str]) -> list[M]:
        """Rows of the practice by id, in the order of ``ids`` (ids of no row are left out):
        for references (the locations a list of appointments names)."""
        return await self._in_order(select(self.model), ids)

    async def get_many_readable(self, actor: A, ids: Sequence[str]) -> list[M]:
        """The rows of ``ids`` that ``actor`` may see, in the order of ``ids``."""
        return await self._in_order(self.readable(actor), ids)

    async def _in_order(self, stmt: Select[M], ids: Sequence[str]) -> list[M]:
        if not ids:
            return []
        id_column = self._id_column()
        rows = (await self.session.execute(
            stmt.add_columns(id_column).where(id_column.in_(ids)))).all()
        found = {row_id: row for row, row_id in rows}
        return [found[i] for i in ids if i in found]

    async def lock_for_change(self, row: V, if_match: str | None) -> V:
        """The row, re-read under its row lock, after the ``If-Match`` check: the version
        compared is the one this change replaces, and no other change can land in between (the
        version column still refuses one that bypassed the lock). Call inside a unit of work."""
        await self.session.refresh(row, with_for_update=True)
        check_if_match(if_match, row.version)
        return row

    async def page(self, stmt: Select[Any], request: PageRequest, *, total: int | None = None,
                   total_in_rows: bool = False) -> tuple[Sequence[Any], Pagination]:
        """One page of ``stmt`` (built from ``readable`` for a caller's list)."""
        return await paginate(self.session, stmt, request, total=total,
                              total_in_rows=total_in_rows)
