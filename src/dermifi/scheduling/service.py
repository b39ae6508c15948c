"""The appointment book: booking, moving and the visit's life (confirm, check in, complete,
cancel, no-show), and a provider's day schedule with its free slots.

A provider is never double-booked: the service checks first (to answer with a clear
message), and the database refuses what a concurrent request slipped in between (an exclusion
constraint on PostgreSQL; triggers on SQLite, whose writers are serialized anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ScalarSelect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit import service as audit_service
from dermifi.auth.actor import Actor
from dermifi.core.context import current_clock
from dermifi.core.db import unit_of_work
from dermifi.core.errors import (
    Conflict,
    ErrorDetail,
    InvalidState,
    ValidationFailed,
)
from dermifi.core.ids import new_id
from dermifi.core.pagination import PageRequest, Pagination
from dermifi.core.schemas import StatusChangeRead
from dermifi.locations import service as locations_service
from dermifi.locations.models import Location
from dermifi.patients import service as patients_service
from dermifi.patients.models import Patient
from dermifi.providers import service as providers_service
from dermifi.providers.models import ACTIVE as PROVIDER_ACTIVE
from dermifi.providers.models import Provider
from dermifi.scheduling import lifecycle, policies
from dermifi.scheduling.calendar import Interval, WorkDay, available_slots, local, work_day
from dermifi.scheduling.lifecycle import APPOINTMENT, Moment, Step
from dermifi.scheduling.models import (
    CANCELLED,
    CONFIRMED,
    PATIENT_OVERLAP,
    PROVIDER_OVERLAP,
    UPCOMING,
    Appointment,
    AppointmentStatusChange,
)
from dermifi.scheduling.repository import (
    AppointmentRepository,
    last_completed_start_of,
    next_start_of,
)
from dermifi.scheduling.schemas import (
    AppointmentCreate,
    AppointmentDetail,
    AppointmentRead,
    AppointmentUpdate,
)

# How far ahead the book is open: a typo in the year must not become a booking in 2062.
BOOKING_HORIZON = timedelta(days=3 * 366)
# Dates a schedule can be asked for (time-zone arithmetic outside them is meaningless).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)

PROVIDER_BOOKED = "The provider is already booked at that time"
PATIENT_BOOKED = "The patient already has an appointment at that time"


def _now() -> datetime:
    return current_clock().now()


@dataclass(frozen=True)
class Booking:
    """An appointment and its location (code, time zone): everything a response needs; with
    its status history when it is answered on its own."""

    appointment: Appointment
    location: Location
    history: tuple[AppointmentStatusChange, ...] = ()


async def _with_places(session: AsyncSession, appointments: Sequence[Appointment]
                       ) -> list[Booking]:
    places = await locations_service.by_ids(session, {a.location_id for a in appointments})
    return [Booking(a, places[a.location_id]) for a in appointments]


async def _with_history(session: AsyncSession, appointment: Appointment) -> Booking:
    """The appointment on its own, as a change or a read answers it. Flushes first, so the
    history read includes the change just made."""
    await session.flush()
    (booking,) = await _with_places(session, [appointment])
    history = await AppointmentRepository(session).status_history(appointment.id)
    return Booking(appointment, booking.location, tuple(history))


def detail(booking: Booking) -> AppointmentDetail:
    return AppointmentDetail(
        **view(booking).model_dump(),
        status_history=[StatusChangeRead(status=h.to_status, timestamp=h.changed_at,
                                         changed_by=h.changed_by, notes=h.notes)
                        for h in booking.history])


def view(booking: Booking) -> AppointmentRead:
    appointment, location = booking.appointment, booking.location
    zone = ZoneInfo(location.time_zone)
    start = local(appointment.starts_at, zone)
    return AppointmentRead(
        id=appointment.id, patient_id=appointment.patient_id,
        provider_id=appointment.provider_id, location=location.code,
        time_zone=location.time_zone, start=appointment.starts_at, end=appointment.ends_at,
        local_date=start.date(), local_time=start.time().replace(tzinfo=None),
        duration=appointment.duration_minutes, type=appointment.type,
        status=appointment.status,
        reason=appointment.reason, notes=appointment.notes,
        confirmed_at=appointment.confirmed_at, checked_in_at=appointment.checked_in_at,
        completed_at=appointment.completed_at, cancelled_at=appointment.cancelled_at,
        cancelled_by=appointment.cancelled_by,
        cancellation_reason=appointment.cancellation_reason, no_show_at=appointment.no_show_at,
        created_at=appointment.created_at, created_by=appointment.created_by,
        updated_at=appointment.updated_at, updated_by=appointment.updated_by,
    )


# --- reads ---------------------------------------------------------------------------------

async def get_readable(session: AsyncSession, actor: Actor, *, appointment_id: str) -> Booking:
    """The appointment, for the book's readers (else FORBIDDEN), if it belongs to the caller's
    practice (else NOT_FOUND, as for an id that does not exist)."""
    policies.ensure_can_read(actor)
    appointment = await AppointmentRepository(session).get_readable(actor, appointment_id)
    return (await _with_places(session, [appointment]))[0]


async def read_appointment(session: AsyncSession, actor: Actor, *, booking: Booking) -> Booking:
    async with unit_of_work(session):
        await _audit(session, actor, "appointment.read", booking.appointment)
        read = await _with_history(session, booking.appointment)
    return read


async def list_appointments(
    session: AsyncSession, actor: Actor, *, page: PageRequest, provider_id: str | None,
    patient_id: str | None, location: str | None, status: str | None,
    starts_from: datetime | None, starts_before: datetime | None,
) -> tuple[list[Booking], Pagination]:
    policies.ensure_can_read(actor)
    if starts_from is not None and starts_before is not None and starts_before <= starts_from:
        raise ValidationFailed(details=[{"field": "to", "message": "Must be after from"}])
    async with unit_of_work(session):
        location_id: str | None = None
        if location is not None:
            found = await locations_service.find_by_code(session, location)
            if found is None:
                return [], Pagination.build(page, 0)  # no such site: nothing booked there
            location_id = found.id
        repository = AppointmentRepository(session)
        stmt = repository.list_statement(
            actor, provider_id=provider_id, patient_id=patient_id, location_id=location_id,
            status=status, starts_from=starts_from, starts_before=starts_before)
        rows, pagination = await repository.page(stmt, page)
        appointments: Sequence[Appointment] = rows
        bookings = await _with_places(session, appointments)
        await audit_service.record(
            session, actor, "appointment.list", resource_type="appointment",
            details={"patientIds": sorted({a.patient_id for a in appointments}),
                     "returned": len(appointments), "page": page.page})
    return bookings, pagination


# --- checks shared by booking and moving ----------------------------------------------------

async def _bookable_patient(session: AsyncSession, patient_id: str) -> Patient:
    # Shared lock: a deactivation (which cancels the patient's upcoming appointments)
    # cannot slip in between this check and the booking.
    return await patients_service.active_patient(session, patient_id, field="patientId",
                                                 share_lock=True)


async def _bookable_provider(session: AsyncSession, provider_id: str) -> Provider:
    # Shared lock: a change of the provider's working hours (which locks the row exclusively)
    # waits for this booking, or this booking for it, so a booking is always judged by the
    # hours in force when it commits. Bookings do not wait for one another.
    return await providers_service.verified_provider(session, provider_id, field="providerId",
                                                     share_lock=True)


async def _location(session: AsyncSession, provider: Provider, code: str | None
                    ) -> Location | None:
    if code is None:
        return None
    location = await locations_service.find_by_code(session, code)
    if location is None or location.id not in {link.location_id
                                               for link in provider.location_links}:
        raise ValidationFailed(details=[{"field": "location",
                                         "message": "Not one of the provider's locations"}])
    return location


def _check_start(start: datetime) -> None:
    """Checked once the ids the request names are known to exist (they answer 404 first)."""
    if start.second or start.microsecond or start.minute % 5:
        raise ValidationFailed(details=[{"field": "start", "message": "Must fall on a whole "
                                         "five minutes (e.g. 09:00, 09:05)"}])
    now = _now()
    if start <= now:
        raise ValidationFailed(details=[{"field": "start", "message": "Must be in the future"}])
    if start > now + BOOKING_HORIZON:
        raise ValidationFailed(details=[{"field": "start",
                                         "message": "The book is open three years ahead"}])


async def _work_day_for(session: AsyncSession, provider: Provider, visit: Interval,
                        location: Location | None) -> WorkDay:
    """The provider's shift that admits ``visit`` (at ``location``, or wherever the provider
    works then), else a validation error naming that day's hours."""
    places = ([location] if location is not None
              else [link.location for link in provider.location_links])
    that_day: list[WorkDay] = []
    for place in places:
        day = local(visit.start, ZoneInfo(place.time_zone)).date()
        for shift in await providers_service.shifts_on(session, provider=provider, on=day,
                                                       location_id=place.id):
            candidate = work_day(shift, day)
            if candidate.admits(visit):
                return candidate
            that_day.append(candidate)
    hours = "; ".join(d.describe() for d in that_day) or "no working hours"
    where = f" at {location.code}" if location is not None and not that_day else ""
    raise ValidationFailed(
        "Outside the provider's working hours",
        details=[{"field": "start", "message": f"The provider works {hours}{where} that day; "
                  "the appointment must lie within the hours and outside the break"}])


