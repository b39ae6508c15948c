from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dermifi.core.db import Base, PortableJSON, PracticeOwned, UTCDateTime


class AuditEvent(PracticeOwned, Base):
    """Who did what to which record, when and from where. Ids and field names only, no PHI."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_practice_id_occurred_at", "practice_id", "occurred_at", "id"),
        Index("ix_audit_event_patient_id_occurred_at", "patient_id", "occurred_at"),
        Index("ix_audit_event_actor_id_occurred_at", "actor_id", "occurred_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Indexed together with occurred_at above, the way the trail is read.
    practice_id: Mapped[str] = mapped_column(ForeignKey("practice.id"))
    actor_id: Mapped[str | None] = mapped_column(String(40))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16), default="success")
    resource_type: Mapped[str | None] = mapped_column(String(32))
    resource_id: Mapped[str | None] = mapped_column(String(40))
    patient_id: Mapped[str | None] = mapped_column(String(40))
    client_ip: Mapped[str | None] = mapped_column(String(45))
    request_id: Mapped[str | None] = mapped_column(String(128))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Field names changed, filters used, counts: never values that could be PHI.
    details: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
