"""A database too busy to answer in time is an outage, not a bug: 503 with Retry-After and one
log line (the fault tests over TCP, tests/e2e/test_outages_e2e.py, stop and freeze a real
PostgreSQL; this one holds a row lock past the statement timeout)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.factories.patients import patient_payload
from tests.factories.users import RoleClient
from tests.support import Backend


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize("settings_overrides", [{"db_statement_timeout_seconds": 0.5}])
async def test_a_statement_cancelled_by_its_timeout_is_503(
    backend: Backend, front_desk_client: RoleClient, settings_overrides: dict[str, Any],
) -> None:
    created = (await front_desk_client.post("/v1/patients", json=patient_payload())).json()
    url = make_url(backend.url)
    holder = await asyncpg.connect(host=url.host, port=url.port, user=url.username,
                                   database=url.database)
    try:
        lock = holder.transaction()
        await lock.start()
        await holder.execute("SELECT 1 FROM patient WHERE id = $1 FOR UPDATE", created["id"])
        answer = await asyncio.wait_for(front_desk_client.patch(
            f"/v1/patients/{created['id']}", json={"firstName": "Janet"}), 10)
        await lock.rollback()
    finally:
        await holder.close()
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert int(answer.headers["Retry-After"]) >= 1
    # Nothing was changed: the patient is as it was.
    after = (await front_desk_client.get(f"/v1/patients/{created['id']}")).json()
    assert after["firstName"] == "Jane"
