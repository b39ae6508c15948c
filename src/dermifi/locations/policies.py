"""Who reads and manages the practice's locations (contract: Auth roles)."""

from __future__ import annotations

from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Permission, Role
from dermifi.core.errors import Forbidden

# Every staff role reads the practice's sites (booking, rooming, where a provider works).
# The pharmacy does not: it reads the prescriber directory (GET /providers) to check who
# wrote a prescription, but the practice's sites and its schedule are internal to the
# practice and nothing a pharmacy needs to fill an order.
READ_ROLES = frozenset({Role.ADMIN, Role.PROVIDER, Role.NURSE, Role.FRONT_DESK})


def ensure_can_read(actor: Actor) -> None:
    if actor.role not in READ_ROLES or not actor.has(Permission.READ):
        raise Forbidden()


def ensure_can_manage(actor: Actor) -> None:
    if not actor.has(Permission.ADMIN):
        raise Forbidden("Only administrators manage locations")
