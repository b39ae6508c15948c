from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from dermifi.auth.dependencies import CurrentUser, RequireAdmin
from dermifi.core.concurrency import IfMatchHeader, with_etag
from dermifi.core.deps import DbSession
from dermifi.core.errors import error_responses
from dermifi.core.fields import ZipCode
from dermifi.core.pagination import PageParams
from dermifi.pharmacies import service
from dermifi.pharmacies.dependencies import ReadablePharmacy
from dermifi.pharmacies.models import Pharmacy
from dermifi.pharmacies.schemas import (
    NcpdpId,
    PharmacyCreate,
    PharmacyList,
    PharmacyRead,
    PharmacyUpdate,
)

router = APIRouter(prefix="/pharmacies", tags=["pharmacies"])


def _response(pharmacy: Pharmacy, status_code: int = 200,
              headers: dict[str, str] | None = None) -> JSONResponse:
    return with_etag(PharmacyRead.model_validate(pharmacy), version=pharmacy.version,
                     status_code=status_code, headers=headers)


@router.get("", response_model=PharmacyList, responses=error_responses())
async def list_pharmacies(
    session: DbSession, actor: CurrentUser, page: PageParams,
    search: Annotated[str | None, Query(min_length=1, max_length=100, description=(
        "A prefix of the name or of a word in it, any case"))] = None,
    zip_code: Annotated[ZipCode | None, Query(alias="zipCode")] = None,
    ncpdp_id: Annotated[NcpdpId | None, Query(alias="ncpdpId")] = None,
) -> PharmacyList:
    """The shared pharmacy directory, by name (staff roles; not the pharmacy role)."""
    rows, pagination = await service.search_pharmacies(
        session, actor, page=page, search=search, zip_code=zip_code, ncpdp_id=ncpdp_id)
    return PharmacyList(pharmacies=[PharmacyRead.model_validate(r) for r in rows],
                        total=pagination.total)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PharmacyRead,
             responses=error_responses(409))
async def create_pharmacy(body: PharmacyCreate, session: DbSession, actor: RequireAdmin
                          ) -> JSONResponse:
    """Add a pharmacy to the directory every practice shares (admin only). The NCPDP ID and
    the NPI must carry valid check digits; an NCPDP ID already listed is 409."""
    pharmacy = await service.create_pharmacy(session, actor, data=body)
    return _response(pharmacy, 201, {"Location": f"/v1/pharmacies/{pharmacy.id}"})


@router.get("/{pharmacy_id}", response_model=PharmacyRead, responses=error_responses(404))
async def get_pharmacy(pharmacy: ReadablePharmacy) -> JSONResponse:
    """A directory entry, with an `ETag` to send back as `If-Match` on PATCH."""
    return _response(pharmacy)


@router.patch("/{pharmacy_id}", response_model=PharmacyRead,
              responses=error_responses(404, 412))
async def update_pharmacy(body: PharmacyUpdate, pharmacy: ReadablePharmacy, session: DbSession,
                          actor: RequireAdmin, if_match: IfMatchHeader = None) -> JSONResponse:
    """Correct contact details (name, address, phone, fax): admins of the practice that added
    the entry only (else 403). With `If-Match`, a stale version is refused (412)."""
    updated = await service.update_pharmacy(session, actor, pharmacy=pharmacy, data=body,
                                            if_match=if_match)
    return _response(updated)
