from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator

from dermifi.core.fields import PhoneNumber, Text100, Text200, UsState, ZipCode
from dermifi.core.identifiers import NPI_PATTERN
from dermifi.core.schemas import ApiInput, ApiModel, UtcDateTime, not_nullable, refuse_null
from dermifi.pharmacies.identifiers import NCPDP_PATTERN

# `format: ncpdp-id` and `format: npi` (OpenAPI custom formats): the check digits are checked
# by the service, which names every problem at once.
NcpdpId = Annotated[str, Field(
    pattern=NCPDP_PATTERN, json_schema_extra={"format": "ncpdp-id"}, examples=["1234563"],
    description="NCPDP Provider ID: 7 digits, the last a check digit")]
PharmacyNpi = Annotated[str, Field(
    pattern=NPI_PATTERN, json_schema_extra={"format": "npi"}, examples=["1234567893"],
    description="The pharmacy's National Provider Identifier: 10 digits, Luhn-checked")]
# The built-in network; real gateways are configured by the deployment operator.
Gateway = Literal["loopback"]


class PharmacyAddress(ApiInput):
    street: Text200
    city: Text100
    state: UsState
    zip_code: ZipCode


class PharmacyCreate(ApiInput):
    name: Text200
    ncpdp_id: NcpdpId
    npi: PharmacyNpi
    address: PharmacyAddress
    phone: PhoneNumber
    fax: PhoneNumber
    gateway: Gateway = Field(default="loopback", description=(
        "How prescriptions reach the pharmacy: `loopback`, the built-in network. Other "
        "gateways, their endpoints and secrets are set by the deployment operator on the "
        "command line, never through the API."))


class PharmacyUpdate(ApiInput):
    """Contact details only; `address` replaces as a whole. The NCPDP ID and the NPI name the
    pharmacy itself and do not change."""

    model_config = ConfigDict(json_schema_extra=not_nullable(
        "name", "address", "phone", "fax"))

    name: Text200 | None = None
    address: PharmacyAddress | None = None
    phone: PhoneNumber | None = None
    fax: PhoneNumber | None = None

    _refuse_null = field_validator("name", "address", "phone", "fax", mode="before")(
        refuse_null)


class PharmacyAddressRead(ApiModel):
    street: str
    city: str
    state: str
    zip_code: str


class PharmacyRead(ApiModel):
    id: str
    name: str
    ncpdp_id: str
    npi: str
    address: PharmacyAddressRead
    phone: str
    fax: str
    gateway: str
    created_at: UtcDateTime
    updated_at: UtcDateTime


class PharmacyList(ApiModel):
    pharmacies: list[PharmacyRead]
    total: int
