"""Wall-clock working hours turned into instants, and the 30-minute slots of a day.

Pure functions: the service loads shifts and bookings, these decide. Working hours are local
to a location's IANA time zone; everything compared here is an aware UTC instant, so a day
that changes to or from daylight saving time is handled by the zone database, not by us.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dermifi.providers.service import Shift

SLOT_LENGTH = timedelta(minutes=30)


@dataclass(frozen=True)
class Interval:
    """Half-open [start, end): one ending at 10:00 and one starting then do not overlap."""

    start: datetime
    end: datetime

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end


def instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of the wall-clock time ``at`` on ``day`` in ``zone``."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)


@dataclass(frozen=True)
class WorkDay:
    """One shift of the weekly template on a given date, as instants."""

    shift: Shift
    day: date
    hours: Interval
    pause: Interval | None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.shift.time_zone)

    def admits(self, visit: Interval) -> bool:
        """Inside the working hours and clear of the break."""
        return self.hours.contains(visit) and not (self.pause and self.pause.overlaps(visit))

    def describe(self) -> str:
        """"09:00-17:00 (break 12:00-13:00) at SF": for error messages (no PHI)."""
        text = f"{self.shift.start:%H:%M}-{self.shift.end:%H:%M}"
        if self.shift.break_start is not None and self.shift.break_end is not None:
            text += f" (break {self.shift.break_start:%H:%M}-{self.shift.break_end:%H:%M})"
        return f"{text} at {self.shift.location_code}"


def work_day(shift: Shift, day: date) -> WorkDay:
    zone = ZoneInfo(shift.time_zone)
    hours = Interval(instant(day, shift.start, zone), instant(day, shift.end, zone))
    pause = None
    if shift.break_start is not None and shift.break_end is not None:
        pause = Interval(instant(day, shift.break_start, zone),
                         instant(day, shift.break_end, zone))
    return WorkDay(shift, day, hours, pause)


def available_slots(day: WorkDay, booked: Iterable[Interval], *, now: datetime,
                    latest: datetime | None = None) -> list[time]:
    """The wall-clock starts of the 30-minute slots of ``day``, counted from the start of the
    hours, that lie inside them, outside the break, overlap no booking, start after ``now``
    and not after ``latest`` (a slot is offered only if booking it would succeed).

    On the night clocks fall back, a wall-clock time that happens twice is offered once (the
    first): a slot is named by its time alone."""
    taken: Sequence[Interval] = sorted(booked, key=lambda b: b.start)
    slots: list[time] = []
    start = day.hours.start
    while start + SLOT_LENGTH <= day.hours.end:
        slot = Interval(start, start + SLOT_LENGTH)
        wall_clock = local(start, day.zone).time().replace(fold=0)
        if (start > now and (latest is None or start <= latest) and day.admits(slot)
                and not any(slot.overlaps(b) for b in taken) and wall_clock not in slots):
            slots.append(wall_clock)
        start += SLOT_LENGTH
    return slots
