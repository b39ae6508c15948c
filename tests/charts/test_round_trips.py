"""How many statements the hot reads send: a count, not a timing, so it holds on any machine.
Each statement is a round trip to the database; a lazy load or an N+1 added to the chart shows
up here first."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from dermifi.core.state import AppState
from tests.conftest import RoleClient
from tests.factories.locations import create_location
from tests.factories.patients import patient_payload
from tests.factories.providers import create_provider


@contextmanager
def statements(state: AppState) -> Iterator[list[str]]:
    """The first word of every statement sent while inside (BEGIN, SELECT, INSERT, ...)."""
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement.split(None, 1)[0].upper())

    event.listen(state.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(state.engine.sync_engine, "before_cursor_execute", count)


def _without_begin(sent: list[str]) -> list[str]:
    # SQLite's transactions are begun with statements (this engine's "begin" hook);
    # asyncpg begins them through its own protocol. The rest is the same on both.
    return [word for word in sent if word != "BEGIN"]


@pytest.mark.parametrize("with_provider", [False, True])
async def test_a_chart_read_is_authentication_the_patient_one_read_and_the_audit_row(
        state: AppState, admin_client: RoleClient, with_provider: bool) -> None:
    extra: dict[str, Any] = {}
    if with_provider:
        await create_location(admin_client)
        provider = await create_provider(admin_client, verify=True, locations=["SF"])
        extra["primaryProviderId"] = provider["id"]
    created = await admin_client.post("/v1/patients", json=patient_payload(**extra))
    assert created.status_code == 201, created.text

    with statements(state) as sent:
        response = await admin_client.get(f"/v1/patients/{created.json()['id']}")

    assert response.status_code == 200
    assert (response.json()["provider"] is not None) is with_provider
    # The login session, the patient, what the domains say of the patient, the audit event.
    assert _without_begin(sent) == ["SELECT", "SELECT", "SELECT", "INSERT"]



async def test_a_patient_list_page_reads_its_rows_at_once(
        state: AppState, admin_client: RoleClient) -> None:
    for first_name in ("Ana", "Ben", "Cleo"):
        created = await admin_client.post("/v1/patients",
                                          json=patient_payload(firstName=first_name))
        assert created.status_code == 201
    with statements(state) as sent:
        response = await admin_client.get("/v1/patients", params={"limit": 20})
    assert response.status_code == 200
    assert len(response.json()["data"]) == 3
    # The login session, the counter, the page's ids, their rows, the audit event: the same
    # five for 3 patients or 20, never one per patient.
    assert _without_begin(sent) == ["SELECT", "SELECT", "SELECT", "SELECT", "INSERT"]
