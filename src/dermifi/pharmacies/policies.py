"""Who reads and manages the pharmacy directory (contract: Auth roles; issue: pharmacies)."""

from __future__ import annotations

from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Permission, Role
from dermifi.core.errors import Forbidden

# Staff choose a patient's pharmacy; a pharmacy user has no need to browse its competitors.
READ_ROLES = frozenset({Role.ADMIN, Role.PROVIDER, Role.NURSE, Role.FRONT_DESK})


def ensure_can_read(actor: Actor) -> None:
    if actor.role not in READ_ROLES or not actor.has(Permission.READ):
        raise Forbidden()


def ensure_can_add(actor: Actor) -> None:
    if not actor.has(Permission.ADMIN):
        raise Forbidden("Only administrators add pharmacies")


def ensure_can_change(actor: Actor, *, added_by_practice_id: str | None) -> None:
    """An entry is shared by every practice: only the admins of the practice that added it
    may correct its contact details, so no practice can redirect another's pharmacy."""
    ensure_can_add(actor)
    if added_by_practice_id != actor.practice_id:
        raise Forbidden("Only the practice that added this pharmacy may change it")