async def _ensure_free(session: AsyncSession, appointment: Appointment) -> None:
    """Checked before writing for a clear answer; the database re-checks at the write."""
    start, end, own_id = appointment.starts_at, appointment.ends_at, appointment.id
    appointments = AppointmentRepository(session)
    with session.no_autoflush:
        if await appointments.holding_time(start=start, end=end, exclude_id=own_id,
                                           provider_id=appointment.provider_id):
            raise Conflict(PROVIDER_BOOKED, details=[{"field": "start",
                                                      "message": "Overlaps another booking"}])
        if await appointments.holding_time(start=start, end=end, exclude_id=own_id,
                                           patient_id=appointment.patient_id):
            raise Conflict(PATIENT_BOOKED, details=[{"field": "start",
                                                     "message": "Overlaps another booking"}])


async def _flush_booking(session: AsyncSession) -> None:
    """Write, telling the overlap guards' refusals apart (a concurrent booking got there)."""
    try:
        await session.flush()
    except IntegrityError as exc:
        text = str(exc.orig)
        if PROVIDER_OVERLAP in text:
            raise Conflict(PROVIDER_BOOKED) from exc
        if PATIENT_OVERLAP in text:
            raise Conflict(PATIENT_BOOKED) from exc
        raise


async def _audit(session: AsyncSession, actor: Actor, action: str, appointment: Appointment,
                 details: dict[str, Any] | None = None) -> None:
    await audit_service.record(session, actor, action, resource_type="appointment",
                               resource_id=appointment.id, patient_id=appointment.patient_id,
                               details={"providerId": appointment.provider_id,
                                        **(details or {})})


