from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, status
from fastapi.responses import JSONResponse

from dermifi.auth.dependencies import CurrentUser
from dermifi.auth.idempotency import idempotent
from dermifi.core.concurrency import IfMatchHeader, with_etag
from dermifi.core.deps import DbSession
from dermifi.core.errors import error_responses
from dermifi.core.pagination import Page, PageParams
from dermifi.core.schemas import IsoDate, UtcDateTime
from dermifi.locations.schemas import LOCATION_CODE_PATTERN
from dermifi.providers.dependencies import ScheduledProvider
from dermifi.scheduling import lifecycle, service
from dermifi.scheduling.dependencies import ReadableAppointment
from dermifi.scheduling.lifecycle import Step
from dermifi.scheduling.schemas import (
    AppointmentCreate,
    AppointmentDetail,
    AppointmentRead,
    AppointmentStatus,
    AppointmentUpdate,
    CancelRequest,
    DaySchedule,
    ProviderSchedule,
    ScheduledVisit,
    ScheduleHours,
)

router = APIRouter(tags=["appointments"])
# The day schedule is read from the provider's URL: listed with the providers in the docs
# (one tag only: Swagger UI shows an operation once per tag).
schedule_router = APIRouter(tags=["providers"])

IdFilter = Annotated[str | None, Query(min_length=1, max_length=64)]
LocationFilter = Annotated[str | None, Query(max_length=40, pattern=LOCATION_CODE_PATTERN,
                                             description="A location code, e.g. SF")]


def _response(booking: service.Booking, status_code: int = 200,
              headers: dict[str, str] | None = None) -> JSONResponse:
    return with_etag(service.detail(booking), version=booking.appointment.version,
                     status_code=status_code, headers=headers)


@router.post("/appointments", status_code=status.HTTP_201_CREATED,
             response_model=AppointmentDetail, responses=error_responses(404, 409))
@idempotent
async def book_appointment(body: AppointmentCreate, session: DbSession, actor: CurrentUser
                           ) -> JSONResponse:
    """Book a patient with a verified provider (front desk, admin). The visit must lie inside
    the provider's working hours at the location and outside the break; a provider (or
    patient) already booked at that time is a `CONFLICT`, however many requests race."""
    booking = await service.book(session, actor, data=body)
    return _response(booking, 201, {"Location": f"/v1/appointments/{booking.appointment.id}"})


@router.get("/appointments", response_model=Page[AppointmentRead], responses=error_responses())
async def list_appointments(
    session: DbSession, actor: CurrentUser, page: PageParams,
    provider_id: Annotated[IdFilter, Query(alias="providerId")] = None,
    patient_id: Annotated[IdFilter, Query(alias="patientId")] = None,
    location: LocationFilter = None,
    status_filter: Annotated[AppointmentStatus | None, Query(alias="status")] = None,
    starts_from: Annotated[UtcDateTime | None, Query(
        alias="from", description="Starting at or after (ISO 8601 date-time)")] = None,
    starts_before: Annotated[UtcDateTime | None, Query(
        alias="to", description="Starting before (ISO 8601 date-time)")] = None,
) -> Page[AppointmentRead]:
    """The book, by start time (ties by id). Staff only; the pharmacy sees none."""
    bookings, pagination = await service.list_appointments(
        session, actor, page=page, provider_id=provider_id, patient_id=patient_id,
        location=location, status=status_filter, starts_from=starts_from,
        starts_before=starts_before)
    return Page[AppointmentRead](data=[service.view(b) for b in bookings],
                                 pagination=pagination)


@router.get("/appointments/{appointment_id}", response_model=AppointmentDetail,
            responses=error_responses(404))
async def get_appointment(booking: ReadableAppointment, session: DbSession,
                          actor: CurrentUser) -> JSONResponse:
    """One appointment, with an `ETag` to send back as `If-Match`."""
    return _response(await service.read_appointment(session, actor, booking=booking))


@router.patch("/appointments/{appointment_id}", response_model=AppointmentDetail,
              responses=error_responses(404, 409, 412))
async def reschedule_appointment(body: AppointmentUpdate, booking: ReadableAppointment,
                                 session: DbSession, actor: CurrentUser,
                                 if_match: IfMatchHeader = None) -> JSONResponse:
    """Reschedule (`start`, `duration`, `providerId`, `location`) or correct `type`, `reason`,
    `notes` of a scheduled or confirmed appointment. A move is checked like a new booking."""
    moved = await service.reschedule(session, actor, booking=booking, data=body,
                                     if_match=if_match)
    return _response(moved)


