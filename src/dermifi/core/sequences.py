"""Human-readable numbers (P-2024-0124, ORD-2024-0234, RX-2024-000567): sequential per
practice and year, with no gaps and no duplicates, because the counter moves inside the
transaction that uses the number (a rollback gives the number back)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from dermifi.core.db import Base, PracticeOwned


class NumberSequence(PracticeOwned, Base):
    __tablename__ = "number_sequence"

    practice_id: Mapped[str] = mapped_column(ForeignKey("practice.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


async def next_number(session: AsyncSession, *, practice_id: str, name: str, year: int) -> int:
    """The next number of ``name`` for the practice and year. Call inside a unit of work."""
    key = (NumberSequence.name == name, NumberSequence.year == year,
           NumberSequence.practice_id == practice_id)
    # UPDATE takes the row lock (PostgreSQL) or runs under the write lock (SQLite), so
    # concurrent callers queue here and each sees the value its predecessor committed.
    bumped = await session.execute(
        update(NumberSequence).where(*key)
        .values(last_value=NumberSequence.last_value + 1)
        .returning(NumberSequence.last_value)
        .execution_options(synchronize_session=False)
    )
    value = bumped.scalar_one_or_none()
    if value is not None:
        return int(value)
    # First number of the year: create the counter. A concurrent creator makes one of us fail
    # on the primary key; inside a savepoint, so the caller can retry the bump.
    try:
        async with session.begin_nested():
            session.add(NumberSequence(practice_id=practice_id, name=name, year=year,
                                       last_value=1))
            await session.flush()
        return 1
    except IntegrityError:
        existing = await session.scalar(select(NumberSequence.last_value).where(*key))
        if existing is None:
            raise
        return await next_number(session, practice_id=practice_id, name=name, year=year)
