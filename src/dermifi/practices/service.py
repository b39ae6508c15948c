from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.core.config import parse_networks
from dermifi.core.context import current_clock
from dermifi.core.db import unit_of_work
from dermifi.core.errors import NotFound, ValidationFailed
from dermifi.core.ids import new_id
from dermifi.practices.models import Practice


async def create_practice(session: AsyncSession, *, name: str,
                          ip_allowlist: Sequence[str] = ()) -> Practice:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed(details=[{"field": "name", "message": "1 to 200 characters"}])
    try:
        networks = parse_networks(list(ip_allowlist))
    except ValueError as exc:
        raise ValidationFailed(details=[{"field": "ipAllowlist",
                                         "message": "Not a CIDR range"}]) from exc
    async with unit_of_work(session):
        practice = Practice(id=new_id("prc"), name=name, ip_allowlist=networks,
                            created_at=current_clock().now())
        session.add(practice)
    return practice


async def list_practices(session: AsyncSession) -> Sequence[Practice]:
    stmt = select(Practice).order_by(Practice.created_at, Practice.id)
    return (await session.scalars(stmt)).all()


async def count_practices(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Practice)) or 0)


async def resolve_practice(session: AsyncSession, practice_id: str | None) -> Practice:
    """The named practice, or the only one when none is named."""
    if practice_id:
        practice = await session.get(Practice, practice_id)
        if practice is None:
            raise NotFound("No such practice")
        return practice
    practices = await list_practices(session)
    if len(practices) != 1:
        raise ValidationFailed(
            "Name the practice: there are several" if practices else "Create a practice first",
            details=[{"field": "practice", "message": "required when there is not exactly one"}],
        )
    return practices[0]


async def set_ip_allowlist(session: AsyncSession, practice: Practice,
                           cidrs: Sequence[str]) -> Practice:
    try:
        networks = parse_networks(list(cidrs))
    except ValueError as exc:
        raise ValidationFailed(details=[{"field": "ipAllowlist",
                                         "message": "Not a CIDR range"}]) from exc
    async with unit_of_work(session):
        practice.ip_allowlist = networks
    return practice


async def get_practice(session: AsyncSession, practice_id: str) -> Practice | None:
    return await session.get(Practice, practice_id)


def allowlist_of(practice_id: Any) -> Any:
    """The practice's IP allowlist, as a scalar subquery another statement can select (the
    practice named by a column of that statement, or by a value)."""
    return (select(Practice.ip_allowlist).where(Practice.id == practice_id)
            .scalar_subquery())
