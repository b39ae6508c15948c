"""``@idempotent``: the one way a route that creates or sends honours ``Idempotency-Key``.

Put it under the route's decorator::

    @router.post("/patients", status_code=201, ...)
    @idempotent
    async def create_patient(...) -> JSONResponse:

The mechanics are ``core.idempotency``'s; this binds them to the authenticated caller (a key
belongs to one user of one practice) and to the audit trail, as core knows neither. It lives
beside ``CurrentUser`` because it is part of how a route receives its caller.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit import service as audit_service
from dermifi.auth.actor import Actor
from dermifi.auth.dependencies import current_actor
from dermifi.core.idempotency import Idempotency


async def _record_replay(session: AsyncSession, actor: Actor, route: str) -> None:
    # A replay hands out the first answer (a chart, a photo's record) again: an access.
    # The route only: not the key, never the body.
    await audit_service.record(session, actor, "idempotency.replay", details={"route": route})


idempotent = Idempotency[Actor](caller=current_actor, on_replay=_record_replay)
