"""``CurrentUser`` and ``Require(...)``: the one way routes authenticate and authorize."""

from __future__ import annotations

from typing import Annotated, Any

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
    actor = await service.authenticate(session, state, credentials.credentials)
    # From here on every query in this request's session sees only the caller's practice.
    scope_to_practice(session, actor.practice_id)
    user_id_var.set(actor.id)
    return actor


CurrentUser = Annotated[Actor, Depends(current_actor)]


def _requirement(permissions: tuple[Permission, ...]) -> Any:
    async def require(actor: CurrentUser) -> Actor:
        if not all(actor.has(p) for p in permissions):
            raise Forbidden()
        return actor

    return require


def Require(*permissions: Permission | str) -> Any:  # noqa: N802 - reads as policy in signatures
    """``actor: Require("admin")``: the caller, who must hold every named permission."""
    wanted = tuple(Permission(p) for p in permissions)
    return Annotated[Actor, Depends(_requirement(wanted))]
