"""Clinical notes record who changed them last, like every audited row (``core.db.Audited``).

Existing notes were last changed by their signer if signed, else by their author: the only
people who could change them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('clinical_note') as batch:
        batch.add_column(sa.Column('updated_by', sa.String(length=40), nullable=True))
    op.execute("UPDATE clinical_note SET updated_by = COALESCE(signed_by, created_by)")


def downgrade() -> None:
    with op.batch_alter_table('clinical_note') as batch:
        batch.drop_column('updated_by')
