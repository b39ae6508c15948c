"""Patient queries. Practice scoping is applied by the session; every role that reads charts
reads every patient of the practice (the policies say which roles), so ``readable`` is the
base's."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, text

from dermifi.auth.actor import Actor
from dermifi.core.filtering import SortOrder, apply_sort
from dermifi.core.repository import Repository
from dermifi.patients.models import Patient, PatientCount, PatientSearch

SORTABLE = {"lastName": PatientSearch.last_name, "firstName": PatientSearch.first_name,
            "createdAt": PatientSearch.created_at}


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_condition(search: str) -> Any:
    """Every word must match a first or last name or the email; a query of digits (and
    phone punctuation only) matches phone numbers by their digits."""
    digits = re.sub(r"\D", "", search)
    if digits and re.fullmatch(r"[\d\s()+.\-]+", search):
        return PatientSearch.phone_digits.like(_like(digits), escape="\\")
    # ``terms`` is lower() of the names and email; lower() of the word too, as ILIKE did.
    return and_(*[PatientSearch.terms.like(func.lower(_like(w)), escape="\\")
                  for w in search.lower().split()])


class PatientRepository(Repository[Patient, Actor]):
    """Lists page through the search projection (``PatientSearch``), which holds every
    patient of the practice: right while ``readable`` is the base's. A visibility rule added
    there must be added to the two list statements too."""

    model = Patient
    not_found = "No such patient"

    def list_statement(self, *, status: str | None, sort_by: str, order: SortOrder
                       ) -> Select[Any]:
        """Ids of the practice's patients in list order: an ordered scan of one of the search
        table's indexes, stopped at the page."""
        stmt = select(PatientSearch.id)
        if status:
            stmt = stmt.where(PatientSearch.status == status)
        return apply_sort(stmt, sort_by=sort_by, order=order, allowed=SORTABLE,
                          tiebreaker=PatientSearch.id)

    def search_statement(self, *, search: str, status: str | None, sort_by: str,
                         order: SortOrder) -> Select[Any]:
        """Ids of the matching patients in list order, each row with the number of matches.

        The matches are collected once (a materialized CTE) from the trigram index, then
        counted and sorted. Left to itself the planner may instead walk a sort index and
        filter it, betting that matches are spread evenly through the order; a surname search
        sorted by last name is the case where they are not, and the walk reads most of the
        table."""
        conditions = [search_condition(search)]
        if status:
            conditions.append(PatientSearch.status == status)
        matches = (select(PatientSearch.id, SORTABLE[sort_by].label("sort_key"))
                   .where(*conditions)
                   .cte("matches").prefix_with("MATERIALIZED", dialect="postgresql"))
        total = select(func.count()).select_from(matches).scalar_subquery()
        # Ties by id in the same direction, as apply_sort orders every other list.
        keys = (matches.c.sort_key, matches.c.id)
        return select(matches.c.id, total).order_by(
            *(key.desc() if order == "desc" else key.asc() for key in keys))

    async def plan_for_each_search(self) -> None:
        """Have PostgreSQL plan this transaction's searches for their actual words.

        Statements are prepared and cached per connection, and after a few runs PostgreSQL
        may settle on one generic plan that ignores the pattern: fine for "rivera", a scan of
        the whole trigram index for "jo", whose two letters hold no trigram to look up."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))

    async def count_with_status(self, status: str | None) -> int:
        """The practice's patients (of this status), from the maintained counts."""
        stmt = select(func.coalesce(func.sum(PatientCount.count), 0))
        if status:
            stmt = stmt.where(PatientCount.status == status)
        return int(await self.session.scalar(stmt) or 0)

    async def find_active_duplicate(self, *, email_key: str | None,
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
        for found_email, found_identity in (await self.session.execute(stmt)).all():
            if email_key and found_email == email_key and "email" not in clashes:
                clashes.append("email")
            if found_identity == identity_key and "identity" not in clashes:
                clashes.append("identity")
        return clashes