# --- writes --------------------------------------------------------------------------------

async def book(session: AsyncSession, actor: Actor, *, data: AppointmentCreate) -> Booking:
    policies.ensure_can_manage(actor)
    async with unit_of_work(session):
        patient = await _bookable_patient(session, data.patient_id)
        provider = await _bookable_provider(session, data.provider_id)
        location = await _location(session, provider, data.location)
        _check_start(data.start)  # before any arithmetic: the start may be 9999-12-31
        visit = Interval(data.start, data.start + timedelta(minutes=data.duration))
        shift = await _work_day_for(session, provider, visit, location)
        now = _now()
        appointment = Appointment(
            id=new_id("appt"), practice_id=actor.practice_id, patient_id=patient.id,
            provider_id=provider.id, location_id=shift.shift.location_id,
            starts_at=visit.start, ends_at=visit.end, duration_minutes=data.duration,
            type=data.type, reason=data.reason, notes=data.notes)
        appointment.stamp_created(actor.id, now)
        APPOINTMENT.begin(session, appointment, actor, now=now, entity_id=appointment.id)
        await _ensure_free(session, appointment)
        session.add(appointment)
        await _flush_booking(session)
        await _audit(session, actor, "appointment.create", appointment,
                     {"locationId": appointment.location_id, "type": appointment.type})
        booking = await _with_history(session, appointment)
    return booking


