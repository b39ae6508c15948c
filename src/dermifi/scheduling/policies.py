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


def ensure_can_manage(actor: Actor) -> None:
    if actor.role not in MANAGE_ROLES or not actor.has(Permission.WRITE):
        raise Forbidden("Only the front desk and administrators manage appointments")


def can_read(actor: Actor) -> bool:
    return actor.role in READ_ROLES
