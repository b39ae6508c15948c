"""A patient's history: visits (signed notes), prescriptions, labs and imaging, merged."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit import service as audit_service
from dermifi.auth.actor import Actor
from dermifi.core.db import unit_of_work
from dermifi.core.errors import ValidationFailed
from dermifi.notes import service as notes_service
from dermifi.patients import policies
from dermifi.patients.models import Patient

HistoryType = Literal["visit", "prescription", "lab", "imaging", "all"]


def day_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """Whole days in UTC: from 00:00:00 of the start date to 23:59:59 of the end date."""
    low = datetime.combine(start, time.min, tzinfo=UTC) if start else None
    high = (datetime.combine(end, time.min, tzinfo=UTC) + timedelta(days=1, seconds=-1)
            if end else None)
    return low, high


async def patient_history(session: AsyncSession, actor: Actor, *, patient: Patient,
                          start_date: date | None, end_date: date | None,
                          kind: HistoryType) -> dict[str, Any]:
    policies.ensure_can_read_clinical(actor)
    if start_date and end_date and start_date > end_date:
        raise ValidationFailed(details=[{"field": "endDate",
                                         "message": "endDate is before startDate"}])
    start, end = day_bounds(start_date, end_date)
    entries: list[dict[str, Any]] = []
    async with unit_of_work(session):
        if kind in ("visit", "all"):
            entries += await notes_service.visits(session, actor, patient=patient,
                                                  start=start, end=end)
        # Prescriptions, labs and imaging join here as their domains arrive.
        entries.sort(key=lambda e: (e["date"], e["id"]), reverse=True)
        await audit_service.record(session, actor, "patient.history.read",
                                   resource_type="patient", resource_id=patient.id,
                                   patient_id=patient.id,
                                   details={"type": kind, "returned": len(entries)})
    dates: list[datetime] = [e["date"] for e in entries]
    return {
        "patient_id": patient.id,
        "history": entries,
        "total_records": len(entries),
        "date_range": {"from": start or (min(dates) if dates else None),
                       "to": end or (max(dates) if dates else None)},
    }
