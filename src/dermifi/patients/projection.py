"""Upkeep of ``patient_search`` and ``patient_count``, derived from ``patient``.

The listeners run inside the flush that writes the patient, on its connection, so the search
row and the counts commit or roll back with the chart. They hang on the mapper rather than on
each service function: an exact total must not depend on every future write path
remembering a call. Bulk loads that bypass the ORM (bench/patients_data.py) call
``index_patients`` and ``adjust_counts`` themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, delete, event, func, insert, inspect, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapper

from dermifi.patients.models import Patient, PatientCount, PatientSearch

# What a patient update must change for its search row to be rewritten.
SEARCHED = ("first_name", "last_name", "email_key", "phone_digits", "status")

def terms_expression() -> Any:
    """The searched text of a patient row. Lowered by the database, as ILIKE lowers both
    sides, so a search matches exactly what ILIKE on the three columns matched."""
    return func.lower(Patient.first_name + literal(" ") + Patient.last_name + literal(" ")
                      + func.coalesce(Patient.email_key, literal("")))


def index_patients(conn: Connection, ids: Iterable[str]) -> None:
    """(Re)write the search rows of these patients from their current patient rows."""
    ids = list(ids)
    conn.execute(delete(PatientSearch).where(PatientSearch.id.in_(ids)))
    conn.execute(insert(PatientSearch).from_select(
        ["id", "practice_id", "status", "last_name", "first_name", "created_at", "terms",
         "phone_digits"],
        select(Patient.id, Patient.practice_id, Patient.status, Patient.last_name,
               Patient.first_name, Patient.created_at, terms_expression(),
               Patient.phone_digits).where(Patient.id.in_(ids))))


def adjust_counts(conn: Connection, practice_id: str, deltas: Mapping[str, int]) -> None:
    """Move the practice's per-status counts by ``deltas`` (status -> change)."""
    # Sorted, so two transactions moving the same rows lock them in the same order and
    # cannot deadlock (a deactivation takes "active" then "inactive", as would a return).
    for status in sorted(deltas):
        delta = deltas[status]
        if delta == 0:
            continue
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        # An upsert: the first patient of a status creates its row, and two concurrent
        # first patients cannot both insert it.
        stmt = dialect.insert(PatientCount).values(practice_id=practice_id, status=status,
                                                   count=delta)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=[PatientCount.practice_id, PatientCount.status],
            set_={"count": PatientCount.count + delta}))


@event.listens_for(Patient, "after_insert")
def _patient_inserted(_mapper: Mapper[Patient], conn: Connection, patient: Patient) -> None:
    index_patients(conn, [patient.id])
    adjust_counts(conn, patient.practice_id, {patient.status: 1})


@event.listens_for(Patient, "after_update")
def _patient_updated(_mapper: Mapper[Patient], conn: Connection, patient: Patient) -> None:
    state = inspect(patient)
    if not any(state.attrs[name].history.has_changes() for name in SEARCHED):
        return
    # The previous status is read from the search row, not from the attribute history,
    # which is empty when the old value was never loaded.
    before = conn.scalar(select(PatientSearch.status).where(PatientSearch.id == patient.id))
    index_patients(conn, [patient.id])
    if before is None:
        # Written around the ORM and its listeners, so never counted either: count it now.
        adjust_counts(conn, patient.practice_id, {patient.status: 1})
    elif before != patient.status:
        adjust_counts(conn, patient.practice_id, {before: -1, patient.status: 1})
