"""Patient charts: registration, reads, partial updates, deactivation, history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit import service as audit_service
from dermifi.auth.actor import Actor
from dermifi.core.concurrency import check_if_match
from dermifi.core.context import current_clock
from dermifi.core.db import unit_of_work
from dermifi.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from dermifi.core.fields import digits_of
from dermifi.core.filtering import SortOrder
from dermifi.core.ids import new_id
from dermifi.core.pagination import PageRequest, Pagination, paginate
from dermifi.core.sequences import next_number
from dermifi.patients import policies, repository
from dermifi.patients.models import ACTIVE, Patient
from dermifi.patients.schemas import DeactivateRequest, PatientCreate, PatientUpdate
from dermifi.providers import repository as providers_repository
from dermifi.providers.models import ACTIVE as PROVIDER_ACTIVE
from dermifi.providers.models import Provider

RETENTION_YEARS = 7
INCLUDABLE = ("appointments", "prescriptions", "notes")


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
        clashes = await repository.find_active_duplicate(
            session, email_key=email_key, identity_key=identity_key, exclude_id=exclude_id)
    if clashes:
        details = []
        if "email" in clashes:
            details.append({"field": "email",
                            "message": "Another active patient has this email"})
        if "identity" in clashes:
            details.append({"field": "dateOfBirth", "message": "An active patient with this "
                            "name and date of birth already exists"})
        raise Conflict("A matching active patient already exists", details=details)


async def _primary_provider(session: AsyncSession, provider_id: str) -> Provider:
    provider = await providers_repository.get(session, provider_id)
    if provider is None:
        raise NotFound("No such provider", details=[{"field": "primaryProviderId",
                                                     "message": "No such provider"}])
    if provider.status != PROVIDER_ACTIVE:
        raise InvalidState("The provider is not verified yet", details=[
            {"field": "primaryProviderId", "message": "Not active"}])
    return provider


async def provider_ref(session: AsyncSession, patient: Patient) -> tuple[str, str] | None:
    """The chart's `provider`: the primary provider's id and display name."""
    if patient.primary_provider_id is None:
        return None
    provider = await providers_repository.get(session, patient.primary_provider_id)
    return (provider.id, provider.display_name) if provider is not None else None


async def list_patients(
    session: AsyncSession, actor: Actor, *, page: PageRequest, search: str | None,
    status: str | None, sort_by: str, order: SortOrder,
) -> tuple[Sequence[Patient], Pagination]:
    policies.ensure_can_read_demographics(actor)
    async with unit_of_work(session):
        if search:
            await repository.plan_for_each_search(session)
            ids, pagination = await paginate(session, repository.search_statement(
                search=search, status=status, sort_by=sort_by, order=order), page,
                total_in_rows=True)
        else:
            # Kept by every patient write: one row read instead of a count over all of them.
            ids, pagination = await paginate(session, repository.list_statement(
                status=status, sort_by=sort_by, order=order), page,
                total=await repository.count_with_status(session, status))
        patients = await repository.get_many(session, ids)
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
            await _primary_provider(session, data.primary_provider_id)
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


@dataclass(frozen=True)
class Chart:
    patient: Patient
    age: int
    last_visit: datetime | None
    next_appointment: datetime | None
    included: dict[str, list[dict[str, Any]]]
    provider: tuple[str, str] | None = None  # id, display name


async def read_chart(session: AsyncSession, actor: Actor, *, patient: Patient,
                     include: Sequence[str] = ()) -> Chart:
    # Imported here: those domains build on patients (they import this package).
    from dermifi.notes import service as notes_service
    from dermifi.scheduling import service as scheduling_service

    policies.ensure_can_read_demographics(actor)
    if "notes" in include:
        # Asking for what the role may not read at all is refused, not answered as empty:
        # an empty list would claim the patient has no notes.
        policies.ensure_can_read_clinical(actor)
    included: dict[str, list[dict[str, Any]]] = {}
    async with unit_of_work(session):
        # The latest visit: a signed note, or a completed appointment without one yet.
        visits = [await notes_service.last_visit_at(session, patient_id=patient.id),
                  await scheduling_service.last_completed_at(session, patient_id=patient.id)]
        last_visit = max((v for v in visits if v is not None), default=None)
        next_appointment = await scheduling_service.next_appointment_at(
            session, patient_id=patient.id)
        provider = await provider_ref(session, patient)
        if "notes" in include:
            included["notes"] = await notes_service.notes_for_chart(session, actor,
                                                                    patient=patient)
        if "appointments" in include:
            included["appointments"] = [
                a.model_dump() for a in await scheduling_service.chart_appointments(
                    session, actor, patient_id=patient.id)]
        if "prescriptions" in include:
            included["prescriptions"] = []
        await audit_service.record(session, actor, "patient.read", resource_type="patient",
                                   resource_id=patient.id, patient_id=patient.id,
                                   details={"include": sorted(include)})
    today = current_clock().now().date()
    return Chart(patient, age_on(patient.date_of_birth, today), last_visit, next_appointment,
                 included, provider)


async def update_patient(session: AsyncSession, actor: Actor, *, patient: Patient,
                         data: PatientUpdate, if_match: str | None) -> Patient:
    policies.ensure_can_edit_demographics(actor)
    changes = data.model_dump(exclude_unset=True)
    if data.date_of_birth is not None:
        _check_birth_date(data.date_of_birth)
    async with unit_of_work(session):
        # Re-read under the row lock: the version compared is the one this change replaces.
        await session.refresh(patient, with_for_update=True)
        check_if_match(if_match, patient.version)
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
                await _primary_provider(session, data.primary_provider_id)
            patient.primary_provider_id = data.primary_provider_id
        patient.identity_key = _identity_key(patient.first_name, patient.last_name,
                                             patient.date_of_birth)
        if patient.status == ACTIVE and changes.keys() & {
                "email", "first_name", "last_name", "date_of_birth"}:
            await _ensure_unique(session, email_key=patient.email_key,
                                 identity_key=patient.identity_key, exclude_id=patient.id)
        patient.updated_at = current_clock().now()
        patient.updated_by = actor.id
        await session.flush()
        await audit_service.record(
            session, actor, "patient.update", resource_type="patient", resource_id=patient.id,
            patient_id=patient.id, details={"fields": sorted(_camel(f) for f in changes)})
    return patient


async def deactivate_patient(session: AsyncSession, actor: Actor, *, patient: Patient,
                             data: DeactivateRequest, if_match: str | None) -> Patient:
    from dermifi.scheduling import service as scheduling_service

    policies.ensure_can_edit_demographics(actor)
    async with unit_of_work(session):
        # Re-read under the row lock: the version compared is the one this change replaces.
        await session.refresh(patient, with_for_update=True)
        check_if_match(if_match, patient.version)
        if patient.status == "inactive":
            raise InvalidState("The patient is already inactive")
        now = current_clock().now()
        patient.status = "inactive"
        patient.deactivated_at = now
        patient.deactivated_by = actor.id
        patient.deactivation_reason = data.reason
        patient.deactivation_notes = data.notes
        patient.data_retention_date = _add_years(now, RETENTION_YEARS)
        patient.updated_at = now
        patient.updated_by = actor.id
        await session.flush()
        # An inactive patient keeps no place in the book: the times are freed for others.
        released = await scheduling_service.cancel_upcoming_of(
            session, actor, patient_id=patient.id, reason="Patient deactivated")
        await audit_service.record(session, actor, "patient.deactivate",
                                   resource_type="patient", resource_id=patient.id,
                                   patient_id=patient.id,
                                   details={"reason": data.reason,
                                            "cancelledAppointments": released})
    return patient


async def verify_insurance(session: AsyncSession, actor: Actor, *, patient: Patient,
                           if_match: str | None) -> Patient:
    policies.ensure_can_edit_demographics(actor)
    async with unit_of_work(session):
        # Re-read under the row lock: the version compared is the one this change replaces.
        await session.refresh(patient, with_for_update=True)
        check_if_match(if_match, patient.version)
        if not patient.insurance:
            raise InvalidState("The patient has no insurance on file")
        now = current_clock().now()
        patient.insurance = {**patient.insurance, "verified": True,
                             "verified_at": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
        patient.updated_at = now
        patient.updated_by = actor.id
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


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def day_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Whole days in UTC: from 00:00:00 of the start date to 23:59:59 of the end date."""
    from datetime import UTC

    low = datetime.combine(start, time.min, tzinfo=UTC) if start else None
    high = (datetime.combine(end, time.min, tzinfo=UTC) + timedelta(days=1, seconds=-1)
            if end else None)
    return low, high
