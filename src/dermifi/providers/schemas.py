from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PlainSerializer,
    StrictBool,
    WithJsonSchema,
    field_validator,
)

from dermifi.core.fields import PhoneNumber, Text50, Text100, Text200, UsState
from dermifi.core.identifiers import NPI_PATTERN
from dermifi.core.schemas import (
    JSON_INTEGER,
    ApiInput,
    ApiModel,
    IsoDate,
    UtcDateTime,
    not_nullable,
    refuse_null,
)
from dermifi.locations.schemas import LocationCode
from dermifi.providers.identifiers import DEA_PATTERN
from dermifi.providers.models import Provider

ProviderStatus = Literal["pending_verification", "active"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday",
                                 "saturday", "sunday")  # index = date.weekday()


def _distinct_codes(codes: list[str]) -> list[str]:
    seen: set[str] = set()
    for code in codes:
        if code.lower() in seen:
            raise ValueError(f"{code} is listed twice")
        seen.add(code.lower())
    return codes


LocationCodes = Annotated[list[LocationCode], Field(max_length=20),
                          AfterValidator(_distinct_codes)]
Languages = Annotated[list[Text50], Field(max_length=20, examples=[["English", "Spanish"]])]
# `format: npi` and `format: dea-number` (OpenAPI custom formats): the check digits (and the
# DEA number's link to the last name) are beyond a schema; the service checks them.
NpiNumber = Annotated[str, Field(
    pattern=NPI_PATTERN, json_schema_extra={"format": "npi"}, examples=["1234567893"],
    description="10 digits passing the Luhn check with the 80840 prefix")]
DeaNumber = Annotated[str, Field(
    pattern=DEA_PATTERN, json_schema_extra={"format": "dea-number"}, examples=["BC1234563"],
    description="Registrant type letter (A, B, F, G, M), the last name's initial, six digits "
                "and the DEA check digit")]
UserId = Annotated[str, Field(min_length=1, max_length=64,
                              description="A user (usr_...) of this practice with the "
                                          "provider role")]
Year = Annotated[int, Field(ge=1900, le=2100), JSON_INTEGER]


class Education(ApiInput):
    degree: Text50
    institution: Text200
    year: Year


class Training(ApiInput):
    institution: Text200
    specialty: Text100
    completion_year: Year


class ProviderCreate(ApiInput):
    first_name: Text100
    last_name: Text100
    title: Text50
    specialty: Text100
    subspecialty: Text100 | None = None
    npi_number: NpiNumber
    license_number: Annotated[str, Field(min_length=1, max_length=30,
                                         pattern=r"^[A-Za-z0-9-]+$", examples=["CA54321"])]
    license_state: UsState
    license_expiry: Annotated[IsoDate, Field(description="YYYY-MM-DD; must be in the future")]
    dea_number: DeaNumber | None = None
    email: Annotated[EmailStr, Field(max_length=254)] | None = None
    phone: PhoneNumber | None = None
    locations: LocationCodes = Field(default_factory=list)
    languages: Languages = Field(default_factory=list)
    accepting_new_patients: StrictBool = True
    education: Annotated[list[Education], Field(max_length=20)] = Field(default_factory=list)
    residency: Training | None = None
    fellowship: Training | None = None
    certifications: Annotated[list[Text200], Field(max_length=20)] = Field(
        default_factory=list)
    user_id: UserId | None = None


class ProviderUpdate(ApiInput):
    """Partial update of what changes in a provider's working life: contact, locations,
    languages, whether new patients are taken, the linked user account (`null` unlinks)."""

    model_config = ConfigDict(json_schema_extra=not_nullable(
        "locations", "languages", "accepting_new_patients"))

    email: Annotated[EmailStr, Field(max_length=254)] | None = None
    phone: PhoneNumber | None = None
    locations: LocationCodes | None = None
    languages: Languages | None = None
    accepting_new_patients: StrictBool | None = None
    user_id: UserId | None = None

    _refuse_null = field_validator(
        "locations", "languages", "accepting_new_patients", mode="before")(refuse_null)


class EducationRead(ApiModel):
    degree: str
    institution: str
    year: int


class TrainingRead(ApiModel):
    institution: str
    specialty: str
    completion_year: int


