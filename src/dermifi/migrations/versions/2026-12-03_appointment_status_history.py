"""Appointments keep their status history (``core.state_machine``): one row per change.

Appointments booked before this revision get a history rebuilt from what they recorded:
booked (by their creator), then confirmed, checked in, completed, cancelled (by who cancelled)
or marked a no-show, each at its own timestamp, and marked as rebuilt in ``notes``. A step
that was later undone (a confirmation cleared by a move) left no trace and gets no row.
Versions count down from the appointment's current one, so new changes (which take the
version their write produces) never collide with a rebuilt row.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:20:00
"""

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import dermifi.core.db

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ('scheduled', 'confirmed', 'checked_in', 'completed', 'cancelled', 'no_show')
REBUILT = "Rebuilt from the appointment's timestamps when status history began"
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _new_id() -> str:
    # core.ids.new_id as it is today: a migration must not change when that module does.
    number, chars = secrets.randbits(128), []
    for _ in range(25):
        number, rem = divmod(number, 36)
        chars.append(_ALPHABET[rem])
    return "hist_" + "".join(chars)


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite hands back text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def upgrade() -> None:
    history = op.create_table(
        'appointment_status_change',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('from_status', sa.String(length=30), nullable=True),
        sa.Column('to_status', sa.String(length=30), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('changed_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('changed_by', sa.String(length=40), nullable=True),
        sa.Column('notes', sa.String(length=500), nullable=True),
        sa.Column('appointment_id', sa.String(length=40), nullable=False),
        sa.Column('practice_id', sa.String(length=40), nullable=False),
        sa.CheckConstraint(
            "to_status IN ('scheduled', 'confirmed', 'checked_in', 'completed', 'cancelled', "
            "'no_show')", name=op.f('ck_appointment_status_change_to_status')),
        sa.ForeignKeyConstraint(
            ['appointment_id'], ['appointment.id'],
            name=op.f('fk_appointment_status_change_appointment_id_appointment')),
        sa.ForeignKeyConstraint(
            ['practice_id'], ['practice.id'],
            name=op.f('fk_appointment_status_change_practice_id_practice')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_status_change')),
        sa.UniqueConstraint('appointment_id', 'version',
                            name=op.f('uq_appointment_status_change_appointment_id_version')),
    )
    with op.batch_alter_table('appointment_status_change') as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_status_change_practice_id'),
                              ['practice_id'], unique=False)

    appointment = sa.table(
        'appointment', *(sa.column(c) for c in (
            'id', 'practice_id', 'status', 'version', 'created_at', 'created_by',
            'confirmed_at', 'checked_in_at', 'completed_at', 'cancelled_at', 'cancelled_by',
            'cancellation_reason', 'no_show_at')))
    bind = op.get_bind()
    rows = []
    for a in bind.execute(sa.select(appointment)).mappings():
        steps: list[tuple[datetime, str, str, str | None, str | None]] = [
            (_utc(a['created_at']), 'create', 'scheduled', a['created_by'], None)]
        for column, action, status in (('confirmed_at', 'confirm', 'confirmed'),
                                       ('checked_in_at', 'check_in', 'checked_in'),
                                       ('completed_at', 'complete', 'completed'),
                                       ('cancelled_at', 'cancel', 'cancelled'),
                                       ('no_show_at', 'no_show', 'no_show')):
            if a[column] is not None:
                by = a['cancelled_by'] if column == 'cancelled_at' else None
                steps.append((_utc(a[column]), action, status, by, None))
        steps.sort(key=lambda step: step[0])
        previous: str | None = None
        # Below the current version, whatever that is (even zero or less): only the order and
        # the versions still to come matter.
        first_version = a['version'] - len(steps) + 1
        for offset, (at, action, status, by, _) in enumerate(steps):
            rows.append({
                'id': _new_id(), 'version': first_version + offset, 'from_status': previous,
                'to_status': status, 'action': action, 'changed_at': at, 'changed_by': by,
                'notes': REBUILT, 'appointment_id': a['id'], 'practice_id': a['practice_id']})
            previous = status
    if rows:
        op.bulk_insert(history, rows)


def downgrade() -> None:
    with op.batch_alter_table('appointment_status_change') as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_status_change_practice_id'))
    op.drop_table('appointment_status_change')
