"""The rules of a weekly working-hours template, as pure functions over the request.

Every problem is reported with its field (``workingHours.2.break.start``), all at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence

from dermifi.core.errors import ErrorDetail
from dermifi.providers.schemas import DayOffEntry, WorkingHoursEntry


def _detail(field: str, message: str) -> ErrorDetail:
    return ErrorDetail(field=field, message=message)


def template_problems(entries: Sequence[WorkingHoursEntry], exceptions: Sequence[DayOffEntry],
                      *, provider_location_keys: Collection[str]) -> list[ErrorDetail]:
    """Start before end; the break inside the hours; a location of the provider's; no two
    entries of one weekday overlapping (whatever their locations: one person, one place at a
    time); each day off listed once. Touching entries (12:00-12:00) do not overlap.

    One entry per weekday and location: a day's schedule there is one stretch of hours with
    one break (the document's shape), so a gap in the day is written as the break."""
    problems: list[ErrorDetail] = []
    by_day: dict[str, list[int]] = defaultdict(list)
    by_day_and_place: dict[tuple[str, str], int] = {}
    for i, entry in enumerate(entries):
        at = f"workingHours.{i}"
        if entry.location.lower() not in provider_location_keys:
            problems.append(_detail(f"{at}.location",
                                    f"{entry.location} is not one of the provider's locations"))
        place = (entry.day_of_week, entry.location.lower())
        if place in by_day_and_place:
            problems.append(_detail(
                f"{at}.location", f"workingHours.{by_day_and_place[place]} already has "
                f"{entry.day_of_week} at {entry.location}; use one entry and its break"))
        else:
            by_day_and_place[place] = i
        # Appointments start on whole five minutes: so must the hours they are offered in.
        times = {"start": entry.start, "end": entry.end}
        if entry.break_ is not None:
            times |= {"break.start": entry.break_.start, "break.end": entry.break_.end}
        for name, value in times.items():
            if value.minute % 5:
                problems.append(_detail(f"{at}.{name}",
                                        "Must fall on a whole five minutes (e.g. 09:00, 09:05)"))
        if entry.start >= entry.end:
            problems.append(_detail(f"{at}.end", "Must be after start"))
            continue
        by_day[entry.day_of_week].append(i)
        pause = entry.break_
        if pause is None:
            continue
        if pause.start >= pause.end:
            problems.append(_detail(f"{at}.break.end", "Must be after the break's start"))
        elif pause.start < entry.start or pause.end > entry.end:
            problems.append(_detail(f"{at}.break",
                                    "The break must lie within the working hours"))
    for day, indexes in by_day.items():
        ordered = sorted(indexes, key=lambda i: (entries[i].start, entries[i].end))
        latest = ordered[0]  # the entry reaching furthest so far
        for i in ordered[1:]:
            if entries[i].start < entries[latest].end:
                problems.append(_detail(
                    f"workingHours.{i}.start",
                    f"Overlaps workingHours.{latest} on {day}"))
            if entries[i].end > entries[latest].end:
                latest = i
    seen: dict[object, int] = {}
    for i, day_off in enumerate(exceptions):
        if day_off.date in seen:
            problems.append(_detail(f"exceptions.{i}.date",
                                    f"Already listed as exceptions.{seen[day_off.date]}"))
        else:
            seen[day_off.date] = i
    return problems
