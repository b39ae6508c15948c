"""Every model, imported so the metadata (and Alembic) sees every table."""

from dermifi.audit.models import AuditEvent
from dermifi.auth.models import AuthSession, LoginFailure, RefreshToken
from dermifi.core.db import Base
from dermifi.practices.models import Practice
from dermifi.users.models import User

__all__ = ["AuditEvent", "AuthSession", "Base", "LoginFailure", "Practice", "RefreshToken", "User"]
