"""Path objects: the patient a URL names, loaded once per request with visibility applied."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from dermifi.auth.dependencies import CurrentUser
from dermifi.core.deps import DbSession
from dermifi.patients import policies
from dermifi.patients.models import Patient
from dermifi.patients.repository import PatientRepository

PatientId = Annotated[str, Path(max_length=64, description="A patient id (pat_...)")]


async def readable_patient(patient_id: PatientId, session: DbSession,
                           actor: CurrentUser) -> Patient:
    """The patient, if the caller may see charts at all (else FORBIDDEN) and it exists in the
    caller's practice (else NOT_FOUND, the same as for an id that does not exist)."""
    policies.ensure_can_read_demographics(actor)
    return await PatientRepository(session).get_readable(actor, patient_id)


async def clinical_patient(patient: Annotated[Patient, Depends(readable_patient)],
                           actor: CurrentUser) -> Patient:
    """The patient, for the clinical record (notes, photos, history): no front desk."""
    policies.ensure_can_read_clinical(actor)
    return patient


ReadablePatient = Annotated[Patient, Depends(readable_patient)]
ClinicalPatient = Annotated[Patient, Depends(clinical_patient)]
