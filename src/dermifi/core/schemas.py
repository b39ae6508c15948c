"""Base models: camelCase on the wire, unknown input fields refused, one datetime format."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel


def _to_utc(value: datetime) -> datetime:
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+05:00 is before year 1 in UTC
        raise ValueError("Date-time out of range") from exc


# RFC 3339 `date-time`, what the schema's `format: date-time` promises and nothing more:
# pydantic alone would also take Unix timestamps, bare dates and times without an offset.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339_only(value: object) -> object:
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339.fullmatch(value)):
        return value
    raise ValueError("Expected an ISO 8601 date-time with a time zone, e.g. 2024-01-20T10:00:00Z")


def format_utc(value: datetime) -> str:
    return _to_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


# Every timestamp leaves the server as ISO 8601 UTC with a Z suffix, whatever the backend.
UtcDateTime = Annotated[
    datetime,
    BeforeValidator(_rfc3339_only),
    AfterValidator(_to_utc),
    PlainSerializer(format_utc, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "example": "2024-01-20T10:00:00Z"},
                   mode="serialization"),
]


class ApiModel(BaseModel):
    """Response models: read from ORM objects, written in camelCase."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, from_attributes=True,
        serialize_by_alias=True,
    )


class ApiInput(BaseModel):
    """Request bodies: camelCase only, unknown fields are an error (no mass assignment).

    Strings are validated as sent, never stripped first: the published schema's lengths and
    formats must hold for what the client sends (and a password is never altered)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=False, extra="forbid",
        validate_by_alias=True, validate_by_name=False,
    )
