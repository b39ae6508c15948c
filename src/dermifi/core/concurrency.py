"""Optimistic concurrency: ``ETag`` from a version column, ``If-Match`` checked in the service."""

from __future__ import annotations

from typing import Annotated, Protocol, TypeVar

from fastapi import Header
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.core.errors import PreconditionFailed, ValidationFailed


def etag(version: int) -> str:
    return f'"v{version}"'


IfMatchHeader = Annotated[
    str | None,
    Header(alias="If-Match", max_length=200, pattern=r"[^\s,]",  # not blank: one tag at least
           description="The ETag last read; the change is refused (412) if it is stale"),
]


def check_if_match(if_match: str | None, version: int) -> None:
    """No header: last write wins (the version still moves). A stale tag: PRECONDITION_FAILED."""
    if if_match is None:
        return
    tags = [t.strip() for t in if_match.split(",") if t.strip()]
    if not tags:
        raise ValidationFailed(details=[{"field": "If-Match", "message": "Empty header"}])
    if "*" in tags:
        return
    current = etag(version)
    if not any(t.removeprefix("W/") == current for t in tags):
        raise PreconditionFailed()


class Versioned(Protocol):
    version: int


V = TypeVar("V", bound=Versioned)


async def lock_for_change(session: AsyncSession, row: V, if_match: str | None) -> V:
    """The row, re-read under its row lock, after the ``If-Match`` check: the version
    compared is the one this change replaces, and no other change can land in between (the
    version column still refuses one that bypassed the lock). Call inside a unit of work."""
    await session.refresh(row, with_for_update=True)
    check_if_match(if_match, row.version)
    return row
