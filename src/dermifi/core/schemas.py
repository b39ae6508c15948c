"""Base models: camelCase on the wire, unknown input fields refused, one datetime format."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer, WithJsonSchema
from pydantic.alias_generators import to_camel


def _to_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_utc(value: datetime) -> str:
    return _to_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


# Every timestamp leaves the server as ISO 8601 UTC with a Z suffix, whatever the backend.
UtcDateTime = Annotated[
    datetime,
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
    """Request bodies: camelCase only, unknown fields are an error (no mass assignment)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=False, extra="forbid",
        str_strip_whitespace=True, validate_by_alias=True, validate_by_name=False,
    )
