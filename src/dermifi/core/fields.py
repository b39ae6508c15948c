"""Field types shared by domains' schemas: validated once, the same way everywhere."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Annotated, Literal

import phonenumbers
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from dermifi.core.money import CENT, exact_cents

# Names and short free text: no control characters, not blank, bounded; trimmed once valid.
# The schema states exactly these rules (a pattern), checked on the text as sent.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NOT_CONTROL = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
TEXT_PATTERN = rf"^{_NOT_CONTROL}*[^\s\x00-\x08\x0b\x0c\x0e-\x1f\x7f]{_NOT_CONTROL}*$"


def has_control_characters(value: str) -> bool:
    """NUL and the other C0 controls but tab, line feed and carriage return, and DEL: never
    part of a name, a note or a search, and refused wherever a string enters (PostgreSQL
    cannot even store NUL in text)."""
    return _CONTROL.search(value) is not None


def normalize_email(email: str) -> str:
    """The one spelling of an email used to store and to find an account: NFKC, then
    casefolded, so look-alike spellings (a Kelvin sign for ``k``, full-width letters) name
    one account, whether it is being created or logging in."""
    return unicodedata.normalize("NFKC", email.strip()).casefold()


def _clean_text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("Control characters are not allowed")
    if not value.strip():
        raise ValueError("May not be blank")
    return value.strip()


def _text(max_length: int) -> tuple[StringConstraints, AfterValidator, WithJsonSchema]:
    return (
        StringConstraints(min_length=1, max_length=max_length),
        AfterValidator(_clean_text),
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": max_length,
                        "pattern": TEXT_PATTERN}),
    )


Text50 = Annotated[str, *_text(50)]
Text100 = Annotated[str, *_text(100)]
Text200 = Annotated[str, *_text(200)]
Text2000 = Annotated[str, *_text(2000)]
Text10000 = Annotated[str, *_text(10000)]


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


# `format: phone` (an OpenAPI custom format): JSON Schema cannot say "a valid number".
PhoneNumber = Annotated[
    str,
    StringConstraints(min_length=7, max_length=40),
    AfterValidator(_phone),
    Field(examples=["+1 (415) 555-0132"], json_schema_extra={"format": "phone"},
          description="A valid, dialable phone number (libphonenumber); US numbers may "
                      "omit +1"),
]


def digits_of(value: str | None) -> str | None:
    return re.sub(r"\D", "", value) if value else None


UsState = Literal[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY", "PR", "GU", "VI", "AS", "MP", "AA", "AE", "AP",
]


ZIP_PATTERN = r"^([0-9]{5}|[0-9]{9}|[0-9]{5}-[0-9]{4})$"


def _zip(value: str) -> str:
    if not re.fullmatch(ZIP_PATTERN, value):
        raise ValueError("ZIP code must be 5 or 9 digits (12345 or 12345-6789)")
    digits = value.replace("-", "")
    return digits if len(digits) == 5 else f"{digits[:5]}-{digits[5:]}"


ZipCode = Annotated[str, StringConstraints(max_length=10), AfterValidator(_zip),
                    Field(examples=["94105"], json_schema_extra={"pattern": ZIP_PATTERN})]


def _a_number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("Must be a number")
    return value


def _two_decimals(value: Decimal) -> Decimal:
    cents = value.quantize(CENT)
    # JSON numbers are binary floats: a client's 1.15 may arrive as 1.1500000000000001.
    if abs(value - cents) > Decimal("1e-9"):
        raise ValueError("At most two decimals")
    return cents


# Money is a JSON number with two decimals (contract, General); never a string.
Money = Annotated[
    Decimal,
    BeforeValidator(_a_number),
    Field(ge=0, le=1_000_000, examples=[25]),
    AfterValidator(_two_decimals),
    PlainSerializer(lambda v: float(v), return_type=float, when_used="json"),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1_000_000, "multipleOf": 0.01,
                    "examples": [25]}, mode="validation"),
]


def _json_number(value: Decimal) -> float:
    # Exact: a float holds any NUMERIC(12, 2) amount to the cent, and its repr is the shortest
    # text that reads back as it (125.0, 0.3).
    return float(exact_cents(value))


# Money the server computed (an order's total, an insurance share, which is negative): a JSON
# number with at most two decimals; an unrounded amount is a bug and fails loudly.
MoneyAmount = Annotated[
    Decimal,
    PlainSerializer(_json_number, return_type=float, when_used="json"),
    WithJsonSchema({"type": "number", "multipleOf": 0.01, "examples": [25.0]},
                   mode="serialization"),
]
