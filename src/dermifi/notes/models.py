from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dermifi.core.db import Audited, Base, PortableJSON, PracticeOwned, UTCDateTime


class ClinicalNote(Audited, PracticeOwned, Base):
    __tablename__ = "clinical_note"
    __table_args__ = (Index("ix_clinical_note_patient_id_created_at", "patient_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"))
    type: Mapped[str] = mapped_column(String(40))
    visit_id: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    icd10_codes: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    cpt_codes: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    # The author, as a key: the note's signature names a person for as long as it exists.
    created_by: Mapped[str] = mapped_column(ForeignKey("user_account.id"))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_by: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)


class NoteAddendum(PracticeOwned, Base):
    """A correction or addition to a locked note; the note itself never changes."""

    __tablename__ = "note_addendum"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    note_id: Mapped[str] = mapped_column(ForeignKey("clinical_note.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(ForeignKey("user_account.id"))
