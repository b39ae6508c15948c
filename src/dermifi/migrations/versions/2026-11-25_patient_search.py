"""Patient search at scale: a narrow search table and maintained per-status counts.

``patient_search`` holds one narrow row per patient (status, sort keys, the lower-cased
names and email as one ``terms`` text, phone digits); lists and searches read it instead of
the wide patient rows, and on PostgreSQL its trigram (pg_trgm) GIN indexes serve substring
search. ``patient_count`` keeps the number of patients per practice and status, so the exact
total of an unfiltered or status-only list is one row read. Both are backfilled here from
the existing patients; the patient table's own sort and trigram indexes, which nothing reads
any more, are dropped.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dermifi.core.db

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_TRIGRAM_COLUMNS = ("first_name", "last_name", "email_key", "phone_digits")
SORT_COLUMNS = ("last_name", "first_name", "created_at")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table('patient_search',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('created_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('terms', sa.String(length=460), nullable=False),
    sa.Column('phone_digits', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['id'], ['patient.id'], name=op.f('fk_patient_search_id_patient')),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_patient_search_practice_id_practice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_search'))
    )
    op.create_table('patient_count',
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_patient_count_practice_id_practice')),
    sa.PrimaryKeyConstraint('practice_id', 'status', name=op.f('pk_patient_count'))
    )

    # Backfill before indexing: building an index over loaded rows is much cheaper than
    # growing it row by row. ``terms`` is the same expression the application writes
    # (dermifi.patients.projection.terms_expression), spelled out so this revision keeps its
    # meaning whatever that module becomes.
    op.execute(
        "INSERT INTO patient_search (id, practice_id, status, last_name, first_name, "
        "created_at, terms, phone_digits) "
        "SELECT id, practice_id, status, last_name, first_name, created_at, "
        "lower(first_name || ' ' || last_name || ' ' || coalesce(email_key, '')), "
        "phone_digits FROM patient")
    op.execute(
        "INSERT INTO patient_count (practice_id, status, count) "
        "SELECT practice_id, status, count(*) FROM patient GROUP BY practice_id, status")

    with op.batch_alter_table('patient_search', schema=None) as batch_op:
        for column in SORT_COLUMNS:
            batch_op.create_index(f'ix_patient_search_practice_id_{column}_id',
                                  ['practice_id', column, 'id'], unique=False)
            batch_op.create_index(f'ix_patient_search_practice_id_status_{column}_id',
                                  ['practice_id', 'status', column, 'id'], unique=False)

    with op.batch_alter_table('patient', schema=None) as batch_op:
        for column in SORT_COLUMNS:
            batch_op.drop_index(f'ix_patient_practice_id_{column}_id')

    if _postgresql():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in OLD_TRIGRAM_COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS ix_patient_{column}_trgm")
        # fastupdate off: a search scans GIN's pending list linearly, so inserts pay for
        # the index at once and searches stay fast without waiting for a vacuum.
        for column in ("terms", "phone_digits"):
            op.execute(f"CREATE INDEX ix_patient_search_{column}_trgm ON patient_search "
                       f"USING gin ({column} gin_trgm_ops) WITH (fastupdate = off)")
        op.execute("ANALYZE patient_search")


def downgrade() -> None:
    if _postgresql():
        for column in ("terms", "phone_digits"):
            op.execute(f"DROP INDEX IF EXISTS ix_patient_search_{column}_trgm")
        for column in OLD_TRIGRAM_COLUMNS:
            op.execute(f"CREATE INDEX ix_patient_{column}_trgm ON patient "
                       f"USING gin ({column} gin_trgm_ops)")

    with op.batch_alter_table('patient', schema=None) as batch_op:
        for column in SORT_COLUMNS:
            batch_op.create_index(f'ix_patient_practice_id_{column}_id',
                                  ['practice_id', column, 'id'], unique=False)

    with op.batch_alter_table('patient_search', schema=None) as batch_op:
        for column in SORT_COLUMNS:
            batch_op.drop_index(f'ix_patient_search_practice_id_status_{column}_id')
            batch_op.drop_index(f'ix_patient_search_practice_id_{column}_id')

    op.drop_table('patient_count')
    op.drop_table('patient_search')
