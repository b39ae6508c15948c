from __future__ import annotations

from dataclasses import dataclass

from dermifi.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from dermifi.users.models import User


@dataclass(frozen=True)
class Actor:
    """The authenticated caller of one request."""

    user: User
    session_id: str

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def practice_id(self) -> str:
        return self.user.practice_id

    @property
    def role(self) -> Role:
        return Role(self.user.role)

    def has(self, permission: Permission | str) -> bool:
        return Permission(permission) in ROLE_PERMISSIONS[self.role]
