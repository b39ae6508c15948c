"""Who reads and manages providers (contract: Auth roles)."""

from __future__ import annotations

from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Permission, Role
from dermifi.core.errors import Forbidden
from dermifi.locations import policies as location_policies

# The provider directory (GET /providers, /providers/{id}): every role, the pharmacy included:
# it reads the prescriber directory to check who wrote a prescription (name, NPI, DEA number).
DIRECTORY_ROLES = frozenset({Role.ADMIN, Role.PROVIDER, Role.NURSE, Role.FRONT_DESK,
                             Role.PHARMACY})
# Working hours (and, later, the schedule): the practice's staff only. Where and when a
# provider works is internal to the practice, like its locations (see locations.policies);
# a pharmacy needs none of it to fill an order, so it is FORBIDDEN, not merely empty.
SCHEDULE_ROLES = location_policies.READ_ROLES


def ensure_can_read(actor: Actor) -> None:
    if actor.role not in DIRECTORY_ROLES or not actor.has(Permission.READ):
        raise Forbidden()


def ensure_can_read_working_hours(actor: Actor) -> None:
    if actor.role not in SCHEDULE_ROLES:
        raise Forbidden()


def ensure_can_manage(actor: Actor) -> None:
    """Creating, changing and verifying providers, and their working hours: admins."""
    if not actor.has(Permission.ADMIN):
        raise Forbidden("Only administrators manage providers")
