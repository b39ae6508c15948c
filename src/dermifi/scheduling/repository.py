"""Appointment queries. Practice scoping is applied by the session, like every query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from dermifi.auth.actor import Actor
from dermifi.core.repository import Repository
from dermifi.scheduling.models import RELEASED, UPCOMING, Appointment, AppointmentStatusChange


class AppointmentRepository(Repository[Appointment, Actor]):
    """The book is the same for every role that reads it, so ``readable`` is the base's."""

    model = Appointment
    not_found = "No such appointment"

    def list_statement(self, actor: Actor, *, provider_id: str | None, patient_id: str | None,
                       location_id: str | None, status: str | None,
                       starts_from: datetime | None, starts_before: datetime | None
                       ) -> Select[Any]:
        """By start, ties by id (pages never repeat or skip a row)."""
        stmt = self.readable(actor)
        if provider_id is not None:
            stmt = stmt.where(Appointment.provider_id == provider_id)
        if patient_id is not None:
            stmt = stmt.where(Appointment.patient_id == patient_id)
        if location_id is not None:
            stmt = stmt.where(Appointment.location_id == location_id)
        if status is not None:
            stmt = stmt.where(Appointment.status == status)
        if starts_from is not None:
            stmt = stmt.where(Appointment.starts_at >= starts_from)
        if starts_before is not None:
            stmt = stmt.where(Appointment.starts_at < starts_before)
        return stmt.order_by(Appointment.starts_at, Appointment.id)

    async def holding_time(self, *, start: datetime, end: datetime,
                           provider_id: str | None = None, patient_id: str | None = None,
                           exclude_id: str | None = None) -> Sequence[Appointment]:
        """The provider's (or patient's) appointments holding time overlapping [start, end)."""
        stmt = select(Appointment).where(
            Appointment.status.not_in(RELEASED), Appointment.starts_at < end,
            Appointment.ends_at > start)
        if provider_id is not None:
            stmt = stmt.where(Appointment.provider_id == provider_id)
        if patient_id is not None:
            stmt = stmt.where(Appointment.patient_id == patient_id)
        if exclude_id is not None:
            stmt = stmt.where(Appointment.id != exclude_id)
        return (await self.session.scalars(stmt.order_by(Appointment.starts_at))).all()

    async def of_provider_between(self, provider_id: str, *, start: datetime,
                                  end: datetime) -> Sequence[Appointment]:
        """Every appointment of the provider starting in [start, end), cancelled ones too."""
        return (await self.session.scalars(
            select(Appointment).where(Appointment.provider_id == provider_id,
                                      Appointment.starts_at >= start,
                                      Appointment.starts_at < end)
            .order_by(Appointment.starts_at, Appointment.id))).all()

    async def of_patient(self, patient_id: str) -> Sequence[Appointment]:
        """The patient's appointments, latest start first."""
        return (await self.session.scalars(
            select(Appointment).where(Appointment.patient_id == patient_id)
            .order_by(Appointment.starts_at.desc(), Appointment.id.desc()))).all()

    async def upcoming_of_patient(self, patient_id: str, *,
                                  for_update: bool = False) -> Sequence[Appointment]:
        """The patient's scheduled and confirmed appointments, whenever they start."""
        stmt = select(Appointment).where(Appointment.patient_id == patient_id,
                                         Appointment.status.in_(UPCOMING))
        if for_update:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        stmt = stmt.order_by(Appointment.starts_at, Appointment.id)
        return (await self.session.scalars(stmt)).all()

    async def next_start(self, patient_id: str, *, after: datetime
                         ) -> datetime | None:
        value: datetime | None = await self.session.scalar(next_start_of(patient_id, after))
        return value

    async def last_completed_start(self, patient_id: str) -> datetime | None:
        value: datetime | None = await self.session.scalar(last_completed_start_of(patient_id))
        return value

    async def status_history(self, appointment_id: str) -> Sequence[AppointmentStatusChange]:
        """Every change of the appointment's status, oldest first."""
        return (await self.session.scalars(
            select(AppointmentStatusChange)
            .where(AppointmentStatusChange.appointment_id == appointment_id)
            .order_by(AppointmentStatusChange.version))).all()


# The patient is a value or a column of an enclosing statement (the chart's, read at once).

def next_start_of(patient_id: Any, after: Any) -> Select[Any]:
    """When the patient's next upcoming appointment starts."""
    return select(func.min(Appointment.starts_at)).where(
        Appointment.patient_id == patient_id, Appointment.status.in_(UPCOMING),
        Appointment.starts_at > after)


def last_completed_start_of(patient_id: Any) -> Select[Any]:
    """When the patient's latest completed appointment started."""
    return select(func.max(Appointment.starts_at)).where(
        Appointment.patient_id == patient_id, Appointment.status == "completed")
