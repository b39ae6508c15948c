"""Who may do what with a patient's chart (contract, Auth roles)."""

from __future__ import annotations

from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Permission, Role
from dermifi.core.errors import Forbidden

# Demographics and insurance: every staff role; the pharmacy sees patients only through the
# orders and prescriptions sent to it.
DEMOGRAPHIC_ROLES = frozenset({Role.ADMIN, Role.PROVIDER, Role.NURSE, Role.FRONT_DESK})
# The clinical record (history, notes, photos): no front desk, no pharmacy.
CLINICAL_ROLES = frozenset({Role.ADMIN, Role.PROVIDER, Role.NURSE})


def ensure_can_read_demographics(actor: Actor) -> None:
    if actor.role not in DEMOGRAPHIC_ROLES or not actor.has(Permission.READ):
        raise Forbidden()


def ensure_can_edit_demographics(actor: Actor) -> None:
    if actor.role not in DEMOGRAPHIC_ROLES or not actor.has(Permission.WRITE):
        raise Forbidden()


def ensure_can_read_clinical(actor: Actor) -> None:
    if actor.role not in CLINICAL_ROLES:
        raise Forbidden()


def can_read_clinical(actor: Actor) -> bool:
    return actor.role in CLINICAL_ROLES
