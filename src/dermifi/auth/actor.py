"""The caller of one request, as a value: ids, role and permissions, never an ORM object, so
policies decide from plain data and import no models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dermifi.auth.permissions import ROLE_PERMISSIONS, Permission, Role


class Account(Protocol):
    """What an actor is made from: a user row, or anything shaped like one."""

    @property
    def id(self) -> str: ...

    @property
    def practice_id(self) -> str: ...

    @property
    def role(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Actor:
    id: str  # the user's id
    practice_id: str
    role: Role
    session_id: str
    # Whom the caller acts as, when it is someone: the provider a provider-role user is
    # linked to, the pharmacy a pharmacy user belongs to. Filled by the domain that knows
    # (dataclasses.replace), never guessed.
    provider_id: str | None = None
    pharmacy_id: str | None = None

    @classmethod
    def of(cls, account: Account, *, session_id: str) -> Actor:
        return cls(id=account.id, practice_id=account.practice_id, role=Role(account.role),
                   session_id=session_id)

    @property
    def permissions(self) -> tuple[Permission, ...]:
        return ROLE_PERMISSIONS[self.role]

    def has(self, permission: Permission | str) -> bool:
        return Permission(permission) in self.permissions
