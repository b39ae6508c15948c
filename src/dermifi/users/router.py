from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from dermifi.auth.dependencies import CurrentUser, RequireAdmin
from dermifi.auth.permissions import Role
from dermifi.core.deps import DbSession, State
from dermifi.core.errors import error_responses
from dermifi.core.pagination import Page, PageParams
from dermifi.users import service
from dermifi.users.schemas import UserCreate, UserCreated, UserRead

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserCreated,
             responses=error_responses(409))
async def create_user(body: UserCreate, response: Response, session: DbSession, state: State,
                      actor: RequireAdmin) -> UserCreated:
    """Create a user in the caller's practice (admin only). With `mfa: true` the TOTP secret
    is returned once, in this response."""
    created = await service.create_user(
        session, state, actor, practice_id=actor.practice_id, email=str(body.email),
        password=body.password, role=body.role, first_name=body.first_name,
        last_name=body.last_name, mfa=body.mfa,
    )
    response.headers["Location"] = f"/v1/users/{created.user.id}"
    return UserCreated.of(created.user, totp_secret=created.totp_secret,
                          otpauth_uri=created.otpauth_uri)


@router.get("", response_model=Page[UserRead], responses=error_responses())
async def list_users(session: DbSession, actor: RequireAdmin, page: PageParams,
                     role: Annotated[Role | None, Query()] = None) -> Page[UserRead]:
    """The practice's users (admin only), oldest first."""
    users, pagination = await service.list_users(session, actor, page=page, role=role)
    return Page[UserRead](data=[UserRead.of(u) for u in users], pagination=pagination)


@router.get("/me", response_model=UserRead, responses=error_responses())
async def me(actor: CurrentUser, session: DbSession) -> UserRead:
    """The authenticated user."""
    return UserRead.of(await service.get_user(session, actor.id))
