"""Who reads and writes clinical notes (contract: Auth roles, Notes)."""

from __future__ import annotations

from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Role
from dermifi.core.errors import Forbidden
from dermifi.patients.policies import ensure_can_read_clinical

AUTHOR_ROLES = frozenset({Role.PROVIDER, Role.NURSE})


def ensure_can_read(actor: Actor) -> None:
    ensure_can_read_clinical(actor)


def ensure_can_author(actor: Actor) -> None:
    if actor.role not in AUTHOR_ROLES:
        raise Forbidden()


def ensure_can_sign(actor: Actor) -> None:
    if actor.role is not Role.PROVIDER:
        raise Forbidden("Only providers sign notes")


def sees_confidential(actor: Actor) -> bool:
    return actor.role is Role.PROVIDER
