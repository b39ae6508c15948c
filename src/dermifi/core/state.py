"""What the app holds for its lifetime, built once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from dermifi.core.clock import Clock
from dermifi.core.config import Settings
from dermifi.core.security import Passwords, SecretBox, Tokens
from dermifi.core.shared_store import RedisCircuit
from dermifi.core.workers import CpuPool

if TYPE_CHECKING:
    from dermifi.core.ratelimit import RateLimiter
    from dermifi.core.storage import BlobStore


@dataclass
class AppState:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    # The same pool without transactions on PostgreSQL (core.db.single_statement_engine):
    # for the one-statement reads every request makes, such as authentication's.
    single_statements: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    passwords: Passwords
    tokens: Tokens
    secret_box: SecretBox
    rate_limiter: RateLimiter
    redis: Any | None  # redis.asyncio.Redis when DERMIFI_REDIS_URL is set
    redis_circuit: RedisCircuit  # every call to ``redis`` goes through it
    blob_store: BlobStore  # local directory or S3, from DERMIFI_STORAGE_URL
    image_pool: CpuPool  # image decoding: a few at once
