"""The locations service called directly: what other domains ask of it (codes in any case,
ids in bulk) answers only for the caller's practice."""

from __future__ import annotations

from dermifi.core.db import scope_to_practice
from dermifi.core.state import AppState
from dermifi.locations import service as locations_service
from dermifi.practices.models import Practice
from tests.factories.locations import create_location
from tests.factories.practices import make_practice
from tests.factories.users import RoleClient


async def test_codes_resolve_in_any_case_and_keep_the_spelling_asked(
    state: AppState, practice: Practice, admin_client: RoleClient,
) -> None:
    sf = await create_location(admin_client, "SF")
    oakland = await create_location(admin_client, "Oakland")
    async with state.sessionmaker() as session:
        scope_to_practice(session, practice.id)
        found = await locations_service.resolve_codes(session, ["sf", "OAKLAND", "Fresno"])
        by_id = await locations_service.by_ids(session, [oakland["id"], sf["id"], sf["id"]])
    assert {code: loc.id for code, loc in found.items()} == {"sf": sf["id"],
                                                             "OAKLAND": oakland["id"]}
    assert set(by_id) == {sf["id"], oakland["id"]}


async def test_another_practice_resolves_none_of_them(
    state: AppState, admin_client: RoleClient,
) -> None:
    sf = await create_location(admin_client, "SF")
    other = await make_practice(state, name="Other Dermatology")
    async with state.sessionmaker() as session:
        scope_to_practice(session, other.id)
        assert await locations_service.resolve_codes(session, ["SF"]) == {}
        assert await locations_service.by_ids(session, [sf["id"]]) == {}
        assert await locations_service.get(session, sf["id"]) is None