async def _advance(step: Step, booking: service.Booking, session: DbSession,
                   actor: CurrentUser, if_match: str | None, reason: str | None = None
                   ) -> JSONResponse:
    return _response(await service.advance(session, actor, booking=booking, step=step,
                                           if_match=if_match, reason=reason))


TRANSITION_ERRORS = error_responses(404, 409, 412)


@router.post("/appointments/{appointment_id}/confirm", response_model=AppointmentDetail,
             responses=TRANSITION_ERRORS)
async def confirm_appointment(booking: ReadableAppointment, session: DbSession,
                              actor: CurrentUser, if_match: IfMatchHeader = None
                              ) -> JSONResponse:
    """The patient confirmed: `scheduled` → `confirmed`."""
    return await _advance(lifecycle.CONFIRM, booking, session, actor, if_match)


@router.post("/appointments/{appointment_id}/check-in", response_model=AppointmentDetail,
             responses=TRANSITION_ERRORS)
async def check_in_appointment(booking: ReadableAppointment, session: DbSession,
                               actor: CurrentUser, if_match: IfMatchHeader = None
                               ) -> JSONResponse:
    """The patient arrived: `scheduled` or `confirmed` → `checked_in`, on the day itself."""
    return await _advance(lifecycle.CHECK_IN, booking, session, actor, if_match)


@router.post("/appointments/{appointment_id}/complete", response_model=AppointmentDetail,
             responses=TRANSITION_ERRORS)
async def complete_appointment(booking: ReadableAppointment, session: DbSession,
                               actor: CurrentUser, if_match: IfMatchHeader = None
                               ) -> JSONResponse:
    """The visit is over: `checked_in` → `completed` (it then counts as the `lastVisit`)."""
    return await _advance(lifecycle.COMPLETE, booking, session, actor, if_match)


@router.post("/appointments/{appointment_id}/cancel", response_model=AppointmentDetail,
             responses=TRANSITION_ERRORS)
async def cancel_appointment(booking: ReadableAppointment, session: DbSession,
                             actor: CurrentUser, if_match: IfMatchHeader = None,
                             body: Annotated[CancelRequest | None, Body()] = None
                             ) -> JSONResponse:
    """`scheduled` or `confirmed` → `cancelled`, with an optional `reason`. The time is free
    again at once."""
    return await _advance(lifecycle.CANCEL, booking, session, actor, if_match,
                          reason=body.reason if body else None)


@router.post("/appointments/{appointment_id}/no-show", response_model=AppointmentDetail,
             responses=TRANSITION_ERRORS)
async def mark_no_show(booking: ReadableAppointment, session: DbSession, actor: CurrentUser,
                       if_match: IfMatchHeader = None) -> JSONResponse:
    """The patient did not come: `scheduled` or `confirmed` → `no_show`, once the start has
    passed."""
    return await _advance(lifecycle.MARK_NO_SHOW, booking, session, actor, if_match)


@schedule_router.get("/providers/{provider_id}/schedule", response_model=ProviderSchedule,
                     responses=error_responses(404))
async def provider_schedule(
    provider: ScheduledProvider, session: DbSession, actor: CurrentUser,
    on: Annotated[IsoDate, Query(alias="date", description="The day, YYYY-MM-DD (1900-2100), "
                                                           "at the location")],
    location: LocationFilter = None,
) -> ProviderSchedule:
    """A provider's day at a location: working hours with the break, the appointments (not
    cancelled), and the 30-minute slots that are inside the hours, outside the break, not
    booked and not in the past, all in the location's wall-clock time. Without `location`,
    where the provider works that day (name it when there are several)."""
    day = await service.day_schedule(session, actor, provider=provider, on=on,
                                     location_code=location)
    hours = None
    if day.hours is not None:
        shift = day.hours.shift
        hours = ScheduleHours.model_validate({
            "start": shift.start, "end": shift.end,
            "break": ({"start": shift.break_start, "end": shift.break_end}
                      if shift.break_start is not None else None)})
    return ProviderSchedule(
        provider_id=day.provider_id, date=day.day, location=day.location_code,
        schedule=DaySchedule(
            working_hours=hours,
            appointments=[ScheduledVisit(time=at, duration=a.duration_minutes,
                                         patient_id=a.patient_id, type=a.type,
                                         status=a.status)
                          for at, a in day.visits],
            available_slots=day.slots))
