from __future__ import annotations

from typing import Annotated, Self

from pydantic import EmailStr, Field, StrictBool, StringConstraints

from dermifi.auth.permissions import Role, permissions_of
from dermifi.core.schemas import ApiInput, ApiModel, UtcDateTime
from dermifi.users.models import User

Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class UserCreate(ApiInput):
    email: EmailStr
    password: Annotated[str, Field(
        min_length=12, max_length=128,
        description="12 to 128 characters; a common or easily guessed password is refused "
                    "with `VALIDATION_ERROR` (zxcvbn score below 3)")]
    role: Role
    first_name: Name | None = None
    last_name: Name | None = None
    mfa: StrictBool = Field(False, description="Enroll TOTP now; the secret is returned once")


class UserRead(ApiModel):
    id: str
    email: str
    role: Role
    permissions: list[str]
    first_name: str | None
    last_name: str | None
    mfa_enabled: bool
    active: bool
    created_at: UtcDateTime

    @classmethod
    def of(cls, user: User, **extra: str | None) -> Self:
        return cls(
            id=user.id, email=user.email, role=Role(user.role),
            permissions=permissions_of(user.role), first_name=user.first_name,
            last_name=user.last_name, mfa_enabled=user.mfa_enabled, active=user.is_active,
            created_at=user.created_at, **extra,
        )


class UserCreated(UserRead):
    totp_secret: str | None = Field(None, description="Shown once, when MFA was enrolled")
    otpauth_uri: str | None = Field(None, description="For authenticator apps (QR code)")
