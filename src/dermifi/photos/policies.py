"""Who sees and adds clinical photos (contract: Auth roles, Photos)."""

from __future__ import annotations

from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Role
from dermifi.core.errors import Forbidden
from dermifi.patients.policies import ensure_can_read_clinical, ensure_can_read_demographics

UPLOAD_ROLES = frozenset({Role.PROVIDER, Role.NURSE})


def ensure_can_read(actor: Actor) -> None:
    """Exactly the chart's clinical record: providers, nurses and admins."""
    ensure_can_read_demographics(actor)
    ensure_can_read_clinical(actor)


def ensure_can_upload(actor: Actor) -> None:
    ensure_can_read(actor)
    if actor.role not in UPLOAD_ROLES:
        raise Forbidden("Only providers and nurses add photos")
