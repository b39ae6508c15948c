"""The audit trail. Other domains call ``record`` inside their own unit of work, so an event
is committed exactly when the change it describes is."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from pydantic.alias_generators import to_camel
from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit.models import AuditEvent
from dermifi.core.context import client_ip_var, current_clock, request_id_var
from dermifi.core.db import unit_of_work
from dermifi.core.ids import new_id
from dermifi.core.pagination import PageRequest, Pagination, paginate

if TYPE_CHECKING:
    from dermifi.auth.actor import Actor


def changed_fields(changes: Iterable[str]) -> list[str]:
    """The names of the fields a change touched, as the API spells them (``firstName``),
    sorted: what an audit event of an update records, never their values (PHI)."""
    return sorted(to_camel(name) for name in changes)


async def record(
    session: AsyncSession,
    actor: Actor | None,
    action: str,
    *,
    resource_type: str | None = None,
    resource_id: str | None = None,
    patient_id: str | None = None,
    outcome: str = "success",
    details: dict[str, Any] | None = None,
    practice_id: str | None = None,
    actor_id: str | None = None,
    actor_role: str | None = None,
) -> None:
    """Add an audit event to the current transaction. ``details`` holds ids, field names and
    counts only: never names, dates of birth, free text or other PHI.

    One Core INSERT on the request's connection: the same transaction as the change (or the
    read) it records, without the ORM's flush machinery, since every read is audited."""
    values = {
        "id": new_id("aud"),
        "practice_id": practice_id or (actor.practice_id if actor else None),
        "actor_id": actor_id or (actor.id if actor else None),
        "actor_role": actor_role or (actor.role.value if actor else None),
        "action": action,
        "outcome": outcome,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "patient_id": patient_id,
        "client_ip": client_ip_var.get(),
        "request_id": request_id_var.get(),
        "occurred_at": current_clock().now(),
        "details": details or {},
    }
    if values["practice_id"] is None:
        raise ValueError("an audit event needs a practice")
    await session.execute(_INSERT, values)


_INSERT = insert(cast(Table, AuditEvent.__table__))


async def list_events(
    session: AsyncSession,
    actor: Actor,
    *,
    page: PageRequest,
    actor_id: str | None = None,
    patient_id: str | None = None,
    action: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    outcome: str | None = None,
    occurred_from: datetime | None = None,
    occurred_to: datetime | None = None,
) -> tuple[Sequence[AuditEvent], Pagination]:
    """Newest first. Scoped to the caller's practice by the session, like every query."""
    stmt = select(AuditEvent)
    filters = {
        AuditEvent.actor_id: actor_id, AuditEvent.patient_id: patient_id,
        AuditEvent.action: action, AuditEvent.resource_type: resource_type,
        AuditEvent.resource_id: resource_id, AuditEvent.outcome: outcome,
    }
    for column, value in filters.items():
        if value is not None:
            stmt = stmt.where(column == value)
    if occurred_from is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= occurred_from)
    if occurred_to is not None:
        stmt = stmt.where(AuditEvent.occurred_at <= occurred_to)
    stmt = stmt.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    async with unit_of_work(session):
        events, pagination = await paginate(session, stmt, page)
        # Reading the trail is itself an access worth recording (filters named, not valued).
        used = [name for name, value in (
            ("actorId", actor_id), ("patientId", patient_id), ("action", action),
            ("resourceType", resource_type), ("resourceId", resource_id), ("outcome", outcome),
            ("from", occurred_from), ("to", occurred_to)) if value is not None]
        await record(session, actor, "audit_event.list", resource_type="audit_event",
                     details={"filters": used, "returned": len(events)})
    return events, pagination
