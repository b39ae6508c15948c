from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dermifi.core.db import Base, PracticeOwned, UTCDateTime


class AuthSession(PracticeOwned, Base):
    """One login: the family of refresh tokens it spawns and the access tokens minted from them.
    Revoking it (logout, refresh reuse) invalidates all of them on every server process."""

    __tablename__ = "auth_session"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(40))


class RefreshToken(PracticeOwned, Base):
    """A single-use refresh token (its JWT ``jti``)."""

    __tablename__ = "refresh_token"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("auth_session.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailure(PracticeOwned, Base):
    """A failed login for a known account; counted per account for lockout."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_user_id_occurred_at", "user_id", "occurred_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
