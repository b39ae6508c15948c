from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dermifi.core.db import Audited, Base, PracticeOwned, UTCDateTime
from dermifi.core.state_machine import StatusChange

SCHEDULED = "scheduled"
CONFIRMED = "confirmed"
CHECKED_IN = "checked_in"
COMPLETED = "completed"
CANCELLED = "cancelled"
NO_SHOW = "no_show"
STATUSES = (SCHEDULED, CONFIRMED, CHECKED_IN, COMPLETED, CANCELLED, NO_SHOW)
# An appointment in one of these states no longer holds its time: the slot is free again.
RELEASED = (CANCELLED, NO_SHOW)
# Still ahead of the patient: may be confirmed, moved, cancelled.
UPCOMING = (SCHEDULED, CONFIRMED)

TYPES = ("consultation", "follow_up", "procedure", "biopsy", "mohs", "cosmetic", "telehealth")

# Written by hand in the migration, checked in the service first for a clear message; these
# names let a violation be told apart from any other integrity error.
PROVIDER_OVERLAP = "ex_appointment_provider_overlap"
PATIENT_OVERLAP = "ex_appointment_patient_overlap"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Appointment(Audited, PracticeOwned, Base):
    """A patient's visit with a provider at a location: a stretch of time stored as UTC
    instants; the location's time zone gives its wall-clock date and time.

    No two appointments that hold their time (not cancelled, not a no-show) overlap for one
    provider, or for one patient: on PostgreSQL an exclusion constraint, on SQLite triggers
    (written in the migration) refuse the second one whatever the application did."""

    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="duration"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("type", TYPES), name="type"),
        Index("ix_appointment_provider_id_starts_at", "provider_id", "starts_at"),
        Index("ix_appointment_patient_id_starts_at", "patient_id", "starts_at"),
        Index("ix_appointment_practice_id_starts_at_id", "practice_id", "starts_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"))
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"))
    location_id: Mapped[str] = mapped_column(ForeignKey("location.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(SmallInteger)
    type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=SCHEDULED)
    reason: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(String(2000))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(40))
    cancellation_reason: Mapped[str | None] = mapped_column(String(500))
    no_show_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def holds_time(self) -> bool:
        return self.status not in RELEASED


class AppointmentStatusChange(StatusChange, PracticeOwned, Base):
    """The appointment's status history: one row per change, written by its state machine."""

    __tablename__ = "appointment_status_change"
    __table_args__ = (
        CheckConstraint(_in("to_status", STATUSES), name="to_status"),
        UniqueConstraint("appointment_id", "version"),
    )

    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointment.id"))
