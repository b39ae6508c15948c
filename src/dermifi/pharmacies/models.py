from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dermifi.core.db import Audited, Base, PortableJSON


class Pharmacy(Audited, Base):
    """A pharmacy of the shared directory: one entry per NCPDP ID for every practice of the
    deployment (contract: Practices). Not practice-owned, so not scoped by the session; the
    practice that added it is kept, since only that practice's admins may change it."""

    __tablename__ = "pharmacy"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), index=True)  # lower-cased, for search
    ncpdp_id: Mapped[str] = mapped_column(String(7), unique=True)
    npi: Mapped[str] = mapped_column(String(10))
    address: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    zip_code: Mapped[str] = mapped_column(String(10), index=True)  # the address's, to filter
    phone: Mapped[str] = mapped_column(String(40))
    fax: Mapped[str] = mapped_column(String(40))
    # How prescriptions reach it: "loopback" is the built-in network. Endpoints and secrets
    # of real gateways are the deployment operator's, set on the command line only.
    gateway: Mapped[str] = mapped_column(String(20), default="loopback")
    # None: added by the operator on the command line (no practice may change it).
    added_by_practice_id: Mapped[str | None] = mapped_column(ForeignKey("practice.id"))


def name_key(name: str) -> str:
    return name.lower()
