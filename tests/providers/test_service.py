"""The providers service called directly: the one "must be verified" rule every domain that
names a provider uses, and the directory's refusals in their order (role, then visibility)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Role
from dermifi.core.db import scope_to_practice
from dermifi.core.errors import Forbidden, InvalidState, NotFound
from dermifi.core.state import AppState
from dermifi.practices.models import Practice
from dermifi.providers import service as providers_service
from tests.factories.locations import create_location
from tests.factories.practices import make_practice
from tests.factories.providers import create_provider, valid_npi
from tests.factories.users import RoleClient


def _actor(client: RoleClient, *, practice_id: str | None = None,
           role: Role | None = None) -> Actor:
    return Actor(id=client.user_id, practice_id=practice_id or client.practice_id,
                 role=role or client.role, session_id="test")


@pytest.fixture
async def session(state: AppState, practice: Practice) -> AsyncIterator[AsyncSession]:
    async with state.sessionmaker() as opened:
        scope_to_practice(opened, practice.id)
        yield opened


async def test_only_a_verified_provider_can_be_named(
    session: AsyncSession, admin_client: RoleClient,
) -> None:
    await create_location(admin_client, "SF")
    pending = await create_provider(admin_client, locations=["SF"])
    verified = await create_provider(admin_client, verify=True, locations=["SF"],
                                     npi=valid_npi("123456780"), last_name="Chen")

    named = await providers_service.verified_provider(session, verified["id"],
                                                      field="providerId")
    assert named.id == verified["id"]
    with pytest.raises(InvalidState) as not_yet:
        await providers_service.verified_provider(session, pending["id"], field="providerId")
    assert [(d.field, d.message) for d in not_yet.value.details] == [
        ("providerId", "Not active")]
    with pytest.raises(NotFound) as missing:
        await providers_service.verified_provider(session, "prov_nope", field="prescriberId")
    assert [d.field for d in missing.value.details] == ["prescriberId"]


async def test_the_pharmacy_reads_the_directory_but_not_working_hours(
    session: AsyncSession, admin_client: RoleClient, pharmacy_client: RoleClient,
) -> None:
    await create_location(admin_client, "SF")
    provider = await create_provider(admin_client, locations=["SF"])
    found = await providers_service.get_readable(session, _actor(pharmacy_client),
                                                 provider_id=provider["id"])
    assert found.id == provider["id"]
    with pytest.raises(Forbidden):
        await providers_service.get_working_hours(session, _actor(pharmacy_client),
                                                  provider=found)
    with pytest.raises(NotFound):
        await providers_service.get_readable(session, _actor(pharmacy_client),
                                             provider_id="prov_nope")


async def test_another_practices_provider_is_not_found(
    state: AppState, admin_client: RoleClient,
) -> None:
    await create_location(admin_client, "SF")
    provider = await create_provider(admin_client, locations=["SF"])
    other = await make_practice(state, name="Other Dermatology")
    async with state.sessionmaker() as session:
        scope_to_practice(session, other.id)
        with pytest.raises(NotFound):
            await providers_service.get_readable(
                session, _actor(admin_client, practice_id=other.id),
                provider_id=provider["id"])
        assert await providers_service.reference(session, provider["id"]) is None
