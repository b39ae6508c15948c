"""The weekly template's rules (pure): every problem with its field, all at once."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from dermifi.providers.hours import template_problems
from dermifi.providers.schemas import WorkingHoursReplace


def entry(day: str = "monday", location: str = "SF", start: str = "09:00",
          end: str = "17:00", pause: tuple[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"dayOfWeek": day, "location": location, "start": start,
                            "end": end}
    if pause:
        body["break"] = {"start": pause[0], "end": pause[1]}
    return body


def problems(*entries: dict[str, Any], exceptions: list[dict[str, Any]] | None = None,
             locations: tuple[str, ...] = ("sf", "oakland")) -> list[tuple[str, str]]:
    data = WorkingHoursReplace.model_validate({"workingHours": list(entries),
                                              "exceptions": exceptions or []})
    return [(d.field, d.message) for d in template_problems(
        data.working_hours, data.exceptions, provider_location_keys=set(locations))]


def test_a_valid_week() -> None:
    assert problems(
        entry("monday", "SF", "09:00", "17:00", ("12:00", "13:00")),
        entry("tuesday", "Oakland", "08:30", "12:00"),
        entry("tuesday", "SF", "13:00", "18:00"),
        entry("saturday", "sf", "10:00", "14:00"),
        exceptions=[{"date": "2024-12-25", "reason": "Holiday"}, {"date": "2024-12-26"}],
    ) == []


def test_start_must_precede_end() -> None:
    assert problems(entry(start="17:00", end="09:00"), entry("friday", start="09:00",
                                                             end="09:00")) == [
        ("workingHours.0.end", "Must be after start"),
        ("workingHours.1.end", "Must be after start")]


@pytest.mark.parametrize("pause", [("08:00", "09:30"), ("16:30", "17:30"), ("18:00", "19:00")])
def test_break_outside_the_day(pause: tuple[str, str]) -> None:
    assert problems(entry(pause=pause)) == [
        ("workingHours.0.break", "The break must lie within the working hours")]


def test_break_at_the_edges_is_inside() -> None:
    assert problems(entry(pause=("09:00", "09:30")), entry("friday", pause=("16:30", "17:00"))
                    ) == []


def test_break_must_end_after_it_starts() -> None:
    assert problems(entry(pause=("13:00", "12:00"))) == [
        ("workingHours.0.break.end", "Must be after the break's start")]


def test_overlap_on_one_weekday_across_locations() -> None:
    assert problems(entry("monday", "SF", "09:00", "13:00"),
                    entry("monday", "Oakland", "12:00", "17:00")) == [
        ("workingHours.1.start", "Overlaps workingHours.0 on monday")]


def test_overlap_at_the_same_location_and_nested() -> None:
    twice = "workingHours.0 already has monday at SF; use one entry and its break"
    assert problems(entry("monday", "SF", "08:00", "18:00"),
                    entry("monday", "SF", "10:00", "11:00"),
                    entry("monday", "SF", "12:00", "13:00")) == [
        ("workingHours.1.location", twice),
        ("workingHours.2.location", twice),
        ("workingHours.1.start", "Overlaps workingHours.0 on monday"),
        ("workingHours.2.start", "Overlaps workingHours.0 on monday")]


def test_one_entry_per_weekday_and_location() -> None:
    # A split day at one site is one entry with a break: the schedule shows one break.
    assert problems(entry("monday", "SF", "08:00", "12:00"),
                    entry("monday", "sf", "13:00", "17:00")) == [
        ("workingHours.1.location",
         "workingHours.0 already has monday at sf; use one entry and its break")]


def test_touching_entries_and_other_days_do_not_overlap() -> None:
    assert problems(entry("monday", "SF", "08:00", "12:00"),
                    entry("monday", "Oakland", "12:00", "16:00"),
                    entry("tuesday", "SF", "08:00", "12:00")) == []


def test_location_must_be_the_providers() -> None:
    assert problems(entry(location="San Jose")) == [
        ("workingHours.0.location", "San Jose is not one of the provider's locations")]


def test_a_day_off_is_listed_once() -> None:
    assert problems(exceptions=[{"date": "2024-07-04"}, {"date": "2024-07-05"},
                                {"date": "2024-07-04", "reason": "again"}]) == [
        ("exceptions.2.date", "Already listed as exceptions.0")]


def test_every_problem_at_once() -> None:
    found = problems(entry(location="Mars", start="10:00", end="09:00"),
                     entry("friday", pause=("07:00", "08:00")),
                     exceptions=[{"date": "2024-01-01"}, {"date": "2024-01-01"}])
    assert [field for field, _ in found] == [
        "workingHours.0.location", "workingHours.0.end", "workingHours.1.break",
        "exceptions.1.date"]


@pytest.mark.parametrize(("body", "field"), [
    ({"workingHours": [entry(start="9:00")]}, "workingHours.0.start"),
    ({"workingHours": [entry(end="24:00")]}, "workingHours.0.end"),
    ({"workingHours": [entry(end="17:00:00")]}, "workingHours.0.end"),
    ({"workingHours": [entry(day="Monday")]}, "workingHours.0.dayOfWeek"),
    ({"workingHours": [entry(day="funday")]}, "workingHours.0.dayOfWeek"),
    ({"workingHours": [{**entry(), "break": {"start": "12:00"}}]},
     "workingHours.0.break.end"),
    ({"workingHours": [{**entry(), "timeZone": "UTC"}]}, "workingHours.0.timeZone"),
    ({"workingHours": [], "exceptions": [{"date": "2024-02-30"}]}, "exceptions.0.date"),
    ({"exceptions": []}, "workingHours"),
])
def test_shapes(body: dict[str, Any], field: str) -> None:
    from dermifi.core.errors import validation_details

    with pytest.raises(ValidationError) as caught:
        WorkingHoursReplace.model_validate(body)
    assert field in [d.field for d in validation_details(caught.value.errors())]
