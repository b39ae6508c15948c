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

    redis_url: str | None = None
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

    log_level: str = "INFO"
    log_json: bool = True
    enable_bench_routes: bool = False

    @field_validator("ip_allowlist", "trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: str | list[str] | None) -> list[str]:
        return parse_networks(value)

    @model_validator(mode="after")
    def _production_guard(self) -> Settings:
        if self.env == "production" and (
            self.secret_key == DEFAULT_SECRET_KEY
            or len(self.secret_key) < MIN_PRODUCTION_SECRET_LENGTH
        ):
            raise ValueError(
                "DERMIFI_SECRET_KEY must be set to a random value of at least "
                f"{MIN_PRODUCTION_SECRET_LENGTH} characters in production"
            )
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
