"""Path objects the photo routes need."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from dermifi.auth.dependencies import CurrentUser
from dermifi.core.deps import DbSession
from dermifi.photos import service
from dermifi.photos.models import Photo

PhotoId = Annotated[str, Path(max_length=64, description="A photo id (photo_...)")]


async def readable_photo(photo_id: PhotoId, session: DbSession, actor: CurrentUser) -> Photo:
    """The photo, for the roles that read the clinical record (else FORBIDDEN), if it belongs
    to the caller's practice (else NOT_FOUND)."""
    return await service.get_readable(session, actor, photo_id=photo_id)


ReadablePhoto = Annotated[Photo, Depends(readable_photo)]
