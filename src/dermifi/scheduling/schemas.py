from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator

from dermifi.core.fields import Text200, Text2000
from dermifi.core.schemas import (
    JSON_INTEGER,
    ApiInput,
    ApiModel,
    IsoDate,
    StatusChangeRead,
    UtcDateTime,
    not_nullable,
    refuse_null,
)
from dermifi.locations.schemas import LocationCode
from dermifi.providers.schemas import LocalTime

AppointmentType = Literal["consultation", "follow_up", "procedure", "biopsy", "mohs",
                          "cosmetic", "telehealth"]
AppointmentStatus = Literal["scheduled", "confirmed", "checked_in", "completed", "cancelled",
                            "no_show"]
ResourceId = Annotated[str, Field(min_length=1, max_length=64)]
# Whole minutes, five at a time: what a booking grid can show.
Duration = Annotated[int, Field(ge=5, le=480, multiple_of=5,
                                description="Minutes, a multiple of 5, at most 8 hours"),
                     JSON_INTEGER]
START_DESCRIPTION = ("The start, an ISO 8601 date-time with its offset (stored as UTC); on a "
                     "whole five minutes, in the future, inside the provider's working hours "
                     "and outside the break")


class AppointmentCreate(ApiInput):
    patient_id: ResourceId
    provider_id: ResourceId
    location: LocationCode | None = Field(
        None, description="Location code; left out, the provider's location at that time")
    start: UtcDateTime = Field(description=START_DESCRIPTION)
    duration: Duration = 30
    type: AppointmentType
    reason: Text200 | None = None
    notes: Text2000 | None = None


class AppointmentUpdate(ApiInput):
    """A reschedule or a correction: what is sent changes, the rest stays. A new time, length,
    provider or location is checked like a new booking."""

    model_config = ConfigDict(json_schema_extra=not_nullable(
        "provider_id", "start", "duration", "type"))

    provider_id: ResourceId | None = None
    location: LocationCode | None = Field(
        None, description="Location code; null means the provider's location at that time")
    start: UtcDateTime | None = Field(None, description=START_DESCRIPTION)
    duration: Duration | None = None
    type: AppointmentType | None = None
    reason: Text200 | None = None
    notes: Text2000 | None = None

    _not_null = field_validator("provider_id", "start", "duration", "type",
                                mode="before")(refuse_null)

class CancelRequest(ApiInput):
    reason: Text200 | None = None


class AppointmentRead(ApiModel):
    id: str
    patient_id: str
    provider_id: str
    location: str = Field(description="The location's code")
    time_zone: str = Field(description="The location's IANA time zone")
    start: UtcDateTime
    end: UtcDateTime
    local_date: IsoDate = Field(description="The date at the location")
    local_time: LocalTime = Field(description="The start's wall-clock time at the location")
    duration: int
    type: AppointmentType
    status: AppointmentStatus
    reason: str | None
    notes: str | None
    confirmed_at: UtcDateTime | None
    checked_in_at: UtcDateTime | None
    completed_at: UtcDateTime | None
    cancelled_at: UtcDateTime | None
    cancelled_by: str | None
    cancellation_reason: str | None
    no_show_at: UtcDateTime | None
    created_at: UtcDateTime
    created_by: str
    updated_at: UtcDateTime
    updated_by: str | None


class AppointmentDetail(AppointmentRead):
    """One appointment, with every change of its status (lists leave the history out)."""

    status_history: list[StatusChangeRead]


# --- the day schedule (GET /providers/{id}/schedule), exactly the document's shape ----------

class BreakWindow(ApiModel):
    start: LocalTime
    end: LocalTime


class ScheduleHours(ApiModel):
    start: LocalTime
    end: LocalTime
    break_: BreakWindow | None = Field(None, alias="break")


class ScheduledVisit(ApiModel):
    time: LocalTime
    duration: int
    patient_id: str
    type: AppointmentType
    status: AppointmentStatus


class DaySchedule(ApiModel):
    working_hours: ScheduleHours | None = Field(
        description="Null when the provider does not work that day (there)")
    appointments: list[ScheduledVisit]
    available_slots: list[LocalTime] = Field(
        description="30-minute starts inside the hours, outside the break, not booked, "
                    "not in the past")


class ProviderSchedule(ApiModel):
    provider_id: str
    date: IsoDate
    location: str | None
    schedule: DaySchedule
