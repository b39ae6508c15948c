"""What Alembic's model comparison leaves alone (shared by env.py and the migration test)."""

from __future__ import annotations


def include_object(obj: object, name: str | None, type_: str, *_: object) -> bool:
    """PostgreSQL-only search indexes are written by hand in migrations, not in the models."""
    return not (type_ == "index" and name is not None and name.endswith("_trgm"))
