"""The pharmacy directory, shared by every practice: one entry per NCPDP ID.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import dermifi.core.db

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pharmacy',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('ncpdp_id', sa.String(length=7), nullable=False),
    sa.Column('npi', sa.String(length=10), nullable=False),
    sa.Column('address', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('zip_code', sa.String(length=10), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('fax', sa.String(length=40), nullable=False),
    sa.Column('gateway', sa.String(length=20), nullable=False),
    sa.Column('added_by_practice_id', sa.String(length=40), nullable=True),
    sa.Column('created_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('updated_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=40), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['added_by_practice_id'], ['practice.id'], name=op.f('fk_pharmacy_added_by_practice_id_practice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pharmacy')),
    sa.UniqueConstraint('ncpdp_id', name=op.f('uq_pharmacy_ncpdp_id'))
    )
    with op.batch_alter_table('pharmacy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pharmacy_name_key'), ['name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_pharmacy_zip_code'), ['zip_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pharmacy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pharmacy_zip_code'))
        batch_op.drop_index(batch_op.f('ix_pharmacy_name_key'))

    op.drop_table('pharmacy')
