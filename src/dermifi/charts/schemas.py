"""The chart as the API answers it: the patient's demographics with what the clinical domains
add (includes, the history timeline)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from dermifi.core.schemas import ApiModel, UtcDateTime
from dermifi.notes.schemas import NoteRead
from dermifi.patients.schemas import PatientRead, ProviderRef
from dermifi.scheduling.schemas import AppointmentRead


class PatientChart(PatientRead):
    # Present only when asked for with ?include=...
    appointments: list[AppointmentRead] | None = Field(
        None, description="With include=appointments: every appointment, latest first")
    prescriptions: list[dict[str, Any]] | None = Field(
        None, description="With include=prescriptions")
    notes: list[NoteRead] | None = Field(None, description="With include=notes")


class PathologyRead(ApiModel):
    result: str
    report_date: UtcDateTime | None = None


class HistoryEntry(ApiModel):
    id: str
    date: UtcDateTime
    type: Literal["visit", "prescription", "lab", "imaging"]
    provider: ProviderRef | None = None
    chief_complaint: str | None = None
    diagnosis: list[str] = Field(default_factory=list)
    treatment: str | None = None
    notes: str | None = None
    follow_up: str | None = None
    pathology: PathologyRead | None = None
    note_id: str | None = Field(None, description="The signed note this visit comes from")


class DateRange(ApiModel):
    from_: UtcDateTime | None = Field(None, alias="from")
    to: UtcDateTime | None = None


class PatientHistory(ApiModel):
    patient_id: str
    history: list[HistoryEntry]
    total_records: int
    date_range: DateRange
