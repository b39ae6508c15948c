from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dermifi.core.db import Base, PortableJSON, PracticeOwned, UTCDateTime


class Photo(PracticeOwned, Base):
    """A clinical photo of a patient. The bytes live in photo storage under two keys chosen
    at upload (unguessable, never reused); the row points at them once they are stored."""

    __tablename__ = "photo"
    __table_args__ = (
        # The chart's gallery: one patient's photos, newest taken first.
        Index("ix_photo_patient_id_taken_at", "patient_id", "taken_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"))
    type: Mapped[str] = mapped_column(String(40))
    body_part: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(2000))
    # What the client sent as `metadata` (dermoscopy, magnification, ...), keys as sent.
    client_metadata: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by: Mapped[str] = mapped_column(ForeignKey("user_account.id"))
    content_type: Mapped[str] = mapped_column(String(40))
    # The cleaned original (metadata stripped, same format as uploaded) and its thumbnail.
    storage_key: Mapped[str] = mapped_column(String(255))
    thumbnail_key: Mapped[str] = mapped_column(String(255))
    file_size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    thumbnail_size: Mapped[int] = mapped_column(Integer)
