from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from dermifi.audit import service
from dermifi.audit.schemas import AuditEventRead
from dermifi.auth.dependencies import RequireAdmin
from dermifi.core.deps import DbSession
from dermifi.core.errors import error_responses
from dermifi.core.pagination import Page, PageParams
from dermifi.core.schemas import UtcDateTime

router = APIRouter(prefix="/audit-events", tags=["audit"])



@router.get("", response_model=Page[AuditEventRead], responses=error_responses())
async def list_audit_events(
    session: DbSession,
    actor: RequireAdmin,
    page: PageParams,
    actor_id: Annotated[str | None, Query(alias="actorId", max_length=40)] = None,
    patient_id: Annotated[str | None, Query(alias="patientId", max_length=40)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    resource_type: Annotated[str | None, Query(alias="resourceType", max_length=32)] = None,
    resource_id: Annotated[str | None, Query(alias="resourceId", max_length=40)] = None,
    outcome: Literal["success", "failure"] | None = None,
    occurred_from: Annotated[UtcDateTime | None, Query(alias="from")] = None,
    occurred_to: Annotated[UtcDateTime | None, Query(alias="to")] = None,
) -> Page[AuditEventRead]:
    """The practice's audit trail, newest first (admin only)."""
    events, pagination = await service.list_events(
        session, actor, page=page, actor_id=actor_id, patient_id=patient_id, action=action,
        resource_type=resource_type, resource_id=resource_id, outcome=outcome,
        occurred_from=occurred_from, occurred_to=occurred_to,
    )
    return Page[AuditEventRead](
        data=[AuditEventRead.model_validate(e) for e in events], pagination=pagination)
