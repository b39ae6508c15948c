from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dermifi.core.db import Base, PortableJSON, PracticeOwned, UTCDateTime


class Location(PracticeOwned, Base):
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


def code_key(code: str) -> str:
    return code.lower()
