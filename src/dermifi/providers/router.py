from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from dermifi.auth.dependencies import CurrentUser, RequireAdmin
from dermifi.core.concurrency import IfMatchHeader, with_etag
from dermifi.core.deps import DbSession
from dermifi.core.errors import error_responses
from dermifi.core.pagination import PageParams
from dermifi.locations.schemas import LOCATION_CODE_PATTERN
from dermifi.providers import service
from dermifi.providers.dependencies import ReadableProvider, ScheduledProvider
from dermifi.providers.models import Provider
from dermifi.providers.schemas import (
    WEEKDAYS,
    ProviderCreate,
    ProviderCreated,
    ProviderList,
    ProviderListItem,
    ProviderRead,
    ProviderUpdate,
    WorkingHoursRead,
    WorkingHoursReplace,
)

router = APIRouter(prefix="/providers", tags=["providers"])


def _response(provider: Provider, model: type[ProviderCreated] = ProviderRead,
              status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return with_etag(model.of(provider, today=service.today()), version=provider.version,
                     status_code=status_code, headers=headers)


def _hours(view: service.WorkingHoursView) -> WorkingHoursRead:
    return WorkingHoursRead.model_validate({
        "provider_id": view.provider_id,
        "working_hours": [{
            "day_of_week": WEEKDAYS[s.day_of_week], "location": s.location_code,
            "start": s.start, "end": s.end,
            "break": ({"start": s.break_start, "end": s.break_end}
                      if s.break_start is not None else None),
        } for s in view.shifts],
        "exceptions": [{"date": d.off_date, "reason": d.reason} for d in view.days_off],
    })


@router.get("", response_model=ProviderList, responses=error_responses())
async def list_providers(
    session: DbSession, actor: CurrentUser, page: PageParams,
    specialty: Annotated[str | None, Query(min_length=1, max_length=100,
                                           description="Exact specialty, any case")] = None,
    available: Annotated[bool | None, Query(
        description="Accepting new patients (true) or not (false)")] = None,
    location: Annotated[str | None, Query(max_length=40, pattern=LOCATION_CODE_PATTERN,
                                          description="A location code, e.g. SF")] = None,
    status_filter: Annotated[Literal["active", "pending_verification", "all"], Query(
        alias="status", description="Verified providers by default")] = "active",
) -> ProviderList:
    """The practice's provider directory, by last name. Every role reads it, the pharmacy
    included (the prescriber directory); `rating` and `reviewCount` are null until a review
    source is connected."""
    providers, total = await service.list_providers(
        session, actor, page=page, specialty=specialty, available=available, location=location,
        status=None if status_filter == "all" else status_filter)
    today = service.today()
    return ProviderList(providers=[ProviderListItem.of(p, today=today) for p in providers],
                        total=total)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProviderCreated,
             responses=error_responses(409))
async def create_provider(body: ProviderCreate, session: DbSession, actor: RequireAdmin
                          ) -> JSONResponse:
    """Register a provider (admin only): NPI and DEA check digits, a license that has not
    expired, locations of this practice. Starts `pending_verification` until
    `POST /providers/{id}/verify`. The same NPI twice in a practice is a `CONFLICT`."""
    provider = await service.create_provider(session, actor, data=body)
    return _response(provider, ProviderCreated, 201,
                     {"Location": f"/v1/providers/{provider.id}"})


@router.get("/{provider_id}", response_model=ProviderRead, responses=error_responses(404))
async def get_provider(provider: ReadableProvider) -> JSONResponse:
    """A provider's full record, with an `ETag` to send back as `If-Match` on PATCH."""
    return _response(provider)


@router.patch("/{provider_id}", response_model=ProviderRead,
              responses=error_responses(404, 409, 412))
async def update_provider(actor: RequireAdmin, body: ProviderUpdate,
                          provider: ReadableProvider, session: DbSession,
                          if_match: IfMatchHeader = None) -> JSONResponse:
    """Change contact details, locations, languages, `acceptingNewPatients` or the linked
    user (admin only). With `If-Match`, a stale version is refused (412)."""
    updated = await service.update_provider(session, actor, provider=provider, data=body,
                                            if_match=if_match)
    return _response(updated)


@router.post("/{provider_id}/verify", response_model=ProviderRead,
             responses=error_responses(404, 409, 412))
async def verify_provider(actor: RequireAdmin, provider: ReadableProvider, session: DbSession,
                          if_match: IfMatchHeader = None) -> JSONResponse:
    """Record that the license was verified (admin only): `pending_verification` becomes
    `active`, `licenseVerified` true. Any other status is `INVALID_STATE`."""
    verified = await service.verify_provider(session, actor, provider=provider,
                                             if_match=if_match)
    return _response(verified)


@router.get("/{provider_id}/working-hours", response_model=WorkingHoursRead,
            responses=error_responses(404))
async def get_working_hours(provider: ScheduledProvider, session: DbSession,
                            actor: CurrentUser) -> WorkingHoursRead:
    """The weekly template (local times at each location) and the days off. Staff only."""
    view = await service.get_working_hours(session, actor, provider=provider)
    return _hours(view)


@router.put("/{provider_id}/working-hours", response_model=WorkingHoursRead,
            responses=error_responses(404))
async def replace_working_hours(actor: RequireAdmin, body: WorkingHoursReplace,
                                provider: ReadableProvider, session: DbSession
                                ) -> WorkingHoursRead:
    """Replace the whole weekly template and the days off (admin only). Times are wall-clock
    `HH:MM` in the location's time zone; entries of one weekday may not overlap, even at
    different locations; each location must be one of the provider's."""
    view = await service.replace_working_hours(session, actor, provider=provider, data=body)
    return _hours(view)
