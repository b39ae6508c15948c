"""The patients service called directly: what it publishes for the domains built on it."""

from __future__ import annotations

import pytest

from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Role
from dermifi.core.db import scope_to_practice
from dermifi.core.errors import InvalidState, NotFound
from dermifi.core.state import AppState
from dermifi.patients import service
from dermifi.patients.schemas import DeactivateRequest
from dermifi.practices.models import Practice
from tests.factories.patients import make_patient


def _actor(practice: Practice, role: Role = Role.FRONT_DESK) -> Actor:
    return Actor(id="usr_test", practice_id=practice.id, role=role, session_id="test")


async def test_active_patient_names_the_field(state: AppState, practice: Practice) -> None:
    actor = _actor(practice)
    patient = await make_patient(state, actor)
    async with state.sessionmaker() as session:
        scope_to_practice(session, practice.id)
        found = await service.active_patient(session, patient.id, field="patientId")
        assert found.id == patient.id
        with pytest.raises(NotFound) as missing:
            await service.active_patient(session, "pat_nope", field="patientId")
        assert missing.value.details[0].field == "patientId"
        await service.deactivate_patient(session, actor, patient=found,
                                         data=DeactivateRequest(), if_match=None)
        with pytest.raises(InvalidState) as inactive:
            await service.active_patient(session, patient.id, field="subject")
        assert inactive.value.details[0].field == "subject"


async def test_another_practice_is_not_found(state: AppState, practice: Practice) -> None:
    from tests.factories.practices import make_practice

    patient = await make_patient(state, _actor(practice))
    other = await make_practice(state, name="Elsewhere Dermatology")
    async with state.sessionmaker() as session:
        scope_to_practice(session, other.id)
        with pytest.raises(NotFound):
            await service.active_patient(session, patient.id, field="patientId")


async def test_update_audits_field_names_in_camel_case(state: AppState,
                                                       practice: Practice) -> None:
    from sqlalchemy import select

    from dermifi.audit.models import AuditEvent
    from dermifi.patients.schemas import PatientUpdate

    actor = _actor(practice)
    patient = await make_patient(state, actor)
    async with state.sessionmaker() as session:
        scope_to_practice(session, practice.id)
        loaded = await service.active_patient(session, patient.id, field="patientId")
        await service.update_patient(session, actor, patient=loaded, if_match=None,
                                     data=PatientUpdate.model_validate(
                                         {"firstName": "Janet", "dateOfBirth": "1990-03-22"}))
        details = (await session.scalars(select(AuditEvent.details).where(
            AuditEvent.action == "patient.update"))).one()
    assert details == {"fields": ["dateOfBirth", "firstName"]}
