"""Clinical notes: drafts, signing (which locks), addenda; and the visits of a chart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ScalarSelect
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit import service as audit_service
from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Role
from dermifi.core.clock import as_utc
from dermifi.core.context import current_clock
from dermifi.core.db import unit_of_work
from dermifi.core.errors import InvalidState, NotFound
from dermifi.core.ids import new_id
from dermifi.notes import policies
from dermifi.notes.codes import icd10_description
from dermifi.notes.models import ClinicalNote, NoteAddendum
from dermifi.notes.repository import NoteRepository, last_signed_at_of
from dermifi.notes.schemas import AddendumCreate, NoteContent, NoteCreate, NoteUpdate
from dermifi.patients.models import Patient
from dermifi.users import service as users_service


def _content(content: NoteContent) -> dict[str, Any]:
    return dict(content.model_dump(mode="json", by_alias=True, exclude_none=True))


async def _to_read(session: AsyncSession, notes: Sequence[ClinicalNote]) -> list[dict[str, Any]]:
    """Notes as the API shows them, with their addenda and authors' names (two queries)."""
    addenda = await NoteRepository(session).addenda_of([n.id for n in notes])
    people = await users_service.display_names(session, {
        *(n.created_by for n in notes), *(n.signed_by for n in notes if n.signed_by),
        *(a.created_by for rows in addenda.values() for a in rows)})

    def person(user_id: str | None) -> dict[str, str] | None:
        return {"id": user_id, "name": people.get(user_id, "")} if user_id else None

    return [{
        "id": n.id, "patient_id": n.patient_id, "type": n.type, "visit_id": n.visit_id,
        "content": n.content, "icd10_codes": n.icd10_codes, "cpt_codes": n.cpt_codes,
        "confidential": n.confidential, "status": "signed" if n.locked else "draft",
        "created_at": n.created_at, "created_by": person(n.created_by),
        "signed_at": n.signed_at, "signed_by": person(n.signed_by), "locked": n.locked,
        "addenda": [{"id": a.id, "content": a.content, "reason": a.reason,
                     "created_at": a.created_at, "created_by": person(a.created_by)}
                    for a in addenda[n.id]],
    } for n in notes]


async def load_note(session: AsyncSession, actor: Actor, *, patient: Patient, note_id: str,
                    for_update: bool = False) -> ClinicalNote:
    """A note of this patient the actor may see, or NOT_FOUND (confidential ones included)."""
    policies.ensure_can_read(actor)
    note = await NoteRepository(session).get_readable(
        actor, note_id, lock="update" if for_update else None)
    if note.patient_id != patient.id:
        raise NotFound(NoteRepository.not_found)
    return note


async def create_note(session: AsyncSession, actor: Actor, *, patient: Patient,
                      data: NoteCreate) -> dict[str, Any]:
    policies.ensure_can_author(actor)
    now = current_clock().now()
    # A provider's note is signed as written unless it is a draft; a nurse's waits for one.
    signed = actor.role is Role.PROVIDER and not data.draft
    async with unit_of_work(session):
        note = ClinicalNote(
            id=new_id("note"), practice_id=actor.practice_id, patient_id=patient.id,
            type=data.type, visit_id=data.visit_id, content=_content(data.content),
            icd10_codes=list(data.icd10_codes), cpt_codes=list(data.cpt_codes),
            confidential=data.confidential, created_at=now, created_by=actor.id,
            updated_at=now, updated_by=actor.id, signed_at=now if signed else None,
            signed_by=actor.id if signed else None, locked=signed,
        )
        session.add(note)
        await session.flush()
        await audit_service.record(session, actor, "note.create", resource_type="note",
                                   resource_id=note.id, patient_id=patient.id,
                                   details={"signed": signed})
        return (await _to_read(session, [note]))[0]


async def list_notes(session: AsyncSession, actor: Actor, *, patient: Patient
                     ) -> list[dict[str, Any]]:
    policies.ensure_can_read(actor)
    async with unit_of_work(session):
        notes = await notes_for_chart(session, actor, patient=patient)
        await audit_service.record(session, actor, "note.list", resource_type="note",
                                   patient_id=patient.id, details={"returned": len(notes)})
    return notes


async def notes_for_chart(session: AsyncSession, actor: Actor, *, patient: Patient
                          ) -> list[dict[str, Any]]:
    """Newest first; confidential notes only for providers. No audit: the caller records."""
    notes = NoteRepository(session)
    return await _to_read(session, await notes.all(notes.of_patient(actor, patient.id)))