class ProviderListItem(ApiModel):
    """A directory entry, exactly as the vendor document's GET /providers example."""

    id: str
    first_name: str
    last_name: str
    title: str
    specialty: str
    npi_number: str
    license_number: str
    license_state: str
    email: str | None
    phone: str | None
    locations: list[str]
    languages: list[str]
    accepting_new_patients: bool
    rating: float | None = Field(description="null until a review source is connected")
    review_count: int | None = Field(description="null until a review source is connected")
    years_of_experience: int | None = Field(
        description="Years since residency completion (else the earliest degree)")
    education: list[EducationRead]
    certifications: list[str]

    @classmethod
    def of(cls, provider: Provider, *, today: date) -> Self:
        return cls.model_validate({
            **_common(provider), "rating": None, "review_count": None,
            "years_of_experience": provider.years_of_experience(today),
            "education": provider.education, "certifications": provider.certifications,
        })


class ProviderList(ApiModel):
    providers: list[ProviderListItem]
    total: int


class ProviderCreated(ApiModel):
    """The vendor document's POST /providers response, field for field."""

    id: str
    first_name: str
    last_name: str
    title: str
    specialty: str
    subspecialty: str | None
    npi_number: str
    license_number: str
    license_state: str
    license_expiry: date
    license_verified: bool
    dea_number: str | None
    email: str | None
    phone: str | None
    locations: list[str]
    languages: list[str]
    accepting_new_patients: bool
    status: ProviderStatus
    created_at: UtcDateTime

    @classmethod
    def of(cls, provider: Provider, *, today: date) -> Self:
        return cls.model_validate(_record(provider))


class ProviderRead(ProviderCreated):
    """A provider's full record: the created shape plus training, computed and audit fields."""

    license_verified_at: UtcDateTime | None
    user_id: str | None
    education: list[EducationRead]
    residency: TrainingRead | None
    fellowship: TrainingRead | None
    certifications: list[str]
    rating: float | None
    review_count: int | None
    years_of_experience: int | None
    updated_at: UtcDateTime

    @classmethod
    def of(cls, provider: Provider, *, today: date) -> Self:
        return cls.model_validate({
            **_record(provider), "license_verified_at": provider.license_verified_at,
            "user_id": provider.user_id, "education": provider.education,
            "residency": provider.residency, "fellowship": provider.fellowship,
            "certifications": provider.certifications, "rating": None, "review_count": None,
            "years_of_experience": provider.years_of_experience(today),
            "updated_at": provider.updated_at,
        })


def _common(provider: Provider) -> dict[str, Any]:
    return {
        "id": provider.id, "first_name": provider.first_name, "last_name": provider.last_name,
        "title": provider.title, "specialty": provider.specialty,
        "npi_number": provider.npi_number, "license_number": provider.license_number,
        "license_state": provider.license_state, "email": provider.email,
        "phone": provider.phone, "locations": provider.location_codes,
        "languages": provider.languages,
        "accepting_new_patients": provider.accepting_new_patients,
    }


def _record(provider: Provider) -> dict[str, Any]:
    return {
        **_common(provider), "subspecialty": provider.subspecialty,
        "license_expiry": provider.license_expiry_date,
        "license_verified": provider.license_verified, "dea_number": provider.dea_number,
        "status": provider.status, "created_at": provider.created_at,
    }


# --- working hours -------------------------------------------------------------------------

HHMM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


def _hhmm(value: object) -> object:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and re.fullmatch(HHMM_PATTERN, value):
        return time(int(value[:2]), int(value[3:]))
    raise ValueError("Expected a time as HH:MM, 00:00 to 23:59")


# Wall-clock time at the location ("09:00"), in its time zone; no seconds, no offset.
LocalTime = Annotated[
    time,
    BeforeValidator(_hhmm),
    PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": HHMM_PATTERN, "example": "09:00"}),
]


class BreakPeriod(ApiInput):
    start: LocalTime
    end: LocalTime


class WorkingHoursEntry(ApiInput):
    day_of_week: Weekday
    location: LocationCode
    start: LocalTime
    end: LocalTime
    break_: BreakPeriod | None = Field(None, alias="break")


class DayOffEntry(ApiInput):
    date: IsoDate
    reason: Text200 | None = None


class WorkingHoursReplace(ApiInput):
    """The whole weekly template and the days off; what is not listed is removed."""

    working_hours: Annotated[list[WorkingHoursEntry], Field(max_length=70)]
    exceptions: Annotated[list[DayOffEntry], Field(max_length=400)] = Field(
        default_factory=list)


class BreakRead(ApiModel):
    start: LocalTime
    end: LocalTime


class WorkingHoursEntryRead(ApiModel):
    day_of_week: Weekday
    location: str
    start: LocalTime
    end: LocalTime
    break_: BreakRead | None = Field(alias="break")


class DayOffRead(ApiModel):
    date: IsoDate
    reason: str | None


class WorkingHoursRead(ApiModel):
    provider_id: str
    working_hours: list[WorkingHoursEntryRead]
    exceptions: list[DayOffRead]
