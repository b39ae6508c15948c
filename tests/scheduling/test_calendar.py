"""The slot arithmetic on its own: wall-clock hours to instants, and the free 30 minutes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from dermifi.providers.service import Shift
from dermifi.scheduling.calendar import Interval, available_slots, work_day

LA = "America/Los_Angeles"


def shift(start: time, end: time, pause: tuple[time, time] | None = None,
          zone: str = LA) -> Shift:
    return Shift(day_of_week=5, location_id="loc_1", location_code="SF", time_zone=zone,
                 start=start, end=end, break_start=pause[0] if pause else None,
                 break_end=pause[1] if pause else None)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


LONG_AGO = utc(2000, 1, 1)


def test_hours_become_instants_in_the_locations_zone() -> None:
    day = work_day(shift(time(9), time(17), (time(12), time(13))), date(2024, 1, 20))
    assert day.hours == Interval(utc(2024, 1, 20, 17), utc(2024, 1, 21, 1))
    assert day.pause == Interval(utc(2024, 1, 20, 20), utc(2024, 1, 20, 21))
    summer = work_day(shift(time(9), time(17)), date(2024, 7, 20))
    assert summer.hours.start == utc(2024, 7, 20, 16)  # PDT, UTC-7


def test_admits_inside_and_clear_of_the_break() -> None:
    day = work_day(shift(time(9), time(17), (time(12), time(13))), date(2024, 1, 20))
    assert day.admits(Interval(utc(2024, 1, 20, 17), utc(2024, 1, 20, 17, 30)))
    assert day.admits(Interval(utc(2024, 1, 20, 19, 30), utc(2024, 1, 20, 20)))  # to 12:00
    assert not day.admits(Interval(utc(2024, 1, 20, 19, 45), utc(2024, 1, 20, 20, 15)))
    assert not day.admits(Interval(utc(2024, 1, 20, 16, 45), utc(2024, 1, 20, 17, 15)))
    assert not day.admits(Interval(utc(2024, 1, 21, 0, 45), utc(2024, 1, 21, 1, 15)))


def test_slots_of_the_documents_day() -> None:
    day = work_day(shift(time(9), time(17), (time(12), time(13))), date(2024, 1, 20))
    booked = [Interval(utc(2024, 1, 20, 17), utc(2024, 1, 20, 17, 30)),
              Interval(utc(2024, 1, 20, 17, 30), utc(2024, 1, 20, 18))]
    assert [t.strftime("%H:%M") for t in available_slots(day, booked, now=LONG_AGO)] == [
        "10:00", "10:30", "11:00", "11:30", "13:00", "13:30", "14:00", "14:30", "15:00",
        "15:30", "16:00", "16:30"]


def test_a_slot_starting_now_is_past() -> None:
    day = work_day(shift(time(9), time(11)), date(2024, 1, 20))
    slots = available_slots(day, [], now=utc(2024, 1, 20, 18))  # 10:00 local
    assert [t.strftime("%H:%M") for t in slots] == ["10:30"]


def test_hours_that_are_not_whole_slots() -> None:
    day = work_day(shift(time(8, 15), time(9, 50)), date(2024, 1, 20))
    assert [t.strftime("%H:%M") for t in available_slots(day, [], now=LONG_AGO)] == [
        "08:15", "08:45", "09:15"]


def test_the_autumn_day_has_its_extra_hour_in_utc_only() -> None:
    # 2024-11-03: clocks fall back at 02:00 in Los Angeles, long before the hours start.
    day = work_day(shift(time(9), time(10)), date(2024, 11, 3))
    assert day.hours == Interval(utc(2024, 11, 3, 17), utc(2024, 11, 3, 18))
    assert [t.strftime("%H:%M") for t in available_slots(day, [], now=LONG_AGO)] == [
        "09:00", "09:30"]


def test_a_wall_clock_time_that_happens_twice_is_offered_once() -> None:
    # 2024-11-03 01:00-02:00 happens twice in Los Angeles (clocks fall back at 02:00).
    day = work_day(shift(time(0, 30), time(3)), date(2024, 11, 3))
    assert [t.strftime("%H:%M") for t in available_slots(day, [], now=LONG_AGO)] == [
        "00:30", "01:00", "01:30", "02:00", "02:30"]
