"""Who reads and manages the appointment book (contract: Auth roles)."""

from __future__ import annotations

from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Permission, Role
from dermifi.core.errors import Forbidden

# The front desk runs the book (booking, moving, cancelling, checking patients in); admins
# may stand in. Clinical staff read it: who is coming, when, for what.
MANAGE_ROLES = frozenset({Role.ADMIN, Role.FRONT_DESK})
READ_ROLES = frozenset({Role.ADMIN, Role.FRONT_DESK, Role.PROVIDER, Role.NURSE})
# The pharmacy sees no appointment at all: it fills orders, it does not see who visits when.


def ensure_can_read(actor: Actor) -> None:
    if actor.role not in READ_ROLES or not actor.has(Permission.READ):
        raise Forbidden()


MANAGE_REFUSAL = "Only the front desk and administrators manage appointments"


def can_manage(actor: Actor) -> bool:
    return actor.role in MANAGE_ROLES and actor.has(Permission.WRITE)


def ensure_can_manage(actor: Actor) -> None:
    if not can_manage(actor):
        raise Forbidden(MANAGE_REFUSAL)


def can_read(actor: Actor) -> bool:
    return actor.role in READ_ROLES
