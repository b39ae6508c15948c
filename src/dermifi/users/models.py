from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dermifi.core.db import Base, PracticeOwned, UTCDateTime


class User(PracticeOwned, Base):
    __tablename__ = "user_account"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Stored lower-cased; unique across the deployment because login names no practice.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # TOTP seed sealed with the server key (core.security.SecretBox); NULL = no MFA.
    mfa_secret_sealed: Mapped[str | None] = mapped_column(String(512))
    # Highest TOTP time step accepted so far: a code is good once.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def mfa_enabled(self) -> bool:
        return self.mfa_secret_sealed is not None
