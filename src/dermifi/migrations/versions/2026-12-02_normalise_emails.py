"""Account emails in their one spelling (NFKC, casefolded), as login now looks them up.

Emails were stored lower-cased; for ASCII that is the same spelling, so most deployments change
nothing. An email whose new spelling another account already has is left as it was (and named
by id in the migration's output) for an operator to resolve: merging accounts is not a
migration's call.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 17:40:00
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

users = sa.table("user_account", sa.column("id", sa.String), sa.column("email", sa.String))


def _normalise(email: str) -> str:
    # A copy of dermifi.core.fields.normalize_email as of this revision: a migration must
    # not change meaning when the application's code does.
    return unicodedata.normalize("NFKC", email.strip()).casefold()


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(users.c.id, users.c.email)).all()
    taken = {email for _, email in rows}
    for user_id, email in rows:
        spelled = _normalise(email)
        if spelled == email:
            continue
        if spelled in taken:
            print(f"user {user_id}: email not normalised, another account has that spelling")
            continue
        bind.execute(users.update().where(users.c.id == user_id).values(email=spelled))
        taken.discard(email)
        taken.add(spelled)


def downgrade() -> None:
    pass  # the old spelling is not kept; the normalised one still logs in after a downgrade
