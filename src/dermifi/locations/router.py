from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from dermifi.auth.dependencies import CurrentUser, RequireAdmin
from dermifi.core.concurrency import IfMatchHeader, with_etag
from dermifi.core.deps import DbSession
from dermifi.core.errors import error_responses
from dermifi.core.pagination import PageParams
from dermifi.locations import service
from dermifi.locations.dependencies import ReadableLocation
from dermifi.locations.models import Location
from dermifi.locations.schemas import LocationCreate, LocationList, LocationRead, LocationUpdate

router = APIRouter(prefix="/locations", tags=["locations"])


def _response(location: Location, status_code: int = 200,
              headers: dict[str, str] | None = None) -> JSONResponse:
    return with_etag(LocationRead.model_validate(location), version=location.version,
                     status_code=status_code, headers=headers)


@router.get("", response_model=LocationList, responses=error_responses())
async def list_locations(session: DbSession, actor: CurrentUser, page: PageParams
                         ) -> LocationList:
    """The practice's locations, by code (staff roles; not the pharmacy)."""
    rows, pagination = await service.list_locations(session, actor, page=page)
    return LocationList(locations=[LocationRead.model_validate(r) for r in rows],
                        total=pagination.total)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=LocationRead,
             responses=error_responses(409))
async def create_location(body: LocationCreate, session: DbSession, actor: RequireAdmin
                          ) -> JSONResponse:
    """Add a location (admin only). `code` is unique in the practice, whatever its case."""
    location = await service.create_location(session, actor, data=body)
    return _response(location, 201, {"Location": f"/v1/locations/{location.id}"})


@router.get("/{location_id}", response_model=LocationRead, responses=error_responses(404))
async def get_location(location: ReadableLocation) -> JSONResponse:
    """A location, with an `ETag` to send back as `If-Match` on PATCH."""
    return _response(location)


@router.patch("/{location_id}", response_model=LocationRead,
              responses=error_responses(404, 409, 412))
async def update_location(body: LocationUpdate, location: ReadableLocation, session: DbSession,
                          actor: RequireAdmin, if_match: IfMatchHeader = None) -> JSONResponse:
    """Partial update (admin only); `address` replaces as a whole. With `If-Match`, a stale
    version is refused (412)."""
    updated = await service.update_location(session, actor, location=location, data=body,
                                            if_match=if_match)
    return _response(updated)
