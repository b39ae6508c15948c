"""Provider queries. Practice scoping is applied by the session."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, delete, select

from dermifi.auth.actor import Actor
from dermifi.core.repository import Repository
from dermifi.providers.models import DayOff, Provider, ProviderLocation, WorkingHours


class ProviderRepository(Repository[Provider, Actor]):
    """The directory is the same for every reader, so ``readable`` is the base's."""

    model = Provider
    not_found = "No such provider"

    def list_statement(self, actor: Actor, *, specialty: str | None, available: bool | None,
                       location_id: str | None, status: str | None) -> Select[Any]:
        stmt = self.readable(actor)
        if specialty is not None:
            stmt = stmt.where(Provider.specialty_key == specialty.lower())
        if available is not None:
            stmt = stmt.where(Provider.accepting_new_patients.is_(available))
        if location_id is not None:
            # One link per provider and location (the primary key), so no duplicates.
            stmt = stmt.join(ProviderLocation, ProviderLocation.provider_id == Provider.id
                             ).where(ProviderLocation.location_id == location_id)
        if status is not None:
            stmt = stmt.where(Provider.status == status)
        return stmt.order_by(Provider.last_name, Provider.first_name, Provider.id)

    async def npi_taken(self, npi: str) -> bool:
        found = await self.session.scalar(select(Provider.id).where(Provider.npi_number == npi))
        return found is not None

    async def provider_of_user(self, user_id: str) -> str | None:
        linked: str | None = await self.session.scalar(
            select(Provider.id).where(Provider.user_id == user_id))
        return linked

    async def working_hours(self, provider_id: str, *,
                            day_of_week: int | None = None) -> Sequence[WorkingHours]:
        stmt = select(WorkingHours).where(WorkingHours.provider_id == provider_id)
        if day_of_week is not None:
            stmt = stmt.where(WorkingHours.day_of_week == day_of_week)
        stmt = stmt.order_by(WorkingHours.day_of_week, WorkingHours.start_time, WorkingHours.id)
        return (await self.session.scalars(stmt)).all()

    async def days_off(self, provider_id: str, *, on: date | None = None
                       ) -> Sequence[DayOff]:
        stmt = select(DayOff).where(DayOff.provider_id == provider_id)
        if on is not None:
            stmt = stmt.where(DayOff.off_date == on)
        return (await self.session.scalars(stmt.order_by(DayOff.off_date))).all()

    async def locations_with_hours(self, provider_id: str) -> set[str]:
        rows = await self.session.scalars(select(WorkingHours.location_id).distinct()
                                          .where(WorkingHours.provider_id == provider_id))
        return set(rows)

    async def replace_working_hours(self, provider_id: str, hours: Iterable[WorkingHours],
                                    days: Iterable[DayOff]) -> None:
        """Delete the provider's template and days off, then add the new ones (flushes)."""
        # Statements, not ORM deletes: they run before the inserts, so a day off kept from the
        # old list does not meet itself on the (provider, date) unique key.
        for model in (WorkingHours, DayOff):
            await self.session.execute(delete(model).where(model.provider_id == provider_id)
                                       .execution_options(synchronize_session=False))
        self.session.add_all([*hours, *days])
        await self.session.flush()
