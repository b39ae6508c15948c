"""Settings, read once from the environment (prefix ``DERMIFI_``)."""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105 - refused in production
MIN_PRODUCTION_SECRET_LENGTH = 32
# zxcvbn's estimate of the guesses a key takes, as a power of ten: 10^24 is about 80 bits. A
# random 32-character hex key scores about 29, repeats, sequences and phrases far less.
MIN_PRODUCTION_SECRET_GUESSES_LOG10 = 24
# zxcvbn's work grows with the length; a key longer than this is judged by its start.
_STRENGTH_PREFIX = 72  # also zxcvbn's own maximum


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` may not sign production tokens, or None when it may."""
    if key == DEFAULT_SECRET_KEY:
        return "is the public development placeholder"
    if len(key) < MIN_PRODUCTION_SECRET_LENGTH:
        return f"is shorter than {MIN_PRODUCTION_SECRET_LENGTH} characters"
    from zxcvbn import zxcvbn

    if zxcvbn(key[:_STRENGTH_PREFIX])["guesses_log10"] < MIN_PRODUCTION_SECRET_GUESSES_LOG10:
        return "is too predictable (repeated or sequential characters, words or a pattern)"
    return None

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str | list[str] | None) -> list[str]:
    """Accept a comma/space separated string or a list; validate every CIDR."""
    if value is None:
        return []
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        out.append(str(ipaddress.ip_network(item.strip(), strict=False)))
    return out


def sqlalchemy_url(url: str) -> str:
    """Map plain database URLs to the async drivers the server uses."""
    if url.startswith("sqlite+aiosqlite://") or url.startswith("postgresql+asyncpg://"):
        return url
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DERMIFI_DATABASE_URL must be a sqlite:// or postgresql:// URL")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DERMIFI_", extra="ignore", frozen=True)

    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("data")
    database_url: str | None = None
    secret_key: str = DEFAULT_SECRET_KEY
    public_base_url: str | None = None
    storage_url: str | None = None  # a directory, or s3://bucket/prefix
    s3_endpoint_url: str | None = None  # S3-compatible servers (MinIO, ...); else AWS

    # A database that does not answer must cost a request seconds, not minutes: connect,
    # pool checkout and statement timeouts (the statement one is also set on the server).
    db_connect_timeout_seconds: float = Field(3.0, gt=0, le=60)
    db_pool_timeout_seconds: float = Field(3.0, gt=0, le=60)
    db_statement_timeout_seconds: float = Field(10.0, gt=0, le=600)
    db_pool_size: int = Field(10, ge=1, le=200)

    redis_url: str | None = None
    # Redis only speeds things up (shared counters, revocations): never wait long for it.
    redis_timeout_seconds: float = Field(0.5, gt=0, le=10)
    rate_limit: str = "1000/hour"
    login_rate_limit: str = "10/minute"
    ip_allowlist: Annotated[list[str], NoDecode] = Field(default_factory=list)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    jwt_issuer: str = "dermifi"
    jwt_audience: str = "dermifi-api"
    access_token_ttl_seconds: int = Field(3600, ge=60, le=86400)
    refresh_token_ttl_seconds: int = Field(14 * 86400, ge=300, le=90 * 86400)

    lockout_threshold: int = Field(5, ge=1, le=100)
    lockout_window_seconds: int = Field(15 * 60, ge=1)
    lockout_duration_seconds: int = Field(15 * 60, ge=1)

    # argon2id cost; the defaults follow RFC 9106's second recommended option.
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_kib: int = Field(64 * 1024, ge=8)
    argon2_parallelism: int = Field(1, ge=1)

    # Photos: the decoded size accepted (a dermoscopy or phone camera photo is 12-48 MP), and
    # how many decodes a process runs at once; the others wait up to the given time, then 503.
    photo_max_megapixels: float = Field(40.0, gt=0, le=178)
    image_decode_concurrency: int = Field(2, ge=1, le=64)
    image_decode_wait_seconds: float = Field(20.0, gt=0, le=300)

    # The HTTP server (core/http_server.py): how long a request's head and its body may take
    # to arrive, and the connections one process holds (unset: a margin below its
    # descriptor limit).
    head_timeout_seconds: float = Field(10.0, gt=0, le=300)
    body_timeout_seconds: float = Field(60.0, gt=0, le=3600)
    max_connections: int | None = Field(None, ge=1, le=100_000)
    keep_alive_seconds: int = Field(5, ge=1, le=300)

    # The outbox worker (outbox/worker.py): inside `dermifi serve` unless turned off (when
    # `dermifi worker` processes run apart), how often it looks without a wake-up, how many
    # messages a round takes, the attempts before a message is failed, the backoff between
    # them, how long a claim holds, how long one delivery may take, and the modules that
    # register handlers besides the built-in ones.
    outbox_worker: bool = True
    outbox_poll_seconds: float = Field(2.0, gt=0, le=300)
    outbox_batch_size: int = Field(20, ge=1, le=500)
    outbox_max_attempts: int = Field(8, ge=1, le=100)
    outbox_backoff_base_seconds: float = Field(5.0, gt=0, le=3600)
    outbox_backoff_max_seconds: float = Field(3600.0, gt=0, le=7 * 86400)
    outbox_lease_seconds: float = Field(120.0, gt=0, le=3600)
    outbox_handler_timeout_seconds: float = Field(30.0, gt=0, le=3600)
    outbox_handler_modules: Annotated[list[str], NoDecode] = Field(default_factory=list)

    log_level: str = "INFO"
    log_json: bool = True
    enable_bench_routes: bool = False

    @field_validator("ip_allowlist", "trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: str | list[str] | None) -> list[str]:
        return parse_networks(value)

    @field_validator("outbox_handler_modules", mode="before")
    @classmethod
    def _module_names(cls, value: str | list[str] | None) -> list[str]:
        if value is None:
            return []
        return value.replace(",", " ").split() if isinstance(value, str) else list(value)

    @model_validator(mode="after")
    def _outbox_timing(self) -> Settings:
        if self.outbox_handler_timeout_seconds >= self.outbox_lease_seconds:
            raise ValueError("DERMIFI_OUTBOX_HANDLER_TIMEOUT_SECONDS must be shorter than "
                             "DERMIFI_OUTBOX_LEASE_SECONDS")
        return self

    @model_validator(mode="after")
    def _production_guard(self) -> Settings:
        if self.env != "production":
            return self
        problem = secret_key_problem(self.secret_key)
        if problem is not None:
            raise ValueError(
                f"DERMIFI_SECRET_KEY {problem}; production needs a random value of at least "
                f"{MIN_PRODUCTION_SECRET_LENGTH} characters, e.g. the output of "
                "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        if self.enable_bench_routes:
            raise ValueError("DERMIFI_ENABLE_BENCH_ROUTES serves unauthenticated benchmark "
                             "routes and is refused in production")
        return self

    @cached_property
    def async_database_url(self) -> str:
        if self.database_url:
            return sqlalchemy_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'dermifi.sqlite3').resolve()}"

    @cached_property
    def allowlist_networks(self) -> list[IpNetwork]:
        return [ipaddress.ip_network(n) for n in self.ip_allowlist]

    @cached_property
    def trusted_proxy_networks(self) -> list[IpNetwork]:
        return [ipaddress.ip_network(n) for n in self.trusted_proxies]
