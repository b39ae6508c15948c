"""The repository base, through a domain that uses it as is (locations): reads by id keep the
order asked for, a stale If-Match is refused under the row lock, and a versioned answer carries
the ETag a client sends back."""

from __future__ import annotations

import orjson
import pytest

from dermifi.auth.actor import Actor
from dermifi.core.concurrency import etag, with_etag
from dermifi.core.db import scope_to_practice, unit_of_work
from dermifi.core.errors import NotFound, PreconditionFailed
from dermifi.core.state import AppState
from dermifi.locations.repository import LocationRepository
from dermifi.locations.schemas import LocationRead
from dermifi.practices.models import Practice
from tests.factories.locations import create_location
from tests.factories.practices import make_practice
from tests.factories.users import RoleClient


async def test_get_many_keeps_the_order_asked_and_leaves_out_unknown_ids(
    state: AppState, practice: Practice, admin_client: RoleClient,
) -> None:
    sites = [await create_location(admin_client, code) for code in ("SF", "Oakland", "San Jose")]
    asked = [sites[2]["id"], "loc_nope", sites[0]["id"], sites[1]["id"]]
    async with state.sessionmaker() as session:
        scope_to_practice(session, practice.id)
        found = await LocationRepository(session).get_many(asked)
    assert [row.id for row in found] == [sites[2]["id"], sites[0]["id"], sites[1]["id"]]


async def test_another_practices_row_is_not_found(
    state: AppState, practice: Practice, admin_client: RoleClient,
) -> None:
    site = await create_location(admin_client)
    other = await make_practice(state, name="Other Dermatology")
    async with state.sessionmaker() as session:
        scope_to_practice(session, other.id)
        repository = LocationRepository(session)
        assert await repository.get(site["id"]) is None
        assert await repository.get_many([site["id"]]) == []


async def test_get_readable_of_a_missing_id_is_not_found(
    state: AppState, practice: Practice, admin_client: RoleClient,
) -> None:
    admin = Actor(id=admin_client.user_id, practice_id=practice.id, role=admin_client.role,
                  session_id="test")
    async with state.sessionmaker() as session:
        scope_to_practice(session, practice.id)
        with pytest.raises(NotFound):
            await LocationRepository(session).get_readable(admin, "loc_nope")


@pytest.mark.parametrize(("if_match", "refused"), [
    (None, False), ("*", False), ('"v1"', False), ('W/"v1"', False),
    ('"v2"', True), ('"v0", "v3"', True),
])
async def test_lock_for_change_checks_if_match_against_the_locked_version(
    state: AppState, practice: Practice, admin_client: RoleClient,
    if_match: str | None, refused: bool,
) -> None:
    site = await create_location(admin_client)
    async with state.sessionmaker() as session:
        scope_to_practice(session, practice.id)
        repository = LocationRepository(session)
        row = await repository.get(site["id"])
        assert row is not None
        assert etag(row.version) == '"v1"'
        async with unit_of_work(session):
            if refused:
                with pytest.raises(PreconditionFailed):
                    await repository.lock_for_change(row, if_match)
            else:
                assert await repository.lock_for_change(row, if_match) is row


async def test_with_etag_answers_camel_case_with_the_version_tag(
    state: AppState, practice: Practice, admin_client: RoleClient,
) -> None:
    site = await create_location(admin_client)
    async with state.sessionmaker() as session:
        scope_to_practice(session, practice.id)
        row = await LocationRepository(session).get(site["id"])
        assert row is not None
        body = LocationRead.model_validate(row)
    response = with_etag(body, version=row.version, status_code=201,
                         headers={"Location": "/v1/locations/" + row.id})
    assert response.status_code == 201
    assert response.headers["ETag"] == etag(row.version)
    assert response.headers["Location"] == "/v1/locations/" + row.id
    answered = orjson.loads(response.body)
    assert answered["timeZone"] == "America/Los_Angeles"
    assert "time_zone" not in answered
