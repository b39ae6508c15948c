"""The one pagination helper: ``page``/``limit`` parameters, the document's pagination object."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.core.schemas import ApiModel

T = TypeVar("T")
MAX_LIMIT = 100


@dataclass(frozen=True)
class PageRequest:
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


async def _page_request(  # async: a plain def dependency runs in a worker thread
    page: Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1")] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page (max 100)")] = 20,
) -> PageRequest:
    return PageRequest(page=page, limit=limit)


PageParams = Annotated[PageRequest, Depends(_page_request)]


class Pagination(ApiModel):
    page: int
    limit: int
    total: int
    total_pages: int
    has_next: bool
    has_previous: bool

    @classmethod
    def build(cls, request: PageRequest, total: int) -> Pagination:
        pages = math.ceil(total / request.limit) if total else 0
        return cls(
            page=request.page, limit=request.limit, total=total, total_pages=pages,
            has_next=request.page < pages, has_previous=request.page > 1,
        )


class Page(ApiModel, Generic[T]):
    data: list[T]
    pagination: Pagination


async def paginate(
    session: AsyncSession, stmt: Select[Any], request: PageRequest, *,
    total: int | None = None, total_in_rows: bool = False,
) -> tuple[Sequence[Any], Pagination]:
    """Run ``stmt`` for one page; the rows are its first column. The statement must already
    carry a total order (ties by id).

    The total is counted with a second query unless it is known another way:
    ``total``, the number of rows ``stmt`` selects, kept by the caller (a maintained counter);
    ``total_in_rows``, ``stmt``'s last column holds that number on every row (a count over
    the same materialized set the page is taken from, so one scan answers both)."""
    page = stmt.limit(request.limit).offset(request.offset)
    if total_in_rows:
        result = (await session.execute(page)).all()
        rows: Sequence[Any] = [row[0] for row in result]
        if result and total is None:
            total = int(result[0][-1])
    else:
        rows = (await session.scalars(page)).all()
    if total is None:
        if len(rows) < request.limit and (rows or request.offset == 0):
            # A short page is the last one: the rows before it and on it are all there are.
            total = request.offset + len(rows)
        else:
            total = int(await session.scalar(
                select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)
    return rows, Pagination.build(request, total)
