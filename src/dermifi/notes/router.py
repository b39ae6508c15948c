from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from dermifi.auth.dependencies import CurrentUser
from dermifi.core.deps import DbSession
from dermifi.core.errors import error_responses
from dermifi.notes import service
from dermifi.notes.schemas import AddendumCreate, NoteCreate, NoteList, NoteRead, NoteUpdate
from dermifi.patients.dependencies import ClinicalPatient

router = APIRouter(prefix="/patients/{patient_id}/notes", tags=["notes"])

NoteId = Annotated[str, Path(max_length=64, description="A note id (note_...)")]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=NoteRead,
             responses=error_responses(404))
async def create_note(body: NoteCreate, patient: ClinicalPatient, session: DbSession,
                      actor: CurrentUser, response: Response) -> NoteRead:
    """Write a note. A provider's note is signed and locked at once unless `draft` is true;
    a nurse's note is a draft until a provider signs it."""
    note = await service.create_note(session, actor, patient=patient, data=body)
    response.headers["Location"] = f"/v1/patients/{patient.id}/notes/{note['id']}"
    return NoteRead.model_validate(note)


@router.get("", response_model=NoteList, responses=error_responses(404))
async def list_notes(patient: ClinicalPatient, session: DbSession, actor: CurrentUser
                     ) -> NoteList:
    """The patient's notes, newest first (confidential ones for providers only)."""
    notes = await service.list_notes(session, actor, patient=patient)
    return NoteList(notes=[NoteRead.model_validate(n) for n in notes], total=len(notes))


@router.patch("/{note_id}", response_model=NoteRead, responses=error_responses(404, 409))
async def update_draft(note_id: NoteId, body: NoteUpdate, patient: ClinicalPatient,
                       session: DbSession, actor: CurrentUser) -> NoteRead:
    """Edit a draft (its author or a provider). A signed note is locked (`INVALID_STATE`)."""
    note = await service.update_draft(session, actor, patient=patient, note_id=note_id,
                                      data=body)
    return NoteRead.model_validate(note)


@router.post("/{note_id}/sign", response_model=NoteRead, responses=error_responses(404, 409))
async def sign_note(note_id: NoteId, patient: ClinicalPatient, session: DbSession,
                    actor: CurrentUser) -> NoteRead:
    """Sign and lock a draft (providers only)."""
    note = await service.sign_note(session, actor, patient=patient, note_id=note_id)
    return NoteRead.model_validate(note)


@router.post("/{note_id}/addenda", status_code=status.HTTP_201_CREATED,
             response_model=NoteRead, responses=error_responses(404, 409))
async def add_addendum(note_id: NoteId, body: AddendumCreate, patient: ClinicalPatient,
                       session: DbSession, actor: CurrentUser) -> NoteRead:
    """Amend a signed note: the note stays as signed, the addendum is appended."""
    note = await service.add_addendum(session, actor, patient=patient, note_id=note_id,
                                      data=body)
    return NoteRead.model_validate(note)
