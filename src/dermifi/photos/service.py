"""Clinical photos: upload (check, clean, thumbnail, store), list, and the image bytes.

Objects and rows. An upload writes its two objects (original and thumbnail) first, under keys
of its own that no other upload can name, then inserts the row and its audit event in one
unit of work. If anything fails before the commit, the objects are deleted again, so a failed
upload leaves nothing behind; once the row is committed its objects are already durable, so a
committed photo never points at nothing. When the outcome of the commit itself is unknown
(e.g. the connection broke during COMMIT) the row is looked up first and the objects are kept
if it is there or if that cannot be told.

Crash window: if the process dies between the first object write and the commit (or before
the clean-up finishes), the objects stay behind as orphans. They are harmless (no row names
them, and their keys cannot be guessed) and easy to find: every key starts with
``<practice id>/<photo id>-``, so a sweep can delete keys older than a day whose photo id has
no row. The opposite failure, a row without its objects, cannot happen this way.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from fastapi import UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit import service as audit_service
from dermifi.auth.actor import Actor
from dermifi.core.context import current_clock
from dermifi.core.db import unit_of_work
from dermifi.core.errors import (
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from dermifi.core.ids import new_id
from dermifi.core.storage import BlobStore
from dermifi.core.workers import CpuPool
from dermifi.patients.models import Patient
from dermifi.photos import images, policies
from dermifi.photos.models import Photo
from dermifi.photos.repository import PhotoRepository
from dermifi.photos.schemas import PhotoUpload
from dermifi.users import service as users_service

logger = logging.getLogger("dermifi.photos")

# A camera clock a little ahead of the server's is not an error; a date next week is.
TAKEN_AT_TOLERANCE = timedelta(minutes=5)
Variant = Literal["original", "thumbnail"]


async def read_upload(upload: UploadFile) -> bytes:
    """The uploaded file, refused (413) past the photo cap without reading much further."""
    data = await upload.read(images.MAX_PHOTO_BYTES + 1)
    if len(data) > images.MAX_PHOTO_BYTES:
        raise PayloadTooLarge(
            f"The photo is larger than {images.MAX_PHOTO_BYTES // (1024 * 1024)} MB",
            details=[{"field": "photo", "message": "At most 25 MB"}])
    return data


async def _end_read_transaction(session: AsyncSession) -> None:
    """End the read-only transaction the path loaders began (it has nothing to write), so
    no database connection sits idle in a transaction during slow work. Writes still go
    through ``unit_of_work``."""
    if session.in_transaction():
        await session.commit()


async def upload_photo(session: AsyncSession, actor: Actor, *, patient: Patient,
                       data: PhotoUpload, storage: BlobStore, pool: CpuPool,
                       max_pixels: int = images.MAX_PIXELS) -> Photo:
    policies.ensure_can_upload(actor)
    now = current_clock().now()
    if data.taken_at is not None and data.taken_at > now + TAKEN_AT_TOLERANCE:
        raise ValidationFailed(details=[{"field": "takenAt", "message": "Is in the future"}])
    content = await read_upload(data.photo)
    # Decoding, cleaning, thumbnailing and storing take a while: no transaction held meanwhile.
    await _end_read_transaction(session)
    try:
        # At most a few decodes at once per process: each can take seconds and ~300 MB.
        processed = await pool.run(images.process, content, max_pixels=max_pixels)
    except images.UnsupportedImage as exc:
        raise UnsupportedMediaType(str(exc), details=[{"field": "photo",
                                                       "message": str(exc)}]) from exc

    photo_id = new_id("photo")
    stem = f"{actor.practice_id}/{photo_id}-{secrets.token_hex(16)}"
    storage_key = f"{stem}.{processed.kind.extension}"
    thumbnail_key = f"{stem}.thumb.jpg"
    try:
        await storage.put(storage_key, processed.data, content_type=processed.kind.content_type)
        await storage.put(thumbnail_key, processed.thumbnail,
                          content_type=images.THUMBNAIL_CONTENT_TYPE)
        async with unit_of_work(session):
            photo = Photo(
                id=photo_id, practice_id=actor.practice_id, patient_id=patient.id,
                type=data.type, body_part=data.body_part, description=data.description,
                client_metadata=dict(data.metadata or {}), taken_at=data.taken_at or now,
                uploaded_at=now, uploaded_by=actor.id,
                content_type=processed.kind.content_type, storage_key=storage_key,
                thumbnail_key=thumbnail_key, file_size=len(processed.data),
                width=processed.width, height=processed.height,
                thumbnail_size=len(processed.thumbnail),
            )
            session.add(photo)
            await session.flush()
            await audit_service.record(
                session, actor, "photo.create", resource_type="photo", resource_id=photo.id,
                patient_id=patient.id,
                details={"contentType": photo.content_type, "fileSize": photo.file_size})
    except BaseException:
        await _discard_unless_committed(session, storage, photo_id,
                                        (storage_key, thumbnail_key))
        raise
    return photo


async def _discard_unless_committed(session: AsyncSession, storage: BlobStore,
                                    photo_id: str, keys: Sequence[str]) -> None:
    """Clean-up after a failed upload: delete its objects unless its row exists after all."""
    try:
        committed = await PhotoRepository(session).exists(photo_id)
    except Exception:
        # Whether the row committed cannot be told: an orphan is better than a lost photo.
        logger.warning("photo %s: upload failed, commit state unknown; kept objects %s",
                       photo_id, list(keys), exc_info=True)
        return
    if committed:
        return
    for key in keys:
        try:
            await storage.delete(key)
        except Exception:
            # Best effort; the upload's own error is what the client gets.
            logger.warning("photo %s: could not delete orphan object %s", photo_id, key,
                           exc_info=True)


@dataclass(frozen=True)
class PhotoPage:
    photos: Sequence[Photo]
    uploader_names: dict[str, str]
    total: int


async def list_photos(session: AsyncSession, actor: Actor, *, patient: Patient,
                      photo_type: str | None, body_part: str | None, limit: int) -> PhotoPage:
    """Newest taken first (then newest uploaded); ``total`` counts every match."""
    policies.ensure_can_read(actor)
    repository = PhotoRepository(session)
    async with unit_of_work(session):
        photos, total = await repository.newest(repository.of_patient(
            actor, patient.id, photo_type=photo_type, body_part=body_part), limit=limit)
        names = await users_service.display_names(session, {p.uploaded_by for p in photos})
        used = [name for name, value in (("type", photo_type), ("bodyPart", body_part))
                if value is not None]
        await audit_service.record(
            session, actor, "photo.list", resource_type="photo", patient_id=patient.id,
            details={"filters": used, "limit": limit, "returned": len(photos),
                     "photoIds": [p.id for p in photos]})
    return PhotoPage(photos, names, total)


async def get_readable(session: AsyncSession, actor: Actor, *, photo_id: str) -> Photo:
    """The photo, if the caller may see clinical records (else FORBIDDEN) and it is one of the
    caller's practice (else NOT_FOUND, as for an id that does not exist)."""
    policies.ensure_can_read(actor)
    return await PhotoRepository(session).get_readable(actor, photo_id)


async def read_image(session: AsyncSession, actor: Actor, *, photo: Photo, variant: Variant,
                     storage: BlobStore) -> bytes:
    """The stored bytes of the photo or its thumbnail; the read is audited before they are
    handed out (a read that cannot be recorded is not served)."""
    policies.ensure_can_read(actor)
    key = photo.storage_key if variant == "original" else photo.thumbnail_key
    await _end_read_transaction(session)  # object storage is a network call
    content = await storage.get(key)
    async with unit_of_work(session):
        await audit_service.record(
            session, actor, f"photo.{'content' if variant == 'original' else 'thumbnail'}.read",
            resource_type="photo", resource_id=photo.id, patient_id=photo.patient_id)
    return content
