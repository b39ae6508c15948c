"""Sorting against an allow-list each domain declares; ties always broken by id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

SortOrder = Literal["asc", "desc"]


def apply_sort(
    stmt: Select[Any],
    *,
    sort_by: str,
    order: SortOrder,
    allowed: Mapping[str, InstrumentedAttribute[Any]],
    tiebreaker: InstrumentedAttribute[Any],
) -> Select[Any]:
    """Order by an allowed field, then by ``tiebreaker`` in the same direction, so pages
    never repeat or skip a row when many rows share a value."""
    column = allowed[sort_by]
    if order == "desc":
        return stmt.order_by(column.desc(), tiebreaker.desc())
    return stmt.order_by(column.asc(), tiebreaker.asc())