async def update_draft(session: AsyncSession, actor: Actor, *, patient: Patient, note_id: str,
                       data: NoteUpdate) -> dict[str, Any]:
    policies.ensure_can_author(actor)
    async with unit_of_work(session):
        note = await load_note(session, actor, patient=patient, note_id=note_id,
                               for_update=True)
        if note.locked:
            raise InvalidState("A signed note is locked; add an addendum instead")
        if actor.role is not Role.PROVIDER and note.created_by != actor.id:
            raise InvalidState("Only its author or a provider may edit a draft")
        changes = data.model_dump(exclude_unset=True)
        for field in ("type", "visit_id", "icd10_codes", "cpt_codes", "confidential"):
            if field in changes:
                setattr(note, field, getattr(data, field))
        if data.content is not None:
            note.content = _content(data.content)
        note.stamp_updated(actor.id, current_clock().now())
        await session.flush()
        await audit_service.record(session, actor, "note.update", resource_type="note",
                                   resource_id=note.id, patient_id=patient.id,
                                   details={"fields": audit_service.changed_fields(changes)})
        return (await _to_read(session, [note]))[0]


async def sign_note(session: AsyncSession, actor: Actor, *, patient: Patient, note_id: str
                    ) -> dict[str, Any]:
    policies.ensure_can_sign(actor)
    async with unit_of_work(session):
        note = await load_note(session, actor, patient=patient, note_id=note_id,
                               for_update=True)
        if note.locked:
            raise InvalidState("The note is already signed")
        now = current_clock().now()
        note.locked = True
        note.signed_at = now
        note.signed_by = actor.id
        note.stamp_updated(actor.id, now)
        await session.flush()
        await audit_service.record(session, actor, "note.sign", resource_type="note",
                                   resource_id=note.id, patient_id=patient.id)
        return (await _to_read(session, [note]))[0]


async def add_addendum(session: AsyncSession, actor: Actor, *, patient: Patient, note_id: str,
                       data: AddendumCreate) -> dict[str, Any]:
    policies.ensure_can_author(actor)
    async with unit_of_work(session):
        note = await load_note(session, actor, patient=patient, note_id=note_id,
                               for_update=True)
        if not note.locked:
            raise InvalidState("A draft is edited, not amended; sign it first")
        addendum = NoteAddendum(id=new_id("add"), practice_id=actor.practice_id,
                                note_id=note.id, content=data.content, reason=data.reason,
                                created_at=current_clock().now(), created_by=actor.id)
        session.add(addendum)
        await session.flush()
        await audit_service.record(session, actor, "note.addendum", resource_type="note",
                                   resource_id=note.id, patient_id=patient.id,
                                   details={"addendumId": addendum.id})
        return (await _to_read(session, [note]))[0]


async def last_visit_at(session: AsyncSession, *, patient_id: str) -> datetime | None:
    """A visit is a signed note; its time is the encounter's (when the note was written)."""
    value = await NoteRepository(session).last_signed_at(patient_id)
    return as_utc(value) if value is not None else None


def last_visit_of(patient_id: Any) -> ScalarSelect[Any]:
    """``last_visit_at`` as a scalar subquery, for a statement that reads the chart at once."""
    return last_signed_at_of(patient_id).scalar_subquery()


async def visits(session: AsyncSession, actor: Actor, *, patient: Patient,
                 start: datetime | None, end: datetime | None) -> list[dict[str, Any]]:
    """History entries of type ``visit``: signed notes the actor may see, newest first.
    Diagnoses are named from the ICD-10-CM code set, not retyped."""
    repository = NoteRepository(session)
    notes = await repository.all(repository.of_patient(actor, patient.id, signed_only=True,
                                                       start=start, end=end))
    people = await users_service.display_names(session, {n.signed_by or n.created_by
                                                         for n in notes})
    entries = []
    for note in notes:
        content = note.content
        author = note.signed_by or note.created_by
        entry: dict[str, Any] = {
            "id": "hist_" + note.id.removeprefix("note_"),
            "date": note.created_at,
            "type": "visit",
            "provider": {"id": author, "name": people.get(author, "")},
            "chief_complaint": content.get("chiefComplaint"),
            "diagnosis": [icd10_description(code) for code in note.icd10_codes],
            "treatment": content.get("treatment") or content.get("plan"),
            "notes": content.get("notes") or content.get("assessment"),
            "follow_up": content.get("followUp"),
            "note_id": note.id,
        }
        if content.get("pathology"):
            entry["pathology"] = content["pathology"]
        entries.append(entry)
    return entries
