from __future__ import annotations

from fastapi import APIRouter, Response, status

from dermifi.auth import service
from dermifi.auth.dependencies import CurrentUser
from dermifi.auth.schemas import LoginRequest, LoginResponse, RefreshRequest, RefreshResponse
from dermifi.core.deps import DbSession, State
from dermifi.core.errors import error_responses

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=LoginResponse,
             responses=error_responses(401, 403, 423, authenticated=False))
async def login(body: LoginRequest, session: DbSession, state: State) -> LoginResponse:
    """Exchange email, password and (when enrolled) a TOTP code for tokens.

    Unknown email and wrong password answer alike (`INVALID_CREDENTIALS`). Five failures in
    fifteen minutes lock the account (`ACCOUNT_LOCKED`).
    """
    issued = await service.login(session, state, email=body.email, password=body.password,
                                 mfa_code=body.mfa_code)
    return LoginResponse.model_validate(issued.login_body())


@router.post("/refresh", response_model=RefreshResponse,
             responses=error_responses(401, authenticated=False))
async def refresh(body: RefreshRequest, session: DbSession, state: State) -> RefreshResponse:
    """Rotate a refresh token: the old one is spent; presenting it again revokes the session."""
    issued = await service.refresh(session, state, refresh_token=body.refresh_token)
    return RefreshResponse(access_token=issued.access_token, refresh_token=issued.refresh_token,
                           expires_in=issued.expires_in)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
             responses=error_responses())
async def logout(actor: CurrentUser, session: DbSession, state: State) -> Response:
    """Revoke the presented access token and its refresh token family, on every server."""
    await service.logout(session, state, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
