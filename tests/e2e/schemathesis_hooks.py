"""Schemathesis hooks for tests/e2e/test_schemathesis.py, loaded by the ``st`` process through
``SCHEMATHESIS_HOOKS``; it reads the server and the admin's credentials from the environment.

Authentication: operations with a security requirement get the admin's access token. The
token is cached; ``POST /v1/auth/logout`` revokes the session it is called with, so after a
logout the next case meets 401 with a dead token. schemathesis then logs in again (the
provider's ``retry_on=[401]``) and replays that request once; only the replay's response is
checked, and a 401 that survives a fresh login is reported like any other response. Cases that
schemathesis sends without (or with broken) credentials on purpose are never re-authenticated.

Business rules: a positive case is one schemathesis expects the server to accept. A few rules
are beyond what JSON Schema can state (the schema says them in words, or names a custom
``format``); for those, a positive case whose value the server's own rule refuses gets a valid
value in its place. Each rule touches only the one value it is about; negative cases are sent
exactly as generated. The rules:

- a new user's password must not be common or easy to guess (zxcvbn);
- phone numbers must be valid, dialable numbers (``format: phone``, libphonenumber);
- ICD-10-CM codes must exist in the code set (``format: icd-10-cm``);
- time zones must be IANA zone names (``format: iana-time-zone``);
- a date of birth may not lie in the future, nor a provider's licence expiry in the past, and
  a history's ``endDate`` not before its ``startDate``, nor the appointment list's ``to``
  before its ``from`` (a positive case gets them swapped);
- ``If-Match`` must name the current version: a positive case sends ``*`` (any current
  version), since an arbitrary tag is stale and rightly answered 412;
- a photo must be a real image (a positive case uploads a small PNG), and its ``metadata``
  part a JSON object with plain keys;
- a provider's NPI and DEA number must carry valid check digits (``format: npi``,
  ``format: dea-number``; the DEA's second letter is the last name's initial), and the
  location codes and user id a provider refers to must exist (a positive case refers to
  none).

A new rule of this kind belongs here (a string field by name: ``STRING_RULES``), with the
rule stated in the schema; anything JSON Schema can state belongs in the schema instead.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import available_timezones

import httpx
import phonenumbers
import schemathesis
import simple_icd_10_cm as icd
from email_validator import EmailNotValidError, validate_email
from hypothesis import strategies as st
from PIL import Image
from pydantic import TypeAdapter, ValidationError
from schemathesis import GenerationMode

from dermifi.auth.passwords import password_problems
from dermifi.core.fields import PhoneNumber
from dermifi.core.identifiers import NPI_PREFIX, luhn_valid, npi_problem
from dermifi.notes.codes import is_icd10_cm, normalize_icd10
from dermifi.photos.schemas import _json_object
from dermifi.providers.identifiers import dea_check_digit, dea_problems, surname_initial

BASE_URL_ENV = "DERMIFI_ST_BASE_URL"
EMAIL_ENV = "DERMIFI_ST_EMAIL"
PASSWORD_ENV = "DERMIFI_ST_PASSWORD"
STRONG_PASSWORD = "umber-kestrel-orbit-harbour-93"
VALID_PHONE = "+1 (415) 555-0132"
VALID_ICD10 = "L57.0"
PAST_BIRTH_DATE = "1980-05-17"
VALID_METADATA = '{"dermoscopy": true, "magnification": "10x"}'


# --- authentication ---------------------------------------------------------------------------

def _has_security(ctx: Any) -> bool:
    return bool(ctx.operation.definition.raw.get("security"))


# Cached for less than the token's lifetime (3600 s); refetched at once after a 401.
@schemathesis.auth(refresh_interval=1800, retry_on=[401]).apply_to(_has_security)
class AdminLogin:
    def get(self, case: schemathesis.Case, ctx: schemathesis.AuthContext) -> str:
        response = httpx.post(
            f"{os.environ[BASE_URL_ENV]}/v1/auth/login",
            json={"email": os.environ[EMAIL_ENV], "password": os.environ[PASSWORD_ENV]},
            timeout=30,
        )
        if response.status_code != 200:
            raise RuntimeError(f"admin login failed: {response.status_code} {response.text}")
        return str(response.json()["accessToken"])

    def set(self, case: schemathesis.Case, data: str, ctx: schemathesis.AuthContext) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


# --- custom formats: valid values to draw from --------------------------------------------------

def _example_phones() -> list[str]:
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE,
                     phonenumbers.PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                numbers.append(phonenumbers.format_number(
                    number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
    return [VALID_PHONE, *numbers]


@cache
def _icd10_codes() -> list[str]:
    return [c for c in icd.get_all_codes(True)
            if 3 <= len(c) <= 8 and icd.is_category_or_subcategory(c)]


schemathesis.openapi.format("phone", st.sampled_from(_example_phones()))
schemathesis.openapi.format("icd-10-cm", st.deferred(lambda: st.sampled_from(_icd10_codes())))
schemathesis.openapi.format("iana-time-zone", st.sampled_from(sorted(available_timezones())))
schemathesis.openapi.format("npi", st.from_regex(r"\A[0-9]{9}\Z").map(lambda d: _valid_npi(d)))


# --- positive cases within the business rules ---------------------------------------------------

_PHONE: TypeAdapter[str] = TypeAdapter(PhoneNumber)


def _valid_phone(value: object) -> bool:
    try:
        _PHONE.validate_python(value)
    except ValidationError:
        return False
    return True


def _json_object_ok(value: object) -> bool:
    try:
        _json_object(value)
    except ValueError:
        return False
    return True


@cache
def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (180, 120, 100)).save(out, format="PNG")
    return out.getvalue()


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


# String fields, by name wherever they appear in a body: (the server's rule, a valid value).
def _deliverable_email(value: str) -> bool:
    """What email-validator accepts: `format: email` admits special-use domains (.test,
    .local) that it refuses, and JSON Schema cannot name those."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


