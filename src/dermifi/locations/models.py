from __future__ import annotations

from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dermifi.core.db import Audited, Base, PortableJSON, PracticeOwned


class Location(Audited, PracticeOwned, Base):
    """A site of the practice. Providers work at locations; working hours are wall-clock times
    in the location's time zone."""

    __tablename__ = "location"
    __table_args__ = (
        # Codes are unique per practice whatever their case ("SF" and "sf" are one code).
        UniqueConstraint("practice_id", "code_key"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    code: Mapped[str] = mapped_column(String(40))  # as written: SF, Oakland, San Jose
    code_key: Mapped[str] = mapped_column(String(40))  # lower-cased, for lookups
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    phone: Mapped[str | None] = mapped_column(String(40))
    time_zone: Mapped[str] = mapped_column(String(64))  # IANA, e.g. America/Los_Angeles



def code_key(code: str) -> str:
    return code.lower()
