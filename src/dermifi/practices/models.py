from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from dermifi.core.db import Base, PortableJSON, UTCDateTime


class Practice(Base):
    """A clinic. Every practice-owned row points here; nothing crosses between practices."""

    __tablename__ = "practice"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # CIDR ranges allowed to call the API as this practice's users; empty means no restriction.
    ip_allowlist: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
