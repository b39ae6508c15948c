"""Migrations run from empty on both backends, match the models, and reverse cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection

from dermifi.auth.actor import Actor
from dermifi.auth.permissions import Role
from dermifi.core.clock import SystemClock
from dermifi.core.config import Settings
from dermifi.core.db import create_engine, scope_to_practice, unit_of_work
from dermifi.core.ids import new_id
from dermifi.locations import service as locations_service
from dermifi.locations.schemas import LocationCreate
from dermifi.main import build_state
from dermifi.migrate import downgrade, upgrade
from dermifi.migrations.env_filters import include_object
from dermifi.models import Base
from dermifi.providers import service as providers_service
from dermifi.providers.models import WorkingHours
from dermifi.providers.schemas import ProviderCreate
from tests.factories.locations import location_payload
from tests.factories.patients import make_patient
from tests.factories.practices import make_practice
from tests.factories.providers import provider_payload
from tests.factories.users import make_user
from tests.support import (
    Backend,
    create_postgres_database,
    create_sqlite_database,
    drop_postgres_database,
    test_settings,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    db = (create_sqlite_database(tmp_path) if request.param == "sqlite"
          else create_postgres_database())
    yield db
    if db.name == "postgresql":
        drop_postgres_database(db)


def _inspect(url: str) -> tuple[set[str], list[object]]:
    def work(conn: Connection) -> tuple[set[str], list[object]]:
        tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(context, Base.metadata)
        return tables, diff

    async def main() -> tuple[set[str], list[object]]:
        engine = create_engine(url)
        async with engine.connect() as conn:
            result = await conn.run_sync(work)
        await engine.dispose()
        return result

    return asyncio.run(main())


def test_upgrade_matches_models_and_downgrade_reverses(empty_database: Backend,
                                                       tmp_path: Path) -> None:
    settings = test_settings(empty_database, tmp_path)
    upgrade(settings)
    tables, diff = _inspect(settings.async_database_url)
    assert tables == set(Base.metadata.tables)
    assert diff == [], f"models and migrations differ: {diff}"
    downgrade(settings)
    tables, _ = _inspect(settings.async_database_url)
    assert tables == set()
    upgrade(settings)
    tables, diff = _inspect(settings.async_database_url)
    assert tables == set(Base.metadata.tables)
    assert diff == []


def _split_day_template(settings: Settings, entries: list[tuple[time, time]]) -> str:
    """At revision 0004: a provider whose Monday at one location is several entries (which
    the template then allowed). Returns the provider's id."""

    async def work() -> str:
        state = build_state(settings, SystemClock())
        try:
            practice = await make_practice(state)
            admin = await make_user(state, practice_id=practice.id, role=Role.ADMIN)
            actor = Actor.of(admin.user, session_id="test")
            async with state.sessionmaker() as session:
                scope_to_practice(session, practice.id)
                location = await locations_service.create_location(
                    session, actor, data=LocationCreate.model_validate(location_payload("SF")))
                provider = await providers_service.create_provider(
                    session, actor, data=ProviderCreate.model_validate(provider_payload()))
                async with unit_of_work(session):
                    session.add_all(WorkingHours(
                        id=new_id("wh"), practice_id=practice.id, provider_id=provider.id,
                        day_of_week=0, location_id=location.id, start_time=start,
                        end_time=end) for start, end in entries)
                return provider.id
        finally:
            await state.engine.dispose()

    return asyncio.run(work())


def _monday(settings: Settings, provider_id: str) -> list[tuple[object, ...]]:
    async def work() -> list[tuple[object, ...]]:
        engine = create_engine(settings.async_database_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(WorkingHours.start_time, WorkingHours.end_time,
                           WorkingHours.break_start, WorkingHours.break_end)
                    .where(WorkingHours.provider_id == provider_id))
                return [tuple(r) for r in rows.all()]
        finally:
            await engine.dispose()

    return asyncio.run(work())


