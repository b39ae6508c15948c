"""Path objects: the provider a URL names, loaded once per request with visibility applied."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from dermifi.auth.dependencies import CurrentUser
from dermifi.core.deps import DbSession
from dermifi.providers import policies, service
from dermifi.providers.models import Provider

ProviderId = Annotated[str, Path(max_length=64, description="A provider id (prov_...)")]


async def readable_provider(provider_id: ProviderId, session: DbSession,
                            actor: CurrentUser) -> Provider:
    """The provider, for the directory's readers (every role), if it belongs to the caller's
    practice (else NOT_FOUND, the same as for an id that does not exist)."""
    return await service.get_readable(session, actor, provider_id=provider_id)


async def scheduled_provider(provider: Annotated[Provider, Depends(readable_provider)],
                             actor: CurrentUser) -> Provider:
    """The provider, for reading where and when they work (working hours, schedule): the
    practice's staff, not the pharmacy (FORBIDDEN)."""
    policies.ensure_can_read_working_hours(actor)
    return provider


ReadableProvider = Annotated[Provider, Depends(readable_provider)]
ScheduledProvider = Annotated[Provider, Depends(scheduled_provider)]
