from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from dermifi.core.schemas import ApiInput, ApiModel


class LoginRequest(ApiInput):
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    # Length policy is for new passwords; a login only needs a bound on the work it causes.
    password: Annotated[str, Field(min_length=1, max_length=256)]
    mfa_code: Annotated[str, StringConstraints(pattern=r"^\d{6}$")] | None = None


class LoginUser(ApiModel):
    id: str
    email: str
    role: str
    permissions: list[str]


class LoginResponse(ApiModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a scheme name
    expires_in: int
    user: LoginUser


class RefreshRequest(ApiInput):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]


class RefreshResponse(ApiModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a scheme name
    expires_in: int
