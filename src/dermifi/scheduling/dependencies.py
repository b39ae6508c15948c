"""Path objects: the appointment a URL names, loaded once per request with visibility applied."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from dermifi.auth.dependencies import CurrentUser
from dermifi.core.deps import DbSession
from dermifi.scheduling import service

AppointmentId = Annotated[str, Path(max_length=64, description="An appointment id (appt_...)")]


async def readable_appointment(appointment_id: AppointmentId, session: DbSession,
                               actor: CurrentUser) -> service.Booking:
    return await service.get_readable(session, actor, appointment_id=appointment_id)


ReadableAppointment = Annotated[service.Booking, Depends(readable_appointment)]
