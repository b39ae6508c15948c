"""Patient queries. Practice scoping is applied by the session; visibility by role is the
policies' job, so every staff role reads the same rows here."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.core.filtering import SortOrder, apply_sort
from dermifi.patients.models import Patient

SORTABLE = {"lastName": Patient.last_name, "firstName": Patient.first_name,
            "createdAt": Patient.created_at}


async def get(session: AsyncSession, patient_id: str, *, for_update: bool = False
              ) -> Patient | None:
    stmt = select(Patient).where(Patient.id == patient_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_condition(search: str) -> Any:
    """Every word must match a first or last name or the email; a query of digits (and
    phone punctuation only) matches phone numbers by their digits."""
    digits = re.sub(r"\D", "", search)
    if digits and re.fullmatch(r"[\d\s()+.\-]+", search):
        return Patient.phone_digits.like(_like(digits), escape="\\")
    words = search.lower().split()
    per_word = [
        or_(Patient.first_name.ilike(_like(w), escape="\\"),
            Patient.last_name.ilike(_like(w), escape="\\"),
            Patient.email_key.like(_like(w), escape="\\"))
        for w in words
    ]
    return and_(*per_word)


def list_statement(*, search: str | None, status: str | None, sort_by: str,
                   order: SortOrder) -> Select[Any]:
    stmt = select(Patient)
    if search:
        stmt = stmt.where(search_condition(search))
    if status:
        stmt = stmt.where(Patient.status == status)
    return apply_sort(stmt, sort_by=sort_by, order=order, allowed=SORTABLE,
                      tiebreaker=Patient.id)


async def find_active_duplicate(session: AsyncSession, *, email_key: str | None,
                                identity_key: str, exclude_id: str | None = None
                                ) -> list[str]:
    """Which of this patient's identifying fields another active patient already has."""
    conditions = [Patient.identity_key == identity_key]
    if email_key:
        conditions.append(Patient.email_key == email_key)
    stmt = select(Patient.email_key, Patient.identity_key).where(
        Patient.status == "active", or_(*conditions))
    if exclude_id:
        stmt = stmt.where(Patient.id != exclude_id)
    clashes: list[str] = []
    for found_email, found_identity in (await session.execute(stmt)).all():
        if email_key and found_email == email_key and "email" not in clashes:
            clashes.append("email")
        if found_identity == identity_key and "identity" not in clashes:
            clashes.append("identity")
    return clashes