async def reschedule(session: AsyncSession, actor: Actor, *, booking: Booking,
                     data: AppointmentUpdate, if_match: str | None) -> Booking:
    """Move an upcoming appointment (time, length, provider, location) or correct its type,
    reason or notes. A move is checked like a new booking."""
    policies.ensure_can_manage(actor)
    appointment = booking.appointment
    changes = data.model_dump(exclude_unset=True)
    async with unit_of_work(session):
        await AppointmentRepository(session).lock_for_change(appointment, if_match)
        if appointment.status not in UPCOMING:
            raise InvalidState(f"A {appointment.status} appointment can no longer be changed")
        moves = changes.keys() & {"provider_id", "location", "start", "duration"}
        if moves:
            await _bookable_patient(session, appointment.patient_id)
            start = data.start if data.start is not None else appointment.starts_at
            minutes = data.duration if data.duration is not None else appointment.duration_minutes
            provider = await _bookable_provider(session, data.provider_id
                                                or appointment.provider_id)
            _check_start(start)
            if "location" in changes:
                location = await _location(session, provider, data.location)
            elif provider.id == appointment.provider_id:
                location = await locations_service.get(session, appointment.location_id)
            else:
                location = None  # another provider: wherever they work at that time
            visit = Interval(start, start + timedelta(minutes=minutes))
            shift = await _work_day_for(session, provider, visit, location)
            appointment.provider_id = provider.id
            appointment.location_id = shift.shift.location_id
            appointment.starts_at, appointment.ends_at = visit.start, visit.end
            appointment.duration_minutes = minutes
            if appointment.status == CONFIRMED:
                APPOINTMENT.apply(session, appointment, lifecycle.UNCONFIRM, actor, now=_now(),
                                  context=_moment(shift.shift.time_zone),
                                  entity_id=appointment.id)
            await _ensure_free(session, appointment)
        for field in ("type", "reason", "notes"):
            if field in changes:
                setattr(appointment, field, getattr(data, field))
        appointment.stamp_updated(actor.id, _now())
        await _flush_booking(session)
        await _audit(session, actor, "appointment.update", appointment,
                     {"fields": audit_service.changed_fields(changes)})
        moved = await _with_history(session, appointment)
    return moved


def _moment(time_zone: str) -> Moment:
    return Moment(now=_now(), zone=ZoneInfo(time_zone))


async def advance(session: AsyncSession, actor: Actor, *, booking: Booking, step: Step,
                  if_match: str | None, reason: str | None = None) -> Booking:
    """Move the appointment along its life (``lifecycle``). Each step is allowed from its
    states only (``INVALID_STATE`` otherwise), and two racing steps cannot both apply: the row
    is locked and re-read first."""
    APPOINTMENT.ensure_may(step, actor)
    appointment = booking.appointment
    async with unit_of_work(session):
        await AppointmentRepository(session).lock_for_change(appointment, if_match)
        moment = _moment(booking.location.time_zone)
        APPOINTMENT.apply(session, appointment, step, actor, now=moment.now, context=moment,
                          entity_id=appointment.id, notes=reason)
        appointment.stamp_updated(actor.id, moment.now)
        await session.flush()
        await _audit(session, actor, f"appointment.{step.action}", appointment)
        advanced = await _with_history(session, appointment)
    return advanced


# --- the day schedule ----------------------------------------------------------------------

@dataclass(frozen=True)
class DayScheduleView:
    provider_id: str
    day: date
    location_code: str | None
    hours: WorkDay | None
    visits: list[tuple[time, Appointment]]
    slots: list[time]


