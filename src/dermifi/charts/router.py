"""The patient routes that answer with the chart or the history: what the clinical domains
say of the patient, composed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse

from dermifi.auth.dependencies import CurrentUser
from dermifi.charts import history as history_service
from dermifi.charts import service
from dermifi.charts.schemas import PatientChart, PatientHistory
from dermifi.core.concurrency import IfMatchHeader, with_etag
from dermifi.core.deps import DbSession
from dermifi.core.errors import ValidationFailed, error_responses
from dermifi.core.schemas import IsoDate
from dermifi.patients.dependencies import ClinicalPatient, ReadablePatient
from dermifi.patients.models import Patient
from dermifi.patients.schemas import (
    DeactivatedPatient,
    DeactivateRequest,
    PatientUpdate,
)

router = APIRouter(prefix="/patients", tags=["patients"])


def _read(chart: service.Chart) -> PatientChart:
    return PatientChart.of(chart.patient, age=chart.age, provider=chart.provider,
                           last_visit=chart.last_visit,
                           next_appointment=chart.next_appointment, **chart.included)


def _chart_response(chart: service.Chart, status_code: int = 200,
                    headers: dict[str, str] | None = None) -> JSONResponse:
    # An include that was not asked for is absent, not null.
    return with_etag(_read(chart), version=chart.patient.version, status_code=status_code,
                     headers=headers,
                     exclude={n for n in service.INCLUDABLE if n not in chart.included})


_INCLUDABLE = "|".join(service.INCLUDABLE)
# Exactly what _parse_include accepts, stated in the schema.
INCLUDE_PATTERN = f"^({_INCLUDABLE})(,({_INCLUDABLE}))*$"


def _parse_include(include: str | None) -> list[str]:
    if include is None:
        return []
    names = include.split(",")
    unknown = [n for n in names if n not in service.INCLUDABLE]
    if unknown:
        raise ValidationFailed(details=[{"field": "include", "message": "Unknown: "
                                         + ", ".join(unknown) + " (allowed: "
                                         + ", ".join(service.INCLUDABLE) + ")"}])
    return names


@router.get("/{patient_id}", response_model=PatientChart, responses=error_responses(404))
async def get_patient(
    patient: ReadablePatient, session: DbSession, actor: CurrentUser,
    include: Annotated[str | None, Query(max_length=100, description=(
        "Comma list of appointments, prescriptions, notes"),
        json_schema_extra={"pattern": INCLUDE_PATTERN})] = None,
) -> JSONResponse:
    """A patient's chart, with computed `age`, `lastVisit`, `nextAppointment` and `provider`.
    Answers an `ETag` to send back as `If-Match` on PATCH and DELETE."""
    chart = await service.read_chart(session, actor, patient=patient,
                                     include=_parse_include(include))
    return _chart_response(chart)


@router.patch("/{patient_id}", response_model=PatientChart,
              responses=error_responses(404, 409, 412))
async def update_patient(body: PatientUpdate, patient: ReadablePatient, session: DbSession,
                         actor: CurrentUser, if_match: IfMatchHeader = None) -> JSONResponse:
    """Partial update; `address` and `insurance` replace as a whole, and a changed insurance
    is unverified again. With `If-Match`, a stale version is refused (412)."""
    return _chart_response(await service.update(session, actor, patient=patient, data=body,
                                                if_match=if_match))


@router.delete("/{patient_id}", response_model=DeactivatedPatient,
               responses=error_responses(404, 409, 412))
async def deactivate_patient(
    patient: ReadablePatient, session: DbSession, actor: CurrentUser,
    body: Annotated[DeactivateRequest | None, Body()] = None, if_match: IfMatchHeader = None,
) -> DeactivatedPatient:
    """Deactivate (never erase): the chart stays readable; it is kept for 7 years."""
    done = await service.deactivate(session, actor, patient=patient,
                                    data=body or DeactivateRequest(), if_match=if_match)
    return _deactivated(done)


def _deactivated(patient: Patient) -> DeactivatedPatient:
    return DeactivatedPatient.model_validate({
        "id": patient.id, "status": "inactive", "deactivated_at": patient.deactivated_at,
        "deactivated_by": patient.deactivated_by, "reason": patient.deactivation_reason,
        "notes": patient.deactivation_notes,
        "data_retention_date": patient.data_retention_date})


@router.post("/{patient_id}/insurance/verify", response_model=PatientChart,
             responses=error_responses(404, 409, 412))
async def verify_insurance(patient: ReadablePatient, session: DbSession, actor: CurrentUser,
                           if_match: IfMatchHeader = None) -> JSONResponse:
    """Record that the insurance on file was verified with the payer (`verified`,
    `verifiedAt`)."""
    return _chart_response(await service.verify_insurance(session, actor, patient=patient,
                                                          if_match=if_match))


@router.get("/{patient_id}/history", response_model=PatientHistory,
            responses=error_responses(404))
async def patient_history(
    patient: ClinicalPatient, session: DbSession, actor: CurrentUser,
    start_date: Annotated[IsoDate | None, Query(alias="startDate")] = None,
    end_date: Annotated[IsoDate | None, Query(alias="endDate")] = None,
    kind: Annotated[history_service.HistoryType, Query(alias="type")] = "all",
) -> PatientHistory:
    """Visits (signed notes), prescriptions, labs and imaging, newest first."""
    result = await history_service.patient_history(
        session, actor, patient=patient, start_date=start_date, end_date=end_date, kind=kind)
    return PatientHistory.model_validate(result)


