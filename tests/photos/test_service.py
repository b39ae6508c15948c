"""The photos service called directly: refusals in their order (the role, then the practice)
and a list that reads the patient's photos newest first, counting every match."""

from __future__ import annotations

import pytest

from dermifi.auth.actor import Actor
from dermifi.core.db import scope_to_practice
from dermifi.core.errors import Forbidden, NotFound
from dermifi.core.state import AppState
from dermifi.patients.repository import PatientRepository
from dermifi.photos import service as photos_service
from tests.factories.practices import make_practice
from tests.factories.users import RoleClient
from tests.photos.conftest import make_chart, upload


def _actor(client: RoleClient, practice_id: str | None = None) -> Actor:
    return Actor(id=client.user_id, practice_id=practice_id or client.practice_id,
                 role=client.role, session_id="test")


async def test_the_front_desk_is_refused_before_the_id_is_looked_up(
    state: AppState, front_desk_client: RoleClient,
) -> None:
    async with state.sessionmaker() as session:
        scope_to_practice(session, front_desk_client.practice_id)
        with pytest.raises(Forbidden):
            await photos_service.get_readable(session, _actor(front_desk_client),
                                              photo_id="photo_nope")


async def test_another_practices_photo_is_not_found(
    state: AppState, provider_client: RoleClient,
) -> None:
    patient_id = await make_chart(provider_client)
    photo = (await upload(provider_client, patient_id)).json()
    other = await make_practice(state, name="Other Dermatology")
    async with state.sessionmaker() as session:
        scope_to_practice(session, other.id)
        with pytest.raises(NotFound):
            await photos_service.get_readable(session, _actor(provider_client, other.id),
                                              photo_id=photo["id"])


async def test_the_list_is_newest_taken_first_and_counts_every_match(
    state: AppState, provider_client: RoleClient,
) -> None:
    patient_id = await make_chart(provider_client)
    ids = []
    for taken in ("2024-01-10T10:00:00Z", "2024-01-12T10:00:00Z", "2024-01-11T10:00:00Z"):
        response = await upload(provider_client, patient_id, takenAt=taken)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    async with state.sessionmaker() as session:
        scope_to_practice(session, provider_client.practice_id)
        patient = await PatientRepository(session).get(patient_id)
        assert patient is not None
        page = await photos_service.list_photos(session, _actor(provider_client),
                                                patient=patient, photo_type=None,
                                                body_part=None, limit=2)
    assert [p.id for p in page.photos] == [ids[1], ids[2]]
    assert page.total == 3