async def day_schedule(session: AsyncSession, actor: Actor, *, provider: Provider, on: date,
                       location_code: str | None) -> DayScheduleView:
    """The provider's day at a location (or wherever they work that day): the hours, the
    appointments that hold time, and the 30-minute slots still free."""
    policies.ensure_can_read(actor)
    if not FIRST_DAY <= on <= LAST_DAY:
        raise ValidationFailed(details=[{"field": "date",
                                         "message": "Must be between 1900 and 2100"}])
    async with unit_of_work(session):
        location: Location | None = None
        if location_code is not None:
            location = await locations_service.find_by_code(session, location_code)
            if location is None:
                raise ValidationFailed(details=[{"field": "location",
                                                 "message": "No such location"}])
        shifts = await providers_service.shifts_on(
            session, provider=provider, on=on,
            location_id=location.id if location is not None else None)
        if location is None and len({s.location_id for s in shifts}) > 1:
            codes = " and ".join(s.location_code for s in shifts)
            raise ValidationFailed(details=[ErrorDetail(
                field="location", message=f"The provider works at {codes} that day; "
                "name the location")])
        hours = work_day(shifts[0], on) if shifts else None
        # Wide enough for any time zone's day; filtered to the local date below.
        around = datetime.combine(on, time(), tzinfo=UTC)
        nearby = await _with_places(session, await AppointmentRepository(
            session).of_provider_between(provider.id, start=around - timedelta(days=1),
            end=around + timedelta(days=2)))
        visits: list[tuple[time, Appointment]] = []
        for near in nearby:
            appointment, place = near.appointment, near.location
            starts = local(appointment.starts_at, ZoneInfo(place.time_zone))
            wanted = location.id if location is not None else (
                hours.shift.location_id if hours is not None else None)
            if (starts.date() == on and appointment.status != CANCELLED
                    and (wanted is None or place.id == wanted)):
                visits.append((starts.time().replace(tzinfo=None), appointment))
        # Every booking holds the provider, wherever it is: one person, one place at a time.
        booked = [Interval(b.appointment.starts_at, b.appointment.ends_at) for b in nearby
                  if b.appointment.holds_time]
        # Only what a booking would accept: a verified provider, within the book's horizon.
        now = _now()
        slots = (available_slots(hours, booked, now=now, latest=now + BOOKING_HORIZON)
                 if hours is not None and provider.status == PROVIDER_ACTIVE else [])
        code = (location.code if location is not None
                else hours.shift.location_code if hours is not None else None)
        await audit_service.record(
            session, actor, "provider.schedule.read", resource_type="provider",
            resource_id=provider.id,
            details={"date": on.isoformat(), "locationCode": code,
                     "patientIds": sorted({a.patient_id for _, a in visits})})
    return DayScheduleView(provider.id, on, code, hours, visits, slots)


# --- for the patient's chart ---------------------------------------------------------------

async def chart_appointments(session: AsyncSession, actor: Actor, *, patient_id: str
                             ) -> list[AppointmentRead]:
    """The patient's appointments for ``include=appointments``, latest first; none for a
    role that may not read the book."""
    if not policies.can_read(actor):
        return []
    return [view(b) for b in await _with_places(
        session, await AppointmentRepository(session).of_patient(patient_id))]


async def cancel_upcoming_of(session: AsyncSession, actor: Actor, *, patient_id: str,
                             reason: str) -> int:
    """Cancel the patient's scheduled and confirmed appointments (the patient was
    deactivated): their times are free for others. Runs inside the caller's unit of work;
    each is audited. This is part of the deactivation, whoever may deactivate (a nurse too),
    even though only the front desk cancels appointments one by one."""
    now = _now()
    cancelled = 0
    # Locked first: a reschedule or cancel racing this waits, then finds it cancelled.
    for appointment in await AppointmentRepository(session).upcoming_of_patient(
            patient_id, for_update=True):
        if appointment.status in UPCOMING:
            # No timing guard on this step: the time zone is not looked at.
            APPOINTMENT.apply(session, appointment, lifecycle.CANCEL_FOR_DEACTIVATION, actor,
                              now=now, context=Moment(now=now, zone=ZoneInfo("UTC")),
                              entity_id=appointment.id, notes=reason)
            appointment.stamp_updated(actor.id, now)
            await session.flush()
            await _audit(session, actor, "appointment.cancel", appointment,
                         {"reason": "patient_deactivated"})
            cancelled += 1
    return cancelled


async def next_appointment_at(session: AsyncSession, *, patient_id: str) -> datetime | None:
    return await AppointmentRepository(session).next_start(patient_id, after=_now())


async def last_completed_at(session: AsyncSession, *, patient_id: str) -> datetime | None:
    return await AppointmentRepository(session).last_completed_start(patient_id)


def next_appointment_of(patient_id: Any, *, after: Any) -> ScalarSelect[Any]:
    """``next_appointment_at`` as a scalar subquery (the first upcoming start later than
    ``after``), for a statement that reads the chart."""
    return next_start_of(patient_id, after=after).scalar_subquery()


def last_completed_of(patient_id: Any) -> ScalarSelect[Any]:
    """``last_completed_at`` as a scalar subquery, for a statement that reads the chart."""
    return last_completed_start_of(patient_id).scalar_subquery()
