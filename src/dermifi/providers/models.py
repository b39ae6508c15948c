from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dermifi.core.db import Audited, Base, PortableJSON, PracticeOwned, UTCDateTime

if TYPE_CHECKING:
    from dermifi.locations.models import Location

PENDING_VERIFICATION = "pending_verification"
ACTIVE = "active"


class ProviderLocation(PracticeOwned, Base):
    """Where a provider practises: one row per provider and location, in the order given."""

    __tablename__ = "provider_location"

    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("location.id"), primary_key=True,
                                             index=True)
    position: Mapped[int] = mapped_column(SmallInteger)

    location: Mapped[Location] = relationship(lazy="joined", innerjoin=True)


class Provider(Audited, PracticeOwned, Base):
    __tablename__ = "provider"
    __table_args__ = (
        UniqueConstraint("practice_id", "npi_number"),
        # A user account stands for at most one provider (NULLs are distinct: unlinked ones).
        UniqueConstraint("user_id"),
        Index("ix_provider_practice_id_last_name_first_name", "practice_id", "last_name",
              "first_name", "id"),
        Index("ix_provider_practice_id_specialty_key", "practice_id", "specialty_key"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id"))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(50))  # MD, DO, "MD, PhD", PA-C, NP
    specialty: Mapped[str] = mapped_column(String(100))
    specialty_key: Mapped[str] = mapped_column(String(100))  # lower-cased, for ?specialty=
    subspecialty: Mapped[str | None] = mapped_column(String(100))
    npi_number: Mapped[str] = mapped_column(String(10))
    license_number: Mapped[str] = mapped_column(String(30))
    license_state: Mapped[str] = mapped_column(String(2))
    license_expiry_date: Mapped[date] = mapped_column(Date)
    license_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    license_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    license_verified_by: Mapped[str | None] = mapped_column(String(40))
    dea_number: Mapped[str | None] = mapped_column(String(9))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    languages: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    accepting_new_patients: Mapped[bool] = mapped_column(Boolean, default=True)
    # [{degree, institution, year}]; {institution, specialty, completion_year}
    education: Mapped[list[dict[str, Any]]] = mapped_column(PortableJSON, default=list)
    residency: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    fellowship: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    certifications: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    status: Mapped[str] = mapped_column(String(30), default=PENDING_VERIFICATION)

    location_links: Mapped[list[ProviderLocation]] = relationship(
        order_by=ProviderLocation.position, cascade="all, delete-orphan", lazy="selectin")


    @property
    def display_name(self) -> str:
        return display_name(self.first_name, self.last_name, self.title)

    @property
    def location_codes(self) -> list[str]:
        return [link.location.code for link in self.location_links]

    def years_of_experience(self, today: date) -> int | None:
        """Whole years since residency was completed, else since the earliest degree."""
        if self.residency and self.residency.get("completion_year"):
            since = int(self.residency["completion_year"])
        elif self.education:
            since = min(int(e["year"]) for e in self.education)
        else:
            return None
        return max(0, today.year - since)


class WorkingHours(PracticeOwned, Base):
    """One stretch of a provider's weekly template: a weekday, a location, local wall-clock
    times (in the location's time zone) and an optional break. The schedule turns these into
    instants for a given date."""

    __tablename__ = "provider_working_hours"
    __table_args__ = (
        CheckConstraint("day_of_week BETWEEN 0 AND 6", name="day_of_week"),
        CheckConstraint("start_time < end_time", name="start_before_end"),
        Index("ix_provider_working_hours_provider_id_day", "provider_id", "day_of_week"),
        # One stretch (with one break) per weekday and location: the schedule's shape.
        Index("uq_provider_working_hours_provider_day_location", "provider_id",
              "day_of_week", "location_id", unique=True),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"))
    day_of_week: Mapped[int] = mapped_column(SmallInteger)  # 0 = Monday, as date.weekday()
    location_id: Mapped[str] = mapped_column(ForeignKey("location.id"), index=True)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    break_start: Mapped[time | None] = mapped_column(Time)
    break_end: Mapped[time | None] = mapped_column(Time)

    location: Mapped[Location] = relationship(lazy="joined", innerjoin=True)


class DayOff(PracticeOwned, Base):
    """A whole day the provider does not work, whatever the weekly template says."""

    __tablename__ = "provider_day_off"
    __table_args__ = (UniqueConstraint("provider_id", "off_date"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"))
    off_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(200))


def display_name(first_name: str, last_name: str, title: str) -> str:
    """How charts name a provider: "Dr. Emily Johnson" for physicians (MD, DO), else the name
    and the credential ("Sam Lee, PA-C")."""
    credentials = {part.strip().upper() for part in title.split(",")}
    name = f"{first_name} {last_name}"
    return f"Dr. {name}" if credentials & {"MD", "DO"} else f"{name}, {title}"
