"""Path objects: the pharmacy a URL names, loaded once per request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from dermifi.auth.dependencies import CurrentUser
from dermifi.core.deps import DbSession
from dermifi.pharmacies import service
from dermifi.pharmacies.models import Pharmacy

PharmacyId = Annotated[str, Path(max_length=64, description="A pharmacy id (pharm_...)")]


async def readable_pharmacy(pharmacy_id: PharmacyId, session: DbSession,
                            actor: CurrentUser) -> Pharmacy:
    """The directory entry, for staff roles (else FORBIDDEN; NOT_FOUND if there is none)."""
    return await service.get_readable(session, actor, pharmacy_id=pharmacy_id)


ReadablePharmacy = Annotated[Pharmacy, Depends(readable_pharmacy)]
