from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from dermifi.auth.dependencies import CurrentUser
from dermifi.auth.idempotency import idempotent
from dermifi.core.concurrency import with_etag
from dermifi.core.deps import DbSession
from dermifi.core.errors import error_responses
from dermifi.core.filtering import SortOrder
from dermifi.core.pagination import Page, PageParams
from dermifi.core.responses import ModelResponse
from dermifi.patients import service
from dermifi.patients.schemas import (
    PatientCreate,
    PatientRead,
    PatientStatus,
    PatientSummary,
)

router = APIRouter(prefix="/patients", tags=["patients"])


@router.get("", response_model=Page[PatientSummary], responses=error_responses())
async def list_patients(
    session: DbSession, actor: CurrentUser, page: PageParams,
    search: Annotated[str | None, Query(min_length=1, max_length=100,
                                        description="Name, email, or phone digits")] = None,
    status_filter: Annotated[PatientStatus | None, Query(alias="status")] = None,
    sort_by: Annotated[Literal["lastName", "firstName", "createdAt"],
                       Query(alias="sortBy")] = "lastName",
    order: SortOrder = "asc",
) -> JSONResponse:
    """Patients of the caller's practice, paginated, stably ordered (ties by id)."""
    patients, pagination = await service.list_patients(
        session, actor, page=page, search=search, status=status_filter, sort_by=sort_by,
        order=order)
    return ModelResponse(Page[PatientSummary](
        data=[PatientSummary.model_validate(p) for p in patients], pagination=pagination))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PatientRead,
             responses=error_responses(404, 409))
@idempotent
async def create_patient(body: PatientCreate, session: DbSession, actor: CurrentUser
                         ) -> JSONResponse:
    """Register a patient. Both consents must be true; `patientNumber` is assigned."""
    patient = await service.create_patient(session, actor, data=body)
    read = service.registered(patient, await service.provider_ref(session, patient))
    return with_etag(read, version=patient.version, status_code=201,
                     headers={"Location": f"/v1/patients/{patient.id}"})
