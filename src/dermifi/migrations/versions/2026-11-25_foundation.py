"""Foundation: practices, users, auth sessions and refresh tokens, login failures, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 14:22:52.715354
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dermifi.core.db

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('practice',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('ip_allowlist', dermifi.core.db.PortableJSON, nullable=False),
    sa.Column('created_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practice'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.String(length=40), nullable=True),
    sa.Column('actor_role', sa.String(length=20), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('resource_type', sa.String(length=32), nullable=True),
    sa.Column('resource_id', sa.String(length=40), nullable=True),
    sa.Column('patient_id', sa.String(length=40), nullable=True),
    sa.Column('client_ip', sa.String(length=45), nullable=True),
    sa.Column('request_id', sa.String(length=128), nullable=True),
    sa.Column('occurred_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('details', dermifi.core.db.PortableJSON, nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_audit_event_practice_id_practice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index('ix_audit_event_actor_id_occurred_at', ['actor_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_audit_event_patient_id_occurred_at', ['patient_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_audit_event_practice_id_occurred_at', ['practice_id', 'occurred_at', 'id'], unique=False)

    op.create_table('user_account',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=True),
    sa.Column('last_name', sa.String(length=100), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('mfa_secret_sealed', sa.String(length=512), nullable=True),
    sa.Column('totp_last_step', sa.Integer(), nullable=True),
    sa.Column('locked_until', dermifi.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_user_account_practice_id_practice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('email', name=op.f('uq_user_account_email'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_account_practice_id'), ['practice_id'], unique=False)

    op.create_table('auth_session',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.String(length=40), nullable=False),
    sa.Column('created_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoke_reason', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_auth_session_practice_id_practice')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_auth_session_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_session'))
    )
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_session_practice_id'), ['practice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_auth_session_user_id'), ['user_id'], unique=False)

    op.create_table('login_failure',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.String(length=40), nullable=False),
    sa.Column('occurred_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_login_failure_practice_id_practice')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_login_failure_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure'))
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failure_practice_id'), ['practice_id'], unique=False)
        batch_op.create_index('ix_login_failure_user_id_occurred_at', ['user_id', 'occurred_at'], unique=False)

    op.create_table('refresh_token',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('practice_id', sa.String(length=40), nullable=False),
    sa.Column('session_id', sa.String(length=40), nullable=False),
    sa.Column('issued_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', dermifi.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_refresh_token_practice_id_practice')),
    sa.ForeignKeyConstraint(['session_id'], ['auth_session.id'], name=op.f('fk_refresh_token_session_id_auth_session')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refresh_token'))
    )
    with op.batch_alter_table('refresh_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refresh_token_practice_id'), ['practice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refresh_token_session_id'), ['session_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('refresh_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refresh_token_session_id'))
        batch_op.drop_index(batch_op.f('ix_refresh_token_practice_id'))

    op.drop_table('refresh_token')
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failure_user_id_occurred_at')
        batch_op.drop_index(batch_op.f('ix_login_failure_practice_id'))

    op.drop_table('login_failure')
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_auth_session_practice_id'))

    op.drop_table('auth_session')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_practice_id'))

    op.drop_table('user_account')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_practice_id_occurred_at')
        batch_op.drop_index('ix_audit_event_patient_id_occurred_at')
        batch_op.drop_index('ix_audit_event_actor_id_occurred_at')
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
    op.drop_table('practice')
