"""Patient charts: registration, reads, partial updates, deactivation, history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit import service as audit_service
from dermifi.auth.actor import Actor
from dermifi.core.context import current_clock
from dermifi.core.db import unit_of_work
from dermifi.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from dermifi.core.fields import digits_of
from dermifi.core.filtering import SortOrder
from dermifi.core.ids import new_id
from dermifi.core.pagination import PageRequest, Pagination
from dermifi.core.sequences import next_number
from dermifi.patients import policies
from dermifi.patients.models import ACTIVE, Patient
from dermifi.patients.repository import PatientRepository
from dermifi.patients.schemas import (
    DeactivateRequest,
    PatientCreate,
    PatientRead,
    PatientUpdate,
)
from dermifi.providers import service as providers_service

RETENTION_YEARS = 7


def _identity_key(first_name: str, last_name: str, date_of_birth: date) -> str:
    return f"{first_name.strip().lower()}|{last_name.strip().lower()}|{date_of_birth.isoformat()}"


def _insurance(data: Any) -> dict[str, Any] | None:
    if data is None:
        return None
    value = data.model_dump(mode="json")
    # A new or changed policy is unverified until someone checks it with the payer.
    value.update(verified=False, verified_at=None)
    return dict(value)


def age_on(date_of_birth: date, today: date) -> int:
    return today.year - date_of_birth.year - (
        (today.month, today.day) < (date_of_birth.month, date_of_birth.day))


def _check_birth_date(value: date | None) -> None:
    if value is not None and value > current_clock().now().date():
        raise ValidationFailed(details=[{"field": "dateOfBirth",
                                         "message": "Date of birth is in the future"}])


async def _ensure_unique(session: AsyncSession, *, email_key: str | None, identity_key: str,
                         exclude_id: str | None = None) -> None:
    # No autoflush: a pending change of the patient itself must not be written (and its
    # version bumped) before the change is complete.
    with session.no_autoflush:
        clashes = await PatientRepository(session).find_active_duplicate(
            email_key=email_key, identity_key=identity_key, exclude_id=exclude_id)
    if clashes:
        details = []
        if "email" in clashes:
            details.append({"field": "email",
                            "message": "Another active patient has this email"})
        if "identity" in clashes:
            details.append({"field": "dateOfBirth", "message": "An active patient with this "
                            "name and date of birth already exists"})
        raise Conflict("A matching active patient already exists", details=details)


def registered(patient: Patient, provider: tuple[str, str] | None) -> PatientRead:
    """A new patient as the create answers it: no visit and no appointment yet."""
    return PatientRead.of(patient, age=age_on(patient.date_of_birth, patient.created_at.date()),
                          provider=provider)


async def provider_ref(session: AsyncSession, patient: Patient) -> tuple[str, str] | None:
    """The chart's `provider`: the primary provider's id and display name."""
    if patient.primary_provider_id is None:
        return None
    return await providers_service.reference(session, patient.primary_provider_id)


async def active_patient(session: AsyncSession, patient_id: str, *, field: str,
                         share_lock: bool = False) -> Patient:
    """A patient of the practice who is active, for another domain to attach something to
    (an appointment, a prescription); NOT_FOUND or INVALID_STATE naming ``field``.

    ``share_lock``: hold the row against a deactivation (which would cancel what is being
    attached) until the transaction ends, without blocking other holders."""
    patient = await PatientRepository(session).get(
        patient_id, lock="share" if share_lock else None)
    if patient is None:
        raise NotFound("No such patient", details=[{"field": field,
                                                    "message": "No such patient"}])
    if patient.status != ACTIVE:
        raise InvalidState("The patient is inactive", details=[{"field": field,
                                                               "message": "Inactive"}])
    return patient


async def list_patients(
    session: AsyncSession, actor: Actor, *, page: PageRequest, search: str | None,
    status: str | None, sort_by: str, order: SortOrder,
) -> tuple[Sequence[Patient], Pagination]:
    policies.ensure_can_read_demographics(actor)
    async with unit_of_work(session):
        repository = PatientRepository(session)
        if search:
            await repository.plan_for_each_search()
            ids, pagination = await repository.page(repository.search_statement(
                search=search, status=status, sort_by=sort_by, order=order), page,
                total_in_rows=True)
        else:
            # Kept by every patient write: one row read instead of a count over all of them.
            ids, pagination = await repository.page(repository.list_statement(
                status=status, sort_by=sort_by, order=order), page,
                total=await repository.count_with_status(status))
        patients = await repository.get_many_readable(actor, ids)
        # The search text itself may be a name: record that a search ran, never its words.
        await audit_service.record(
            session, actor, "patient.list", resource_type="patient",
            details={"search": bool(search), "status": status, "sortBy": sort_by,
                     "page": page.page, "returned": len(patients),
                     "patientIds": [p.id for p in patients]})
    return patients, pagination


async def create_patient(session: AsyncSession, actor: Actor, *, data: PatientCreate
                         ) -> Patient:
    policies.ensure_can_edit_demographics(actor)
    _check_birth_date(data.date_of_birth)
    now = current_clock().now()
    email_key = str(data.email).lower() if data.email else None
    identity_key = _identity_key(data.first_name, data.last_name, data.date_of_birth)
    async with unit_of_work(session):
        await _ensure_unique(session, email_key=email_key, identity_key=identity_key)
        if data.primary_provider_id is not None:
            await providers_service.verified_provider(
                session, data.primary_provider_id, field="primaryProviderId")
        number = await next_number(session, practice_id=actor.practice_id, name="patient",
                                   year=now.year)
        patient = Patient(
            id=new_id("pat"), practice_id=actor.practice_id,
            patient_number=f"P-{now.year}-{number:04d}",
            first_name=data.first_name, last_name=data.last_name,
            email=str(data.email) if data.email else None, email_key=email_key,
            phone=data.phone, phone_digits=digits_of(data.phone),
            date_of_birth=data.date_of_birth, gender=data.gender, identity_key=identity_key,
            address=data.address.model_dump(mode="json") if data.address else None,
            emergency_contact=(data.emergency_contact.model_dump(mode="json")
                               if data.emergency_contact else None),
            insurance=_insurance(data.insurance),
            allergies=list(data.allergies), medications=list(data.medications),
            conditions=list(data.conditions), primary_provider_id=data.primary_provider_id,
            consent_to_treat=True, hipaa_consent=True, consented_at=now, status=ACTIVE,
            created_at=now, created_by=actor.id, updated_at=now, updated_by=actor.id,
        )
        session.add(patient)
        await session.flush()
        await audit_service.record(session, actor, "patient.create", resource_type="patient",
                                   resource_id=patient.id, patient_id=patient.id)
    return patient


async def update_patient(session: AsyncSession, actor: Actor, *, patient: Patient,
                         data: PatientUpdate, if_match: str | None) -> Patient:
    policies.ensure_can_edit_demographics(actor)
    changes = data.model_dump(exclude_unset=True)
    if data.date_of_birth is not None:
        _check_birth_date(data.date_of_birth)
    async with unit_of_work(session):
        await PatientRepository(session).lock_for_change(patient, if_match)
        for field in ("first_name", "last_name", "date_of_birth", "gender", "allergies",
                      "medications", "conditions"):
            if field in changes:
                setattr(patient, field, getattr(data, field))
        if "email" in changes:
            patient.email = str(data.email) if data.email else None
            patient.email_key = patient.email.lower() if patient.email else None
        if "phone" in changes:
            patient.phone = data.phone
            patient.phone_digits = digits_of(data.phone)
        if "address" in changes:
            patient.address = data.address.model_dump(mode="json") if data.address else None
        if "emergency_contact" in changes:
            patient.emergency_contact = (data.emergency_contact.model_dump(mode="json")
                                         if data.emergency_contact else None)
        if "insurance" in changes:
            patient.insurance = _insurance(data.insurance)
        if "primary_provider_id" in changes:
            if data.primary_provider_id is not None:
                await providers_service.verified_provider(
                session, data.primary_provider_id, field="primaryProviderId")
            patient.primary_provider_id = data.primary_provider_id
        patient.identity_key = _identity_key(patient.first_name, patient.last_name,
                                             patient.date_of_birth)
        if patient.status == ACTIVE and changes.keys() & {
                "email", "first_name", "last_name", "date_of_birth"}:
            await _ensure_unique(session, email_key=patient.email_key,
                                 identity_key=patient.identity_key, exclude_id=patient.id)
        patient.stamp_updated(actor.id, current_clock().now())
        await session.flush()
        await audit_service.record(
            session, actor, "patient.update", resource_type="patient", resource_id=patient.id,
            patient_id=patient.id, details={"fields": audit_service.changed_fields(changes)})
    return patient


async def deactivate_patient(session: AsyncSession, actor: Actor, *, patient: Patient,
                             data: DeactivateRequest, if_match: str | None) -> Patient:
    policies.ensure_can_edit_demographics(actor)
    async with unit_of_work(session):
        await PatientRepository(session).lock_for_change(patient, if_match)
        if patient.status == "inactive":
            raise InvalidState("The patient is already inactive")
        now = current_clock().now()
        patient.status = "inactive"
        patient.deactivated_at = now
        patient.deactivated_by = actor.id
        patient.deactivation_reason = data.reason
        patient.deactivation_notes = data.notes
        patient.data_retention_date = _add_years(now, RETENTION_YEARS)
        patient.stamp_updated(actor.id, now)
        await session.flush()
        # What the patient held elsewhere (appointments, ...) is released by the caller,
        # charts.service.deactivate, in this same unit of work.
        await audit_service.record(session, actor, "patient.deactivate",
                                   resource_type="patient", resource_id=patient.id,
                                   patient_id=patient.id, details={"reason": data.reason})
    return patient


async def verify_insurance(session: AsyncSession, actor: Actor, *, patient: Patient,
                           if_match: str | None) -> Patient:
    policies.ensure_can_edit_demographics(actor)
    async with unit_of_work(session):
        await PatientRepository(session).lock_for_change(patient, if_match)
        if not patient.insurance:
            raise InvalidState("The patient has no insurance on file")
        now = current_clock().now()
        patient.insurance = {**patient.insurance, "verified": True,
                             "verified_at": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
        patient.stamp_updated(actor.id, now)
        await session.flush()
        await audit_service.record(session, actor, "patient.insurance.verify",
                                   resource_type="patient", resource_id=patient.id,
                                   patient_id=patient.id)
    return patient


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)
