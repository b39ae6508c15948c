"""Photo queries. Practice scoping is applied by the session; every role that reads clinical
records sees every photo of the practice, so ``readable`` is the base's."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, select

from dermifi.auth.actor import Actor
from dermifi.core.repository import Repository
from dermifi.photos.models import Photo


class PhotoRepository(Repository[Photo, Actor]):
    model = Photo
    not_found = "No such photo"

    def of_patient(self, actor: Actor, patient_id: str, *, photo_type: str | None,
                   body_part: str | None) -> Select[Photo]:
        stmt = self.readable(actor).where(Photo.patient_id == patient_id)
        if photo_type is not None:
            stmt = stmt.where(Photo.type == photo_type)
        if body_part is not None:
            stmt = stmt.where(Photo.body_part == body_part)
        return stmt

    async def newest(self, stmt: Select[Photo], *, limit: int) -> tuple[Sequence[Photo], int]:
        """The first ``limit`` photos of ``stmt``, newest taken first (then newest uploaded),
        and how many ``stmt`` selects."""
        total = await self.session.scalar(
            select(func.count()).select_from(stmt.order_by(None).subquery()))
        photos = (await self.session.scalars(
            stmt.order_by(Photo.taken_at.desc(), Photo.uploaded_at.desc(), Photo.id.desc())
            .limit(limit))).all()
        return photos, int(total or 0)

    async def exists(self, photo_id: str) -> bool:
        return (await self.session.scalar(select(Photo.id).where(Photo.id == photo_id))
                ) is not None
