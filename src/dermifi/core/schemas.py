"""Base models: camelCase on the wire, unknown input fields refused, one datetime format."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)
from pydantic.alias_generators import to_camel

from dermifi.core.fields import has_control_characters


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
    # Not strftime: its %Y leaves years before 1000 unpadded ("127-11-08T...").
    return _to_utc(value).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


# Every timestamp leaves the server as ISO 8601 UTC with a Z suffix, whatever the backend.
UtcDateTime = Annotated[
    datetime,
    BeforeValidator(_rfc3339_only),
    AfterValidator(_to_utc),
    PlainSerializer(format_utc, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "example": "2024-01-20T10:00:00Z"},
                   mode="serialization"),
]


def _iso_date_only(value: object) -> object:
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("Expected a date as YYYY-MM-DD")


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# A calendar date as the contract writes it, `YYYY-MM-DD`, and nothing else (pydantic alone
# would also take Unix timestamps and date-times at midnight).
IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


def _json_integer(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("Input should be an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("Input should be an integer")
        return int(value)
    return value


# Metadata for an int field: a JSON integer as JSON Schema counts them (2 and 2.0), never a
# string or a boolean, which pydantic's lax mode would also take. Put it after the field's
# constraints (``Annotated[int, Field(ge=1), JSON_INTEGER]``): before them, pydantic writes
# them into the schema as unknown keywords ("ge") instead of "minimum".
JSON_INTEGER = BeforeValidator(_json_integer)


def refuse_null(value: Any) -> Any:
    """A ``mode="before"`` field validator: the field may be left out, but not sent as null
    (pair it with ``not_nullable`` so the schema says the same)."""
    if value is None:
        raise ValueError("May not be null")
    return value


def not_nullable(*fields: str) -> Callable[[dict[str, Any]], None]:
    """``json_schema_extra`` for a model whose optional ``fields`` may be left out but are
    refused as ``null`` (a partial update): their schema then offers no ``null``."""
    names = {to_camel(f) for f in fields}

    def drop_null(schema: dict[str, Any]) -> None:
        for name, prop in schema.get("properties", {}).items():
            if name not in names:
                continue
            if "default" in prop and prop["default"] is None:
                del prop["default"]
            variants = prop.pop("anyOf", None)
            if isinstance(variants, list):
                kept = [v for v in variants if v != {"type": "null"}]
                if len(kept) == 1:
                    prop.update(kept[0])
                else:
                    prop["anyOf"] = kept

    return drop_null


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

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        # The schema says what the validator below refuses, for every string property that
        # states no stricter pattern of its own.
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        for prop in target.get("properties", {}).values():
            for variant in _string_variants(prop):
                variant.setdefault("pattern", NO_CONTROL_CHARACTERS)
        return schema

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_control_characters(cls, value: Any) -> Any:
        """Every string a body carries, at any depth (lists, free-form objects such as a
        photo's parsed metadata), in one place; nested models are ApiInputs and check their
        own fields."""
        if _holds_control_characters(value):
            raise ValueError("Control characters (such as NUL) are not allowed")
        return value


NO_CONTROL_CHARACTERS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def _string_variants(schema: dict[str, Any]) -> list[dict[str, Any]]:
    if schema.get("type") == "string" and not {"enum", "format", "const",
                                                "contentMediaType"} & schema.keys():
        return [schema]
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        return _string_variants(schema["items"])
    return [s for variant in schema.get("anyOf", []) for s in _string_variants(variant)]


def _holds_control_characters(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return has_control_characters(value)
    if depth > 32:  # the JSON parser already bounds nesting; this bounds the walk
        return False
    if isinstance(value, dict):
        return any(_holds_control_characters(k, depth + 1)
                   or _holds_control_characters(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_control_characters(v, depth + 1) for v in value)
    return False


class StatusChangeRead(ApiModel):
    """One step of a workflow's ``statusHistory``, oldest first."""

    status: str = Field(description="The state entered")
    timestamp: UtcDateTime
    changed_by: str | None = Field(description="The user who took the step")
    notes: str | None
