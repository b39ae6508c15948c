from __future__ import annotations

from typing import Any

from dermifi.core.schemas import ApiModel, UtcDateTime


class AuditEventRead(ApiModel):
    id: str
    action: str
    outcome: str
    actor_id: str | None
    actor_role: str | None
    resource_type: str | None
    resource_id: str | None
    patient_id: str | None
    client_ip: str | None
    request_id: str | None
    occurred_at: UtcDateTime
    details: dict[str, Any]
