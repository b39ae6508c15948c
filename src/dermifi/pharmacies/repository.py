"""Pharmacy directory queries. The directory is shared: no practice scoping applies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select

from dermifi.auth.actor import Actor
from dermifi.core.repository import Repository
from dermifi.pharmacies.models import Pharmacy, name_key


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


class PharmacyRepository(Repository[Pharmacy, Actor]):
    model = Pharmacy
    not_found = "No such pharmacy"

    async def ncpdp_taken(self, ncpdp_id: str) -> bool:
        return (await self.session.scalar(
            select(Pharmacy.id).where(Pharmacy.ncpdp_id == ncpdp_id))) is not None

    def search_statement(self, actor: Actor, *, search: str | None, zip_code: str | None,
                         ncpdp_id: str | None) -> Select[Any]:
        stmt = self.readable(actor)
        if search:
            # A prefix of the name or of any word in it: "cvs", "walgreens", "market".
            key = name_key(search)
            stmt = stmt.where(or_(
                Pharmacy.name_key.like(_like_prefix(key), escape="\\"),
                Pharmacy.name_key.like("% " + _like_prefix(key), escape="\\")))
        if zip_code:
            stmt = stmt.where(Pharmacy.zip_code == zip_code)
        if ncpdp_id:
            stmt = stmt.where(Pharmacy.ncpdp_id == ncpdp_id)
        return stmt.order_by(Pharmacy.name_key, Pharmacy.id)
