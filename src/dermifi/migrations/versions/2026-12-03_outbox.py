"""The transactional outbox: messages committed with the change that causes them, delivered
by the outbox worker after commit.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dermifi.core.db

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'outbox_message',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('topic', sa.String(length=60), nullable=False),
        sa.Column('target', sa.String(length=200), nullable=True),
        sa.Column('payload', dermifi.core.db.PortableJSON, nullable=False),
        sa.Column('idempotency_key', sa.String(length=120), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('locked_until', dermifi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('claim_token', sa.String(length=40), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('created_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=40), nullable=True),
        sa.Column('request_id', sa.String(length=64), nullable=True),
        sa.Column('delivered_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('failed_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('practice_id', sa.String(length=40), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')",
                           name=op.f('ck_outbox_message_status')),
        sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_message_attempts')),
        sa.ForeignKeyConstraint(['practice_id'], ['practice.id'],
                                name=op.f('fk_outbox_message_practice_id_practice')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
        sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_message_idempotency_key')),
    )
    with op.batch_alter_table('outbox_message') as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_practice_id'), ['practice_id'],
                              unique=False)
        batch_op.create_index('ix_outbox_message_status_next_attempt_at',
                              ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_message_practice_id_status_created_at',
                              ['practice_id', 'status', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_message') as batch_op:
        batch_op.drop_index('ix_outbox_message_practice_id_status_created_at')
        batch_op.drop_index('ix_outbox_message_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_outbox_message_practice_id'))
    op.drop_table('outbox_message')
