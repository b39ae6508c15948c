from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import ConfigDict, EmailStr, Field, StrictBool, field_validator

from dermifi.core.fields import (
    Money,
    PhoneNumber,
    Text50,
    Text100,
    Text200,
    Text2000,
    UsState,
    ZipCode,
)
from dermifi.core.schemas import ApiInput, ApiModel, IsoDate, UtcDateTime, not_nullable, refuse_null

Gender = Literal["male", "female", "other", "unknown"]
PatientStatus = Literal["active", "inactive", "pending"]
ItemList = Annotated[list[Text200], Field(max_length=100)]
ProviderId = Annotated[str, Field(
    min_length=1, max_length=64,
    description="The patient's primary provider: a verified provider of the practice")]
# From 1900 (the pattern says so), never in the future (which a schema cannot say).
BirthDate = Annotated[IsoDate, Field(
    json_schema_extra={"pattern": r"^(19|[2-9][0-9])[0-9]{2}-"},
    description="YYYY-MM-DD, from 1900-01-01; a date in the future is refused")]


class Address(ApiInput):
    street: Text200
    city: Text100
    state: UsState
    zip_code: ZipCode


class EmergencyContact(ApiInput):
    name: Text200
    relationship: Text50
    phone: PhoneNumber


class InsuranceInput(ApiInput):
    provider: Text100
    member_id: Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9-]+$")]
    group_number: Annotated[str, Field(min_length=1, max_length=50,
                                       pattern=r"^[A-Za-z0-9-]+$")] | None = None
    copay: Money | None = None


def _must_be_true(value: bool) -> bool:
    if value is not True:
        raise ValueError("Consent is required")
    return value


class PatientCreate(ApiInput):
    first_name: Text100
    last_name: Text100
    email: Annotated[EmailStr, Field(max_length=254)] | None = None
    phone: PhoneNumber | None = None
    date_of_birth: BirthDate
    gender: Gender
    address: Address | None = None
    emergency_contact: EmergencyContact | None = None
    insurance: InsuranceInput | None = None
    allergies: ItemList = Field(default_factory=list)
    medications: ItemList = Field(default_factory=list)
    conditions: ItemList = Field(default_factory=list)
    primary_provider_id: ProviderId | None = None
    # Both must be true; `const` says so in the schema.
    consent_to_treat: Annotated[StrictBool, Field(json_schema_extra={"const": True})]
    hipaa_consent: Annotated[StrictBool, Field(json_schema_extra={"const": True})]

    _consents = field_validator("consent_to_treat", "hipaa_consent")(_must_be_true)

    @field_validator("date_of_birth")
    @classmethod
    def _plausible_birth_date(cls, value: date) -> date:
        if value.year < 1900:
            raise ValueError("Date of birth before 1900")
        return value


class PatientUpdate(ApiInput):
    """Partial update: only the fields sent change; `address` and `insurance` replace whole."""

    model_config = ConfigDict(json_schema_extra=not_nullable(
        "first_name", "last_name", "date_of_birth", "gender", "allergies", "medications",
        "conditions"))

    first_name: Text100 | None = None
    last_name: Text100 | None = None
    email: Annotated[EmailStr, Field(max_length=254)] | None = None
    phone: PhoneNumber | None = None
    date_of_birth: BirthDate | None = None
    gender: Gender | None = None
    address: Address | None = None
    emergency_contact: EmergencyContact | None = None
    insurance: InsuranceInput | None = None
    allergies: ItemList | None = None
    medications: ItemList | None = None
    conditions: ItemList | None = None
    primary_provider_id: ProviderId | None = Field(None, description=(
        "A verified provider of the practice (prov_...); null unassigns"))

    _refuse_null = field_validator(
        "first_name", "last_name", "date_of_birth", "gender", "allergies", "medications",
        "conditions", mode="before")(refuse_null)


class DeactivateRequest(ApiInput):
    reason: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z_]*$",
                                 examples=["patient_request"])] | None = None
    notes: Text2000 | None = None


class AddressRead(ApiModel):
    street: str
    city: str
    state: str
    zip_code: str


class EmergencyContactRead(ApiModel):
    name: str
    relationship: str
    phone: str


class InsuranceRead(ApiModel):
    provider: str
    member_id: str
    group_number: str | None = None
    copay: Money | None = None
    verified: bool = False
    verified_at: UtcDateTime | None = None


class ProviderRef(ApiModel):
    id: str
    name: str


class PatientSummary(ApiModel):
    id: str
    patient_number: str
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    date_of_birth: date
    gender: Gender
    address: AddressRead | None
    insurance: InsuranceRead | None
    status: PatientStatus
    created_at: UtcDateTime
    updated_at: UtcDateTime


class PatientRead(PatientSummary):
    age: int
    emergency_contact: EmergencyContactRead | None
    allergies: list[str]
    medications: list[str]
    conditions: list[str]
    last_visit: UtcDateTime | None = None
    next_appointment: UtcDateTime | None = None
    provider: ProviderRef | None = None
    updated_by: str | None = None

    @classmethod
    def of(cls, patient: Any, *, age: int, provider: tuple[str, str] | None,
           last_visit: datetime | None = None,
           next_appointment: datetime | None = None, **extra: Any) -> Self:
        """The patient as answered; ``extra``: fields a subclass adds (the chart's includes)."""
        return cls.model_validate({
            **{c: getattr(patient, c) for c in PatientSummary.model_fields},
            "age": age, "emergency_contact": patient.emergency_contact,
            "allergies": patient.allergies, "medications": patient.medications,
            "conditions": patient.conditions, "last_visit": last_visit,
            "next_appointment": next_appointment,
            "provider": ({"id": provider[0], "name": provider[1]}
                         if provider is not None else None),
            "updated_by": patient.updated_by,
            **extra,
        })


class DeactivatedPatient(ApiModel):
    id: str
    status: Literal["inactive"]
    deactivated_at: UtcDateTime
    deactivated_by: str
    reason: str | None
    notes: str | None
    data_retention_date: UtcDateTime


def insurance_copay(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None
