"""Field types shared by domains' schemas: validated once, the same way everywhere."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal

import phonenumbers
from pydantic import AfterValidator, Field, PlainSerializer, StringConstraints

# Names and short free text: no control characters, trimmed, bounded.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control_chars(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("Control characters are not allowed")
    return value


_Clean = AfterValidator(_no_control_chars)


def _bounded(max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


Text50 = Annotated[str, _bounded(50), _Clean]
Text100 = Annotated[str, _bounded(100), _Clean]
Text200 = Annotated[str, _bounded(200), _Clean]
Text2000 = Annotated[str, _bounded(2000), _Clean]
Text10000 = Annotated[str, _bounded(10000), _Clean]


def _phone(value: str) -> str:
    """A real, dialable number; US numbers may omit +1. Shown as +1 (415) 555-0132."""
    try:
        number = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("Not a valid phone number")
    if number.country_code == 1:
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return f"+1 {national}"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


PhoneNumber = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=7, max_length=40),
    AfterValidator(_phone),
    Field(examples=["+1 (415) 555-0132"]),
]


def digits_of(value: str | None) -> str | None:
    return re.sub(r"\D", "", value) if value else None


UsState = Literal[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY", "PR", "GU", "VI", "AS", "MP", "AA", "AE", "AP",
]


def _zip(value: str) -> str:
    digits = value.replace("-", "")
    if not digits.isdigit() or len(digits) not in (5, 9) or (
        "-" in value and not re.fullmatch(r"\d{5}-\d{4}", value)
    ):
        raise ValueError("ZIP code must be 5 or 9 digits (12345 or 12345-6789)")
    return digits if len(digits) == 5 else f"{digits[:5]}-{digits[5:]}"


ZipCode = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10),
                    AfterValidator(_zip), Field(examples=["94105"])]


def _two_decimals(value: Decimal) -> Decimal:
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("At most two decimals")
    return value


# Money is a JSON number with two decimals (contract, General).
Money = Annotated[
    Decimal,
    Field(ge=0, le=1_000_000, examples=[25]),
    AfterValidator(_two_decimals),
    PlainSerializer(lambda v: float(v), return_type=float, when_used="json"),
]
