"""Roles and the permissions they carry (contract, section Auth)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    PROVIDER = "provider"
    NURSE = "nurse"
    FRONT_DESK = "front_desk"
    PHARMACY = "pharmacy"


class Permission(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"
    PRESCRIBE = "prescribe"
    FULFILL = "fulfill"


ROLE_PERMISSIONS: dict[Role, tuple[Permission, ...]] = {
    Role.ADMIN: (Permission.READ, Permission.WRITE, Permission.ADMIN),
    Role.PROVIDER: (Permission.READ, Permission.WRITE, Permission.PRESCRIBE),
    Role.NURSE: (Permission.READ, Permission.WRITE),
    Role.FRONT_DESK: (Permission.READ, Permission.WRITE),
    Role.PHARMACY: (Permission.READ, Permission.FULFILL),
}


def permissions_of(role: Role | str) -> list[str]:
    return [p.value for p in ROLE_PERMISSIONS[Role(role)]]
