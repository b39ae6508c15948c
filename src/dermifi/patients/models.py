from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from dermifi.core.db import Audited, Base, PortableJSON, PracticeOwned, UTCDateTime

ACTIVE = "active"


class Patient(Audited, PracticeOwned, Base):
    __tablename__ = "patient"
    __table_args__ = (
        UniqueConstraint("practice_id", "patient_number"),
        # Email unique among active patients (an inactive chart keeps its email).
        Index("uq_patient_practice_id_email_key", "practice_id", "email_key", unique=True,
              postgresql_where=text("status = 'active' AND email_key IS NOT NULL"),
              sqlite_where=text("status = 'active' AND email_key IS NOT NULL")),
        # The same person registered twice: same names and date of birth, both active.
        Index("uq_patient_practice_id_identity_key", "practice_id", "identity_key", unique=True,
              postgresql_where=text("status = 'active'"),
              sqlite_where=text("status = 'active'")),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_number: Mapped[str] = mapped_column(String(20))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    email_key: Mapped[str | None] = mapped_column(String(254))  # lower-cased
    phone: Mapped[str | None] = mapped_column(String(40))  # as displayed: +1 (415) 555-0132
    phone_digits: Mapped[str | None] = mapped_column(String(20))  # for search by digits
    date_of_birth: Mapped[date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(10))
    identity_key: Mapped[str] = mapped_column(String(240))
    address: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    emergency_contact: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    insurance: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    allergies: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    medications: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    conditions: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    consent_to_treat: Mapped[bool] = mapped_column(Boolean)
    hipaa_consent: Mapped[bool] = mapped_column(Boolean)
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default=ACTIVE)
    primary_provider_id: Mapped[str | None] = mapped_column(String(40))
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivated_by: Mapped[str | None] = mapped_column(String(40))
    deactivation_reason: Mapped[str | None] = mapped_column(String(40))
    deactivation_notes: Mapped[str | None] = mapped_column(String(2000))
    data_retention_date: Mapped[datetime | None] = mapped_column(UTCDateTime)



# Lists and searches read the next two tables, never the wide patient rows: an exact total
# over a million charts must count narrow rows (or read one counter), not recheck JSON-laden
# ones. Both are derived from ``patient`` in the flush that writes it (patients/projection.py).

class PatientSearch(PracticeOwned, Base):
    """One narrow row per patient: what search matches on and what lists sort by."""

    __tablename__ = "patient_search"
    __table_args__ = (
        Index("ix_patient_search_practice_id_last_name_id", "practice_id", "last_name", "id"),
        Index("ix_patient_search_practice_id_first_name_id", "practice_id", "first_name", "id"),
        Index("ix_patient_search_practice_id_created_at_id", "practice_id", "created_at", "id"),
        # With the status after the practice, a status filter stays an ordered index scan.
        Index("ix_patient_search_practice_id_status_last_name_id", "practice_id", "status",
              "last_name", "id"),
        Index("ix_patient_search_practice_id_status_first_name_id", "practice_id", "status",
              "first_name", "id"),
        Index("ix_patient_search_practice_id_status_created_at_id", "practice_id", "status",
              "created_at", "id"),
    )

    # Patients are never erased (deactivation only); the key makes an erase fail loudly
    # instead of leaving a search row and a count behind.
    id: Mapped[str] = mapped_column(ForeignKey("patient.id"), primary_key=True)
    # Every index here leads with the practice; the mixin's own index would only cost writes.
    practice_id: Mapped[str] = mapped_column(ForeignKey("practice.id"))
    status: Mapped[str] = mapped_column(String(10))
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # lower(first_name || ' ' || last_name || ' ' || email_key): a search word never holds a
    # space, so it matches this text exactly when it matches one of the three parts.
    terms: Mapped[str] = mapped_column(String(460))
    phone_digits: Mapped[str | None] = mapped_column(String(20))


class PatientCount(PracticeOwned, Base):
    """Patients per practice and status, moved in the transaction that creates a patient or
    changes its status: the total of an unfiltered or status-only list is one row read."""

    __tablename__ = "patient_count"

    practice_id: Mapped[str] = mapped_column(ForeignKey("practice.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(10), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
