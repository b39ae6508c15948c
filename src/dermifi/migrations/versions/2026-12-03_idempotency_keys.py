"""Idempotency keys: the first response to a POST carrying ``Idempotency-Key``, kept 24 hours
per practice, user, route and key so a retry replays it instead of creating twice.

No index of ``practice_id`` alone: the unique constraint starts with it, and the purge of
expired rows reads ``(practice_id, expires_at)``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dermifi.core.db

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotency_key',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.String(length=40), nullable=False),
    sa.Column('route', sa.String(length=255), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.LargeBinary(), nullable=True),
    sa.Column('response_headers', dermifi.core.db.PortableJSON, nullable=True),
    sa.Column('created_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_idempotency_key_practice_id_practice')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_idempotency_key_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_key')),
    sa.UniqueConstraint('practice_id', 'user_id', 'route', 'key', name=op.f('uq_idempotency_key_practice_id_user_id_route_key'))
    )
    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_key_practice_id_expires_at', ['practice_id', 'expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_key_practice_id_expires_at')

    op.drop_table('idempotency_key')
