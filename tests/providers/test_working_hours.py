"""PUT/GET /v1/providers/{id}/working-hours: the weekly template the schedule is built from."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest
from sqlalchemy import select

from dermifi.audit.models import AuditEvent
from dermifi.core.db import scope_to_practice
from dermifi.core.state import AppState
from dermifi.providers import service
from dermifi.providers.models import Provider
from tests.auth.test_login import assert_error
from tests.conftest import ClientFactory
from tests.factories.locations import create_location
from tests.factories.providers import create_provider
from tests.factories.users import RoleClient

WEEK: dict[str, Any] = {
    "workingHours": [
        {"dayOfWeek": "monday", "location": "SF", "start": "09:00", "end": "17:00",
         "break": {"start": "12:00", "end": "13:00"}},
        {"dayOfWeek": "tuesday", "location": "Oakland", "start": "08:00", "end": "12:00"},
        {"dayOfWeek": "tuesday", "location": "SF", "start": "13:30", "end": "18:00"},
    ],
    "exceptions": [{"date": "2024-12-25", "reason": "Holiday"}],
}


@pytest.fixture
async def provider(admin_client: RoleClient) -> dict[str, Any]:
    await create_location(admin_client, "SF")
    await create_location(admin_client, "Oakland", timeZone="America/Los_Angeles")
    await create_location(admin_client, "San Jose")
    return await create_provider(admin_client, locations=["SF", "Oakland"])


def url(provider: dict[str, Any]) -> str:
    return f"/v1/providers/{provider['id']}/working-hours"


async def test_a_new_provider_has_no_hours(admin_client: RoleClient,
                                           provider: dict[str, Any]) -> None:
    response = await admin_client.get(url(provider))
    assert response.status_code == 200
    assert response.json() == {"providerId": provider["id"], "workingHours": [],
                               "exceptions": []}


async def test_replace_and_read_back(admin_client: RoleClient, nurse_client: RoleClient,
                                     provider: dict[str, Any]) -> None:
    response = await admin_client.put(url(provider), json=WEEK)
    assert response.status_code == 200, response.text
    expected = {
        "providerId": provider["id"],
        "workingHours": [
            {**WEEK["workingHours"][0]},
            {**WEEK["workingHours"][1], "break": None},
            {**WEEK["workingHours"][2], "break": None},
        ],
        "exceptions": WEEK["exceptions"],
    }
    assert response.json() == expected
    read = await nurse_client.get(url(provider))
    assert read.status_code == 200
    assert read.json() == expected


async def test_the_template_is_replaced_whole(admin_client: RoleClient,
                                              provider: dict[str, Any]) -> None:
    await admin_client.put(url(provider), json=WEEK)
    # The same day off again (unique per provider and date) and one new entry only.
    response = await admin_client.put(url(provider), json={
        "workingHours": [{"dayOfWeek": "friday", "location": "oakland", "start": "10:00",
                          "end": "14:00"}],
        "exceptions": [{"date": "2024-12-25", "reason": "Christmas"}]})
    assert response.status_code == 200, response.text
    body = (await admin_client.get(url(provider))).json()
    assert body["workingHours"] == [{"dayOfWeek": "friday", "location": "Oakland",
                                     "start": "10:00", "end": "14:00", "break": None}]
    assert body["exceptions"] == [{"date": "2024-12-25", "reason": "Christmas"}]
    cleared = await admin_client.put(url(provider), json={"workingHours": []})
    assert cleared.json()["workingHours"] == []
    assert cleared.json()["exceptions"] == []


@pytest.mark.parametrize(("entries", "field"), [
    ([{"dayOfWeek": "monday", "location": "SF", "start": "17:00", "end": "09:00"}],
     "workingHours.0.end"),
    ([{"dayOfWeek": "monday", "location": "SF", "start": "09:00", "end": "17:00",
       "break": {"start": "17:30", "end": "18:00"}}], "workingHours.0.break"),
    ([{"dayOfWeek": "monday", "location": "SF", "start": "09:00", "end": "13:00"},
      {"dayOfWeek": "monday", "location": "Oakland", "start": "12:30", "end": "17:00"}],
     "workingHours.1.start"),
    ([{"dayOfWeek": "monday", "location": "San Jose", "start": "09:00", "end": "13:00"}],
     "workingHours.0.location"),  # a location of the practice, but not the provider's
    ([{"dayOfWeek": "monday", "location": "Nowhere", "start": "09:00", "end": "13:00"}],
     "workingHours.0.location"),
    ([{"dayOfWeek": "monday", "location": "SF", "start": "9am", "end": "13:00"}],
     "workingHours.0.start"),
])
async def test_rejected(admin_client: RoleClient, provider: dict[str, Any],
                        entries: list[dict[str, Any]], field: str, state: AppState) -> None:
    await admin_client.put(url(provider), json=WEEK)
    response = await admin_client.put(url(provider), json={"workingHours": entries})
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in [d["field"] for d in error["details"]]  # type: ignore[union-attr]
    # Nothing changed.
    assert len((await admin_client.get(url(provider))).json()["workingHours"]) == 3


async def test_audited(admin_client: RoleClient, provider: dict[str, Any],
                       state: AppState) -> None:
    await admin_client.put(url(provider), json=WEEK)
    async with state.sessionmaker() as session:
        event = await session.scalar(select(AuditEvent).where(
            AuditEvent.action == "provider.working_hours.replace"))
    assert event is not None
    assert event.resource_id == provider["id"]
    assert event.actor_id == admin_client.user_id
    assert event.details["entries"] == 3
    assert event.details["exceptions"] == 1
    assert len(event.details["locationIds"]) == 2
    assert "Holiday" not in str(event.details)


@pytest.mark.parametrize(("role", "status"), [
    ("admin", 200), ("provider", 200), ("nurse", 200), ("front_desk", 200),
    # The pharmacy reads the prescriber directory, not where and when providers work.
    ("pharmacy", 403),
])
async def test_who_reads(client_for: ClientFactory, provider: dict[str, Any], role: str,
                         status: int) -> None:
    client = await client_for(role)
    assert (await client.get(url(provider))).status_code == status
    if role == "pharmacy":  # it still reads the provider's directory entry
        assert (await client.get(f"/v1/providers/{provider['id']}")).status_code == 200
        assert_error(await client.get("/v1/providers/prov_nope/working-hours"), 404,
                     "NOT_FOUND")


async def test_a_location_in_the_hours_stays_with_the_provider(
    admin_client: RoleClient, provider: dict[str, Any],
) -> None:
    await admin_client.put(url(provider), json=WEEK)
    response = await admin_client.patch(f"/v1/providers/{provider['id']}",
                                        json={"locations": ["SF"]})
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == ["locations"]  # type: ignore[union-attr]
    assert "Oakland" in str(error["details"])
    # Adding one, and reordering, is fine.
    response = await admin_client.patch(f"/v1/providers/{provider['id']}",
                                        json={"locations": ["Oakland", "San Jose", "SF"]})
    assert response.status_code == 200
    assert response.json()["locations"] == ["Oakland", "San Jose", "SF"]


async def test_shifts_on_a_date(admin_client: RoleClient, provider: dict[str, Any],
                                state: AppState) -> None:
    """What the schedule builds on: a date's shifts, local times and the time zone."""
    await admin_client.put(url(provider), json=WEEK)
    async with state.sessionmaker() as session:
        scope_to_practice(session, admin_client.practice_id)
        row = await session.get(Provider, provider["id"])
        assert row is not None
        tuesday = date(2024, 12, 17)
        shifts = await service.shifts_on(session, provider=row, on=tuesday)
        assert [(s.location_code, s.start, s.end) for s in shifts] == [
            ("Oakland", time(8), time(12)), ("SF", time(13, 30), time(18))]
        assert {s.time_zone for s in shifts} == {"America/Los_Angeles"}
        oakland = shifts[0].location_id
        only = await service.shifts_on(session, provider=row, on=tuesday, location_id=oakland)
        assert [s.location_code for s in only] == ["Oakland"]
        monday = await service.shifts_on(session, provider=row, on=date(2024, 12, 16))
        assert [(s.break_start, s.break_end) for s in monday] == [(time(12), time(13))]
        assert await service.shifts_on(session, provider=row, on=date(2024, 12, 18)) == []
        assert await service.shifts_on(session, provider=row, on=date(2024, 12, 23)) != []
    # A day off wins over the template (2024-12-23 is a Monday).
    await admin_client.put(url(provider), json={**WEEK, "exceptions": [{"date": "2024-12-23"}]})
    async with state.sessionmaker() as session:
        scope_to_practice(session, admin_client.practice_id)
        row = await session.get(Provider, provider["id"])
        assert row is not None
        assert await service.shifts_on(session, provider=row, on=date(2024, 12, 23)) == []
        assert await service.shifts_on(session, provider=row, on=date(2024, 12, 30)) != []