def test_a_split_day_becomes_one_entry_with_its_break(empty_database: Backend,
                                                      tmp_path: Path) -> None:
    settings = test_settings(empty_database, tmp_path)
    upgrade(settings, "0004")
    provider_id = _split_day_template(settings, [(time(13), time(17)), (time(9), time(12))])
    upgrade(settings)
    assert _monday(settings, provider_id) == [(time(9), time(17), time(12), time(13))]


def test_a_day_one_entry_cannot_express_stops_the_upgrade(empty_database: Backend,
                                                          tmp_path: Path) -> None:
    settings = test_settings(empty_database, tmp_path)
    upgrade(settings, "0004")
    provider_id = _split_day_template(
        settings, [(time(8), time(10)), (time(11), time(13)), (time(14), time(16))])
    with pytest.raises(RuntimeError, match=f"provider {provider_id} has 3 working-hours"):
        upgrade(settings)


def _appointment_before_history(settings: Settings) -> tuple[str, str]:
    """At revision 0009: an appointment that was confirmed and then cancelled, as the book
    recorded it before status history existed. Returns its id and the canceller's id."""
    from dermifi.scheduling.models import Appointment

    async def work() -> tuple[str, str]:
        state = build_state(settings, SystemClock())
        try:
            practice = await make_practice(state)
            admin = await make_user(state, practice_id=practice.id, role=Role.ADMIN)
            actor = Actor.of(admin.user, session_id="test")
            patient = await make_patient(state, actor)
            async with state.sessionmaker() as session:
                scope_to_practice(session, practice.id)
                location = await locations_service.create_location(
                    session, actor, data=LocationCreate.model_validate(location_payload("SF")))
                provider = await providers_service.create_provider(
                    session, actor, data=ProviderCreate.model_validate(provider_payload()))
                booked = datetime(2026, 1, 5, 9, tzinfo=UTC)
                async with unit_of_work(session):
                    appointment = Appointment(
                        id=new_id("appt"), practice_id=practice.id, patient_id=patient.id,
                        provider_id=provider.id, location_id=location.id,
                        starts_at=booked + timedelta(days=7),
                        ends_at=booked + timedelta(days=7, minutes=30), duration_minutes=30,
                        type="consultation", status="cancelled", version=5,
                        created_at=booked, created_by=admin.user.id, updated_at=booked,
                        confirmed_at=booked + timedelta(days=1),
                        cancelled_at=booked + timedelta(days=2), cancelled_by=actor.id,
                        cancellation_reason="Patient request")
                    session.add(appointment)
                    await session.flush()
                    # Five writes since booking (the ORM counts versions itself from 1).
                    await session.execute(text("UPDATE appointment SET version = 5"))
                return appointment.id, actor.id
        finally:
            await state.engine.dispose()

    return asyncio.run(work())


def test_appointments_get_a_status_history_rebuilt_from_their_timestamps(
        empty_database: Backend, tmp_path: Path) -> None:
    from dermifi.scheduling.models import AppointmentStatusChange

    settings = test_settings(empty_database, tmp_path)
    upgrade(settings, "0009")
    appointment_id, canceller = _appointment_before_history(settings)
    upgrade(settings)

    async def history() -> list[tuple[object, ...]]:
        engine = create_engine(settings.async_database_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(AppointmentStatusChange.version, AppointmentStatusChange.from_status,
                           AppointmentStatusChange.to_status, AppointmentStatusChange.action,
                           AppointmentStatusChange.changed_by)
                    .where(AppointmentStatusChange.appointment_id == appointment_id)
                    .order_by(AppointmentStatusChange.version))
                return [tuple(r) for r in rows.all()]
        finally:
            await engine.dispose()

    rows = asyncio.run(history())
    creator = rows[0][4]
    assert creator is not None
    # Counted down from the current version (5): the next change writes 6, never a clash.
    assert rows == [(3, None, "scheduled", "create", creator),
                    (4, "scheduled", "confirmed", "confirm", None),
                    (5, "confirmed", "cancelled", "cancel", canceller)]
