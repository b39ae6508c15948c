from __future__ import annotations

from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, field_validator

from dermifi.core.fields import PhoneNumber, Text100, Text200, UsState, ZipCode
from dermifi.core.schemas import ApiInput, ApiModel, UtcDateTime, not_nullable, refuse_null

# Short site codes as clients write them in `locations` and `?location=`: SF, Oakland, San Jose.
LOCATION_CODE_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9 ._-]{0,38}[A-Za-z0-9])?$"
LocationCode = Annotated[str, Field(
    min_length=1, max_length=40, pattern=LOCATION_CODE_PATTERN, examples=["SF"],
    description="A location's code; letters, digits, spaces, `.`, `_`, `-`; unique per "
                "practice regardless of case")]


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _iana_zone(value: str) -> str:
    # Membership first: ZoneInfo() alone would also try keys such as "../etc/passwd".
    if value not in _zone_names():
        raise ValueError("Not an IANA time zone (e.g. America/Los_Angeles)")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("Not an IANA time zone (e.g. America/Los_Angeles)") from exc
    return value


# `format: iana-time-zone` (an OpenAPI custom format): the zone database is beyond a schema.
TimeZoneName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_iana_zone),
    Field(examples=["America/Los_Angeles"], json_schema_extra={"format": "iana-time-zone"},
          description="An IANA time zone; working hours at this location are local to it"),
]


class SiteAddress(ApiInput):
    street: Text200
    city: Text100
    state: UsState
    zip_code: ZipCode


class LocationCreate(ApiInput):
    code: LocationCode
    name: Text200
    address: SiteAddress
    phone: PhoneNumber | None = None
    time_zone: TimeZoneName


class LocationUpdate(ApiInput):
    """Partial update; `address` replaces as a whole."""

    model_config = ConfigDict(json_schema_extra=not_nullable(
        "code", "name", "address", "time_zone"))

    code: LocationCode | None = None
    name: Text200 | None = None
    address: SiteAddress | None = None
    phone: PhoneNumber | None = None
    time_zone: TimeZoneName | None = None

    _refuse_null = field_validator(
        "code", "name", "address", "time_zone", mode="before")(refuse_null)


class SiteAddressRead(ApiModel):
    street: str
    city: str
    state: str
    zip_code: str


class LocationRead(ApiModel):
    id: str
    code: str
    name: str
    address: SiteAddressRead
    phone: str | None
    time_zone: str
    created_at: UtcDateTime
    updated_at: UtcDateTime


class LocationList(ApiModel):
    locations: list[LocationRead]
    total: int
