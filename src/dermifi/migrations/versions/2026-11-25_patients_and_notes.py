"""Patients, clinical notes and addenda, and the per-year number sequences.

On PostgreSQL, trigram (pg_trgm) GIN indexes serve substring search over names, email and
phone digits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 14:45:45.698886
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dermifi.core.db

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGRAM_COLUMNS = ("first_name", "last_name", "email_key", "phone_digits")


def upgrade() -> None:
    op.create_table('number_sequence',
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_number_sequence_practice_id_practice')),
    sa.PrimaryKeyConstraint('practice_id', 'name', 'year', name=op.f('pk_number_sequence'))
    )
    op.create_table('patient',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('patient_number', sa.String(length=20), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('email_key', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('phone_digits', sa.String(length=20), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('gender', sa.String(length=10), nullable=False),
    sa.Column('identity_key', sa.String(length=240), nullable=False),
    sa.Column('address', dermifi.core.db.PortableJSON, nullable=True),
    sa.Column('emergency_contact', dermifi.core.db.PortableJSON, nullable=True),
    sa.Column('insurance', dermifi.core.db.PortableJSON, nullable=True),
    sa.Column('allergies', dermifi.core.db.PortableJSON, nullable=False),
    sa.Column('medications', dermifi.core.db.PortableJSON, nullable=False),
    sa.Column('conditions', dermifi.core.db.PortableJSON, nullable=False),
    sa.Column('consent_to_treat', sa.Boolean(), nullable=False),
    sa.Column('hipaa_consent', sa.Boolean(), nullable=False),
    sa.Column('consented_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('primary_provider_id', sa.String(length=40), nullable=True),
    sa.Column('created_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('updated_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=40), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deactivated_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deactivated_by', sa.String(length=40), nullable=True),
    sa.Column('deactivation_reason', sa.String(length=40), nullable=True),
    sa.Column('deactivation_notes', sa.String(length=2000), nullable=True),
    sa.Column('data_retention_date', dermifi.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_patient_practice_id_practice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient')),
    sa.UniqueConstraint('practice_id', 'patient_number', name=op.f('uq_patient_practice_id_patient_number'))
    )
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_practice_id'), ['practice_id'], unique=False)
        batch_op.create_index('ix_patient_practice_id_created_at_id', ['practice_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_patient_practice_id_first_name_id', ['practice_id', 'first_name', 'id'], unique=False)
        batch_op.create_index('ix_patient_practice_id_last_name_id', ['practice_id', 'last_name', 'id'], unique=False)
        batch_op.create_index('uq_patient_practice_id_email_key', ['practice_id', 'email_key'], unique=True, postgresql_where=sa.text("status = 'active' AND email_key IS NOT NULL"), sqlite_where=sa.text("status = 'active' AND email_key IS NOT NULL"))
        batch_op.create_index('uq_patient_practice_id_identity_key', ['practice_id', 'identity_key'], unique=True, postgresql_where=sa.text("status = 'active'"), sqlite_where=sa.text("status = 'active'"))

    op.create_table('clinical_note',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('patient_id', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('visit_id', sa.String(length=64), nullable=True),
    sa.Column('content', dermifi.core.db.PortableJSON, nullable=False),
    sa.Column('icd10_codes', dermifi.core.db.PortableJSON, nullable=False),
    sa.Column('cpt_codes', dermifi.core.db.PortableJSON, nullable=False),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('created_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('updated_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('signed_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('signed_by', sa.String(length=40), nullable=True),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_clinical_note_created_by_user_account')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_clinical_note_patient_id_patient')),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_clinical_note_practice_id_practice')),
    sa.ForeignKeyConstraint(['signed_by'], ['user_account.id'], name=op.f('fk_clinical_note_signed_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinical_note'))
    )
    with op.batch_alter_table('clinical_note', schema=None) as batch_op:
        batch_op.create_index('ix_clinical_note_patient_id_created_at', ['patient_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_clinical_note_practice_id'), ['practice_id'], unique=False)

    op.create_table('note_addendum',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('note_id', sa.String(length=40), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_note_addendum_created_by_user_account')),
    sa.ForeignKeyConstraint(['note_id'], ['clinical_note.id'], name=op.f('fk_note_addendum_note_id_clinical_note')),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_note_addendum_practice_id_practice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_note_addendum'))
    )
    with op.batch_alter_table('note_addendum', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_note_addendum_note_id'), ['note_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_note_addendum_practice_id'), ['practice_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in TRIGRAM_COLUMNS:
            op.execute(f"CREATE INDEX ix_patient_{column}_trgm ON patient "
                       f"USING gin ({column} gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in TRIGRAM_COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS ix_patient_{column}_trgm")
    with op.batch_alter_table('note_addendum', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_note_addendum_practice_id'))
        batch_op.drop_index(batch_op.f('ix_note_addendum_note_id'))

    op.drop_table('note_addendum')
    with op.batch_alter_table('clinical_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinical_note_practice_id'))
        batch_op.drop_index('ix_clinical_note_patient_id_created_at')

    op.drop_table('clinical_note')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index('uq_patient_practice_id_identity_key', postgresql_where=sa.text("status = 'active'"), sqlite_where=sa.text("status = 'active'"))
        batch_op.drop_index('uq_patient_practice_id_email_key', postgresql_where=sa.text("status = 'active' AND email_key IS NOT NULL"), sqlite_where=sa.text("status = 'active' AND email_key IS NOT NULL"))
        batch_op.drop_index('ix_patient_practice_id_last_name_id')
        batch_op.drop_index('ix_patient_practice_id_first_name_id')
        batch_op.drop_index('ix_patient_practice_id_created_at_id')
        batch_op.drop_index(batch_op.f('ix_patient_practice_id'))

    op.drop_table('patient')
    op.drop_table('number_sequence')