STRING_RULES: dict[str, tuple[Callable[[str], bool], Callable[[], str]]] = {
    "phone": (_valid_phone, lambda: VALID_PHONE),
    "email": (_deliverable_email, lambda: f"fuzz-{os.urandom(4).hex()}@clinic.example.org"),
    "timeZone": (lambda v: v in available_timezones(), lambda: "America/Los_Angeles"),
    "dateOfBirth": (lambda v: v <= _today(), lambda: PAST_BIRTH_DATE),
    "licenseExpiry": (lambda v: v > _today(), lambda: f"{int(_today()[:4]) + 2}-06-30"),
    "metadata": (_json_object_ok, lambda: VALID_METADATA),
}


def _valid_npi(npi: str) -> str:
    """``npi`` with its check digit corrected (or a known good NPI)."""
    body = npi[:9] if npi[:9].isascii() and npi[:9].isdigit() and len(npi) >= 9 else "123456789"
    return next(body + d for d in "0123456789" if luhn_valid(NPI_PREFIX + body + d))


def _valid_dea(last_name: str) -> str:
    digits = "123456"
    return f"B{surname_initial(last_name) or 'X'}{digits}{dea_check_digit(digits)}"


def _repair(value: Any, *, is_new_user: bool, is_provider: bool) -> Any:
    """``value`` with every rule-breaking field of a positive body replaced (recursively)."""
    if isinstance(value, list):
        return [_repair(item, is_new_user=is_new_user, is_provider=is_provider)
                for item in value]
    if not isinstance(value, dict):
        return value
    fixed = {key: _repair(item, is_new_user=is_new_user, is_provider=is_provider)
             for key, item in value.items()}
    for key, (is_valid, valid_value) in STRING_RULES.items():
        if isinstance(fixed.get(key), str) and not is_valid(fixed[key]):
            fixed[key] = valid_value()
    codes = fixed.get("icd10Codes")
    if isinstance(codes, list):
        fixed["icd10Codes"] = [
            c if isinstance(c, str) and is_icd10_cm(normalize_icd10(c)) else VALID_ICD10
            for c in codes]
    if isinstance(fixed.get("photo"), bytes | str):
        fixed["photo"] = _png()  # the server recognises images by content, never by name
    if is_provider:
        npi = fixed.get("npiNumber")
        if isinstance(npi, str) and npi_problem(npi):
            fixed["npiNumber"] = _valid_npi(npi)
        dea, last_name = fixed.get("deaNumber"), str(fixed.get("lastName") or "")
        if isinstance(dea, str) and dea_problems(dea, last_name=last_name):
            fixed["deaNumber"] = _valid_dea(last_name)
        # References: a location code and a user id must name ones that exist.
        if isinstance(fixed.get("locations"), list):
            fixed["locations"] = []
        if isinstance(fixed.get("userId"), str):
            fixed["userId"] = None
    password = fixed.get("password")
    if is_new_user and isinstance(password, str):
        related = [str(fixed.get(key) or "") for key in ("email", "firstName", "lastName")]
        if password_problems(password, related=related):
            fixed["password"] = STRONG_PASSWORD
    return fixed


def _within_rules(case: schemathesis.Case) -> schemathesis.Case:
    if isinstance(case.body, dict | list):
        case.body = _repair(case.body, is_new_user=case.operation.label == "POST /v1/users",
                            is_provider=case.operation.path.startswith("/v1/providers"))
    if case.headers and "If-Match" in case.headers:
        case.headers = {**case.headers, "If-Match": "*"}
    query = case.query or {}
    start, end = query.get("startDate"), query.get("endDate")
    if isinstance(start, str) and isinstance(end, str) and end < start:
        case.query = {**query, "startDate": end, "endDate": start}
    _order_range(case, "from", "to")
    return case


def _order_range(case: schemathesis.Case, low_name: str, high_name: str) -> None:
    """A date-time range whose end is not after its start: swapped (or, if equal, the end
    left out)."""
    query = case.query or {}
    low, high = query.get(low_name), query.get(high_name)
    if not (isinstance(low, str) and isinstance(high, str)):
        return
    try:
        if datetime.fromisoformat(high) > datetime.fromisoformat(low):
            return
    except ValueError:
        return  # not a date-time: the schema's own validation answers it
    ordered = {**query, low_name: high, high_name: low}
    if high == low or datetime.fromisoformat(high) == datetime.fromisoformat(low):
        ordered.pop(high_name)
    case.query = ordered


@schemathesis.hook
def map_case(ctx: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return case
    return _within_rules(case)


@schemathesis.hook
def before_add_examples(ctx: schemathesis.HookContext,
                        examples: list[schemathesis.Case]) -> None:
    """The examples phase sends the schema's own examples, all positive, without ``map_case``."""
    for index, case in enumerate(examples):
        if case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE:
            examples[index] = _within_rules(case)
