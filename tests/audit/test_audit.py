"""The audit store: written in the same transaction as the change, read by admins only."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from dermifi.audit import service as audit_service
from dermifi.audit.models import AuditEvent
from dermifi.core.clock import FrozenClock
from dermifi.core.context import bind_clock, client_ip_var, request_id_var
from dermifi.core.db import unit_of_work
from dermifi.core.state import AppState
from dermifi.practices.models import Practice
from tests.auth.test_login import assert_error
from tests.factories.users import RoleClient


async def _count(state: AppState, **where: str) -> int:
    async with state.sessionmaker() as session:
        stmt = select(func.count()).select_from(AuditEvent)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, key) == value)
        return int(await session.scalar(stmt) or 0)


async def test_event_commits_with_its_change(state: AppState, practice: Practice) -> None:
    request_id_var.set("req_test123")
    client_ip_var.set("198.51.100.4")
    bind_clock(state.clock)
    async with state.sessionmaker() as session, unit_of_work(session):
        await audit_service.record(session, None, "patient.read", practice_id=practice.id,
                                   actor_id="usr_x", resource_type="patient",
                                   resource_id="pat_1", patient_id="pat_1")
    async with state.sessionmaker() as session:
        event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "patient.read"))
    assert event is not None
    assert (event.actor_id, event.resource_type, event.resource_id, event.patient_id) == (
        "usr_x", "patient", "pat_1", "pat_1")
    assert event.client_ip == "198.51.100.4"
    assert event.request_id == "req_test123"
    assert event.occurred_at == state.clock.now()


async def test_event_rolls_back_with_its_change(state: AppState, practice: Practice) -> None:
    async def failing_change() -> None:
        async with state.sessionmaker() as session, unit_of_work(session):
            await audit_service.record(session, None, "patient.update",
                                       practice_id=practice.id, resource_type="patient")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    assert await _count(state, action="patient.update") == 0


async def test_every_api_action_leaves_a_trace(admin_client: RoleClient) -> None:
    response = await admin_client.get("/v1/audit-events", params={"action": "auth.login"})
    assert response.status_code == 200
    events = response.json()["data"]
    assert len(events) == 1
    event = events[0]
    assert event["actorId"] == admin_client.user_id
    assert event["outcome"] == "success"
    assert event["clientIp"] == "203.0.113.10"
    assert event["requestId"].startswith("req_")
    assert event["occurredAt"].endswith("Z")
    assert set(event) == {"id", "action", "outcome", "actorId", "actorRole", "resourceType",
                          "resourceId", "patientId", "clientIp", "requestId", "occurredAt",
                          "details"}


async def test_request_id_links_the_event_to_the_response(admin_client: RoleClient,
                                                          state: AppState) -> None:
    response = await admin_client.post("/v1/users", headers={"X-Request-Id": "trace-42"}, json={
        "email": "trace@clinic.example.org", "password": "copper-meadow-lantern-88",
        "role": "front_desk"})
    assert response.headers["X-Request-Id"] == "trace-42"
    assert await _count(state, action="user.create", request_id="trace-42") == 1


async def test_filters_and_pagination(admin_client: RoleClient, state: AppState,
                                      clock: FrozenClock) -> None:
    bind_clock(clock)
    async with state.sessionmaker() as session, unit_of_work(session):
        for i in range(5):
            clock.advance(minutes=1)
            await audit_service.record(
                session, None, "patient.read", practice_id=admin_client.practice_id,
                actor_id=admin_client.user_id, resource_type="patient",
                resource_id=f"pat_{i % 2}", patient_id=f"pat_{i % 2}")
    listed = await admin_client.get("/v1/audit-events",
                                    params={"patientId": "pat_0", "limit": 2})
    body = listed.json()
    assert body["pagination"]["total"] == 3
    assert len(body["data"]) == 2
    times = [e["occurredAt"] for e in body["data"]]
    assert times == sorted(times, reverse=True)
    since = (clock.now() - timedelta(minutes=1, seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = await admin_client.get("/v1/audit-events",
                                    params={"action": "patient.read", "from": since})
    assert recent.json()["pagination"]["total"] == 2
    page2 = await admin_client.get("/v1/audit-events", params={"patientId": "pat_0",
                                                               "limit": 2, "page": 2})
    assert len(page2.json()["data"]) == 1


async def test_reading_the_trail_is_audited(admin_client: RoleClient, state: AppState) -> None:
    await admin_client.get("/v1/audit-events", params={"patientId": "pat_9"})
    async with state.sessionmaker() as session:
        event = await session.scalar(select(AuditEvent).where(
            AuditEvent.action == "audit_event.list"))
    assert event is not None
    assert event.details["filters"] == ["patientId"]
    assert "pat_9" not in str(event.details)


@pytest.mark.parametrize("role", ["provider", "nurse", "front_desk", "pharmacy"])
async def test_only_admins_read_the_trail(client_for: object, role: str) -> None:
    client = await client_for(role)  # type: ignore[operator]
    assert_error(await client.get("/v1/audit-events"), 403, "FORBIDDEN")


async def test_bad_filters_are_validation_errors(admin_client: RoleClient) -> None:
    response = await admin_client.get("/v1/audit-events",
                                      params={"from": "yesterday", "outcome": "maybe"})
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert sorted(d["field"] for d in error["details"]) == ["from", "outcome"]  # type: ignore[union-attr]


async def test_anonymous_is_unauthorized(anon_client: httpx.AsyncClient) -> None:
    assert_error(await anon_client.get("/v1/audit-events"), 401, "UNAUTHORIZED")
