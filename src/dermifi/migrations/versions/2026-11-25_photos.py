"""Clinical photos: one row per upload, pointing at its stored original and thumbnail.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 14:56:40.685123
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dermifi.core.db

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('photo',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('patient_id', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('body_part', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=True),
    sa.Column('client_metadata', dermifi.core.db.PortableJSON, nullable=False),
    sa.Column('taken_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('uploaded_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by', sa.String(length=40), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('storage_key', sa.String(length=255), nullable=False),
    sa.Column('thumbnail_key', sa.String(length=255), nullable=False),
    sa.Column('file_size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('thumbnail_size', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_photo_patient_id_patient')),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_photo_practice_id_practice')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['user_account.id'], name=op.f('fk_photo_uploaded_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photo'))
    )
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.create_index('ix_photo_patient_id_taken_at', ['patient_id', 'taken_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_practice_id'), ['practice_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photo_practice_id'))
        batch_op.drop_index('ix_photo_patient_id_taken_at')

    op.drop_table('photo')
