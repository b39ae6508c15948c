"""Clinical note queries. Practice scoping is applied by the session; confidential notes are
for providers only, and that rule is ``readable``: every get and list of notes starts there."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from dermifi.auth.actor import Actor
from dermifi.core.repository import Repository
from dermifi.notes import policies
from dermifi.notes.models import ClinicalNote, NoteAddendum


class NoteRepository(Repository[ClinicalNote, Actor]):
    model = ClinicalNote
    not_found = "No such note"

    def readable(self, actor: Actor) -> Select[ClinicalNote]:
        stmt = select(ClinicalNote)
        if not policies.sees_confidential(actor):
            stmt = stmt.where(ClinicalNote.confidential.is_(False))
        return stmt

    def of_patient(self, actor: Actor, patient_id: str, *, signed_only: bool = False,
                   start: datetime | None = None, end: datetime | None = None
                   ) -> Select[ClinicalNote]:
        """The patient's notes ``actor`` may see, newest first (written between ``start``
        and ``end``, when given)."""
        stmt = self.readable(actor).where(ClinicalNote.patient_id == patient_id)
        if signed_only:
            stmt = stmt.where(ClinicalNote.locked.is_(True))
        if start is not None:
            stmt = stmt.where(ClinicalNote.created_at >= start)
        if end is not None:
            stmt = stmt.where(ClinicalNote.created_at <= end)
        return stmt.order_by(ClinicalNote.created_at.desc(), ClinicalNote.id.desc())

    async def all(self, stmt: Select[ClinicalNote]) -> Sequence[ClinicalNote]:
        return (await self.session.scalars(stmt)).all()

    async def addenda_of(self, note_ids: Sequence[str]) -> dict[str, list[NoteAddendum]]:
        """Each note's addenda, oldest first."""
        addenda: dict[str, list[NoteAddendum]] = {i: [] for i in note_ids}
        if note_ids:
            rows = await self.session.scalars(
                select(NoteAddendum).where(NoteAddendum.note_id.in_(note_ids))
                .order_by(NoteAddendum.created_at, NoteAddendum.id))
            for row in rows:
                addenda[row.note_id].append(row)
        return addenda

    async def last_signed_at(self, patient_id: str) -> Any:
        """When the patient's latest signed note was written (None: no signed note)."""
        return await self.session.scalar(last_signed_at_of(patient_id))


def last_signed_at_of(patient_id: Any) -> Select[Any]:
    """When the patient named by ``patient_id`` (a value, or a column of an enclosing
    statement) last had a note signed, as one value."""
    return (select(func.max(ClinicalNote.created_at))
            .where(ClinicalNote.patient_id == patient_id, ClinicalNote.locked.is_(True)))
