"""Providers and locations: the practice's sites, the provider directory, the provider-location
links (a table, so ?location= filters with a join), weekly working hours and days off.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 15:25:12.299679
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dermifi.core.db

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('location',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('code_key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', dermifi.core.db.PortableJSON, nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('created_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('updated_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=40), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_location_practice_id_practice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location')),
    sa.UniqueConstraint('practice_id', 'code_key', name=op.f('uq_location_practice_id_code_key'))
    )
    op.create_index(op.f('ix_location_practice_id'), 'location', ['practice_id'], unique=False)
    op.create_table('provider',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.String(length=40), nullable=True),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=50), nullable=False),
    sa.Column('specialty', sa.String(length=100), nullable=False),
    sa.Column('specialty_key', sa.String(length=100), nullable=False),
    sa.Column('subspecialty', sa.String(length=100), nullable=True),
    sa.Column('npi_number', sa.String(length=10), nullable=False),
    sa.Column('license_number', sa.String(length=30), nullable=False),
    sa.Column('license_state', sa.String(length=2), nullable=False),
    sa.Column('license_expiry_date', sa.Date(), nullable=False),
    sa.Column('license_verified', sa.Boolean(), nullable=False),
    sa.Column('license_verified_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('license_verified_by', sa.String(length=40), nullable=True),
    sa.Column('dea_number', sa.String(length=9), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('languages', dermifi.core.db.PortableJSON, nullable=False),
    sa.Column('accepting_new_patients', sa.Boolean(), nullable=False),
    sa.Column('education', dermifi.core.db.PortableJSON, nullable=False),
    sa.Column('residency', dermifi.core.db.PortableJSON, nullable=True),
    sa.Column('fellowship', dermifi.core.db.PortableJSON, nullable=True),
    sa.Column('certifications', dermifi.core.db.PortableJSON, nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('created_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('updated_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=40), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_provider_practice_id_practice')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_provider_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider')),
    sa.UniqueConstraint('practice_id', 'npi_number', name=op.f('uq_provider_practice_id_npi_number')),
    sa.UniqueConstraint('user_id', name=op.f('uq_provider_user_id'))
    )
    op.create_index(op.f('ix_provider_practice_id'), 'provider', ['practice_id'], unique=False)
    op.create_index('ix_provider_practice_id_last_name_first_name', 'provider', ['practice_id', 'last_name', 'first_name', 'id'], unique=False)
    op.create_index('ix_provider_practice_id_specialty_key', 'provider', ['practice_id', 'specialty_key'], unique=False)
    op.create_table('provider_day_off',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('provider_id', sa.String(length=40), nullable=False),
    sa.Column('off_date', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_provider_day_off_practice_id_practice')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_provider_day_off_provider_id_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_day_off')),
    sa.UniqueConstraint('provider_id', 'off_date', name=op.f('uq_provider_day_off_provider_id_off_date'))
    )
    op.create_index(op.f('ix_provider_day_off_practice_id'), 'provider_day_off', ['practice_id'], unique=False)
    op.create_table('provider_location',
    sa.Column('provider_id', sa.String(length=40), nullable=False),
    sa.Column('location_id', sa.String(length=40), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_provider_location_location_id_location')),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_provider_location_practice_id_practice')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_provider_location_provider_id_provider')),
    sa.PrimaryKeyConstraint('provider_id', 'location_id', name=op.f('pk_provider_location'))
    )
    op.create_index(op.f('ix_provider_location_location_id'), 'provider_location', ['location_id'], unique=False)
    op.create_index(op.f('ix_provider_location_practice_id'), 'provider_location', ['practice_id'], unique=False)
    op.create_table('provider_working_hours',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('provider_id', sa.String(length=40), nullable=False),
    sa.Column('day_of_week', sa.SmallInteger(), nullable=False),
    sa.Column('location_id', sa.String(length=40), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('break_start', sa.Time(), nullable=True),
    sa.Column('break_end', sa.Time(), nullable=True),
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.CheckConstraint('day_of_week BETWEEN 0 AND 6', name=op.f('ck_provider_working_hours_day_of_week')),
    sa.CheckConstraint('start_time < end_time', name=op.f('ck_provider_working_hours_start_before_end')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_provider_working_hours_location_id_location')),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_provider_working_hours_practice_id_practice')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider.id'], name=op.f('fk_provider_working_hours_provider_id_provider')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_working_hours'))
    )
    op.create_index(op.f('ix_provider_working_hours_location_id'), 'provider_working_hours', ['location_id'], unique=False)
    op.create_index(op.f('ix_provider_working_hours_practice_id'), 'provider_working_hours', ['practice_id'], unique=False)
    op.create_index('ix_provider_working_hours_provider_id_day', 'provider_working_hours', ['provider_id', 'day_of_week'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_provider_working_hours_provider_id_day', table_name='provider_working_hours')
    op.drop_index(op.f('ix_provider_working_hours_practice_id'), table_name='provider_working_hours')
    op.drop_index(op.f('ix_provider_working_hours_location_id'), table_name='provider_working_hours')
    op.drop_table('provider_working_hours')
    op.drop_index(op.f('ix_provider_location_practice_id'), table_name='provider_location')
    op.drop_index(op.f('ix_provider_location_location_id'), table_name='provider_location')
    op.drop_table('provider_location')
    op.drop_index(op.f('ix_provider_day_off_practice_id'), table_name='provider_day_off')
    op.drop_table('provider_day_off')
    op.drop_index('ix_provider_practice_id_specialty_key', table_name='provider')
    op.drop_index('ix_provider_practice_id_last_name_first_name', table_name='provider')
    op.drop_index(op.f('ix_provider_practice_id'), table_name='provider')
    op.drop_table('provider')
    op.drop_index(op.f('ix_location_practice_id'), table_name='location')
    op.drop_table('location')
