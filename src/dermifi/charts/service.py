"""The chart read, changes that answer with the chart, and deactivation's cascade; each is one
unit of work, so the chart a change answers is the one it committed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit import service as audit_service
from dermifi.auth.actor import Actor
from dermifi.core.clock import as_utc
from dermifi.core.context import current_clock
from dermifi.core.db import unit_of_work
from dermifi.notes import service as notes_service
from dermifi.patients import policies as patient_policies
from dermifi.patients import service as patients_service
from dermifi.patients.models import Patient
from dermifi.patients.schemas import DeactivateRequest, PatientUpdate
from dermifi.providers import service as providers_service
from dermifi.scheduling import service as scheduling_service

INCLUDABLE = ("appointments", "prescriptions", "notes")


@dataclass(frozen=True)
class Chart:
    patient: Patient
    age: int
    last_visit: datetime | None
    next_appointment: datetime | None
    included: dict[str, list[dict[str, Any]]]
    provider: tuple[str, str] | None = None  # id, display name


# What the domains say of a patient, in one statement: one round trip, not one each. Built
# once (it runs on every chart read); the values are bound per read.
_FACTS = select(
    notes_service.last_visit_of(bindparam("patient_id")),
    scheduling_service.last_completed_of(bindparam("patient_id")),
    scheduling_service.next_appointment_of(bindparam("patient_id"), after=bindparam("now")),
    *providers_service.reference_of(bindparam("provider_id")),
)


async def _compose(session: AsyncSession, actor: Actor, patient: Patient,
                   include: Sequence[str]) -> Chart:
    provider_id = patient.primary_provider_id
    row = (await session.execute(_FACTS, {
        "patient_id": patient.id, "now": current_clock().now(), "provider_id": provider_id,
    })).one()
    last_signed, last_completed, next_appointment, *provider_values = row
    # The latest visit: a signed note, or a completed appointment without one yet.
    visits = [as_utc(v) for v in (last_signed, last_completed) if v is not None]
    included: dict[str, list[dict[str, Any]]] = {}
    if "notes" in include:
        included["notes"] = await notes_service.notes_for_chart(session, actor,
                                                                patient=patient)
    if "appointments" in include:
        included["appointments"] = [
            a.model_dump() for a in await scheduling_service.chart_appointments(
                session, actor, patient_id=patient.id)]
    if "prescriptions" in include:
        included["prescriptions"] = []  # the prescribing domain fills this when it lands
    return Chart(
        patient=patient,
        age=patients_service.age_on(patient.date_of_birth, current_clock().now().date()),
        last_visit=max(visits, default=None),
        next_appointment=as_utc(next_appointment) if next_appointment is not None else None,
        included=included,
        provider=(providers_service.reference_from(provider_id, *provider_values)
                  if provider_id else None))


async def read_chart(session: AsyncSession, actor: Actor, *, patient: Patient,
                     include: Sequence[str] = ()) -> Chart:
    patient_policies.ensure_can_read_demographics(actor)
    if "notes" in include:
        # Asking for what the role may not read at all is refused, not answered as empty:
        # an empty list would claim the patient has no notes.
        patient_policies.ensure_can_read_clinical(actor)
    async with unit_of_work(session):
        chart = await _compose(session, actor, patient, include)
        await audit_service.record(session, actor, "patient.read", resource_type="patient",
                                   resource_id=patient.id, patient_id=patient.id,
                                   details={"include": sorted(include)})
    return chart


async def update(session: AsyncSession, actor: Actor, *, patient: Patient, data: PatientUpdate,
                 if_match: str | None) -> Chart:
    async with unit_of_work(session):
        updated = await patients_service.update_patient(session, actor, patient=patient,
                                                        data=data, if_match=if_match)
        return await read_chart(session, actor, patient=updated)


async def verify_insurance(session: AsyncSession, actor: Actor, *, patient: Patient,
                           if_match: str | None) -> Chart:
    async with unit_of_work(session):
        verified = await patients_service.verify_insurance(session, actor, patient=patient,
                                                           if_match=if_match)
        return await read_chart(session, actor, patient=verified)


async def deactivate(session: AsyncSession, actor: Actor, *, patient: Patient,
                     data: DeactivateRequest, if_match: str | None) -> Patient:
    """Deactivate the patient and, in the same transaction, release what the patient held:
    upcoming appointments now; pending refills and open orders when those domains land."""
    async with unit_of_work(session):
        inactive = await patients_service.deactivate_patient(
            session, actor, patient=patient, data=data, if_match=if_match)
        # An inactive patient keeps no place in the book: the times are freed for others.
        released = await scheduling_service.cancel_upcoming_of(
            session, actor, patient_id=patient.id, reason="Patient deactivated")
        await audit_service.record(session, actor, "patient.deactivate.cascade",
                                   resource_type="patient", resource_id=patient.id,
                                   patient_id=patient.id,
                                   details={"cancelledAppointments": released})
    return inactive
