"""``CurrentUser`` and ``RequireX``: the one way routes authenticate and authorize."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dermifi.auth import service
from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Permission
from dermifi.core.context import user_id_var
from dermifi.core.db import scope_to_practice
from dermifi.core.deps import DbSession, State
from dermifi.core.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /v1/auth/login")


async def current_actor(
    session: DbSession,
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or not credentials.credentials:
        raise Unauthorized()
    actor = await service.authenticate(state, credentials.credentials)
    # From here on every query in this request's session sees only the caller's practice.
    scope_to_practice(session, actor.practice_id)
    user_id_var.set(actor.id)
    return actor


CurrentUser = Annotated[Actor, Depends(current_actor)]


def requires(*permissions: Permission) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency: the caller, who must hold every named permission (else FORBIDDEN)."""

    async def require(actor: CurrentUser) -> Actor:
        if not all(actor.has(p) for p in permissions):
            raise Forbidden()
        return actor

    return require


# Signatures read as policy: ``actor: RequireAdmin``.
RequireRead = Annotated[Actor, Depends(requires(Permission.READ))]
RequireWrite = Annotated[Actor, Depends(requires(Permission.WRITE))]
RequireAdmin = Annotated[Actor, Depends(requires(Permission.ADMIN))]
RequirePrescribe = Annotated[Actor, Depends(requires(Permission.PRESCRIBE))]
RequireFulfill = Annotated[Actor, Depends(requires(Permission.FULFILL))]
