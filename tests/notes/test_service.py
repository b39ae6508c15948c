"""The notes service called directly: confidential notes are for providers, and that rule is
the repository's ``readable``, so a get, a list and the chart's section all apply it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Role
from dermifi.core.db import scope_to_practice
from dermifi.core.errors import NotFound
from dermifi.core.state import AppState
from dermifi.notes import service as notes_service
from dermifi.notes.models import ClinicalNote
from dermifi.notes.schemas import NoteCreate
from dermifi.patients.models import Patient
from dermifi.practices.models import Practice
from tests.factories.patients import make_patient
from tests.factories.users import make_user


def _actor(practice: Practice, user_id: str, role: Role) -> Actor:
    return Actor(id=user_id, practice_id=practice.id, role=role, session_id="test")


@pytest.fixture
async def people(state: AppState, practice: Practice) -> dict[Role, Actor]:
    actors = {}
    for role in (Role.PROVIDER, Role.NURSE, Role.FRONT_DESK):
        user = await make_user(state, practice_id=practice.id, role=role)
        actors[role] = _actor(practice, user.user.id, role)
    return actors


@pytest.fixture
async def patient(state: AppState, people: dict[Role, Actor]) -> Patient:
    return await make_patient(state, people[Role.FRONT_DESK])


@pytest.fixture
async def session(state: AppState, practice: Practice) -> AsyncIterator[AsyncSession]:
    async with state.sessionmaker() as opened:
        scope_to_practice(opened, practice.id)
        yield opened


def _note(*, confidential: bool, draft: bool = False) -> NoteCreate:
    return NoteCreate.model_validate({
        "type": "follow_up", "content": {"chiefComplaint": "Follow-up for acne treatment"},
        "confidential": confidential, "draft": draft})


async def test_a_confidential_note_is_not_found_by_a_nurse(
    session: AsyncSession, people: dict[Role, Actor], patient: Patient,
) -> None:
    provider, nurse = people[Role.PROVIDER], people[Role.NURSE]
    secret = await notes_service.create_note(session, provider, patient=patient,
                                             data=_note(confidential=True))
    open_note = await notes_service.create_note(session, provider, patient=patient,
                                                data=_note(confidential=False))

    seen = await notes_service.load_note(session, provider, patient=patient,
                                         note_id=secret["id"])
    assert seen.id == secret["id"]
    with pytest.raises(NotFound):
        await notes_service.load_note(session, nurse, patient=patient, note_id=secret["id"])

    assert [n["id"] for n in await notes_service.list_notes(session, nurse, patient=patient)
            ] == [open_note["id"]]
    assert {n["id"] for n in await notes_service.list_notes(session, provider, patient=patient)
            } == {secret["id"], open_note["id"]}


async def test_a_note_of_another_patient_is_not_found(
    state: AppState, session: AsyncSession, people: dict[Role, Actor], patient: Patient,
) -> None:
    provider = people[Role.PROVIDER]
    other = await make_patient(state, people[Role.FRONT_DESK], firstName="Maria")
    note = await notes_service.create_note(session, provider, patient=other,
                                           data=_note(confidential=False))
    with pytest.raises(NotFound):
        await notes_service.load_note(session, provider, patient=patient, note_id=note["id"])


async def test_signing_a_nurses_draft_records_who_changed_it_last(
    state: AppState, session: AsyncSession, people: dict[Role, Actor], patient: Patient,
) -> None:
    provider, nurse = people[Role.PROVIDER], people[Role.NURSE]
    draft = await notes_service.create_note(session, nurse, patient=patient,
                                            data=_note(confidential=False))
    await notes_service.sign_note(session, provider, patient=patient, note_id=draft["id"])
    async with state.sessionmaker() as fresh:
        scope_to_practice(fresh, patient.practice_id)
        row = (await fresh.scalars(select(ClinicalNote).where(
            ClinicalNote.id == draft["id"]))).one()
    assert (row.created_by, row.updated_by, row.signed_by) == (nurse.id, provider.id,
                                                               provider.id)
    assert row.version > 1
