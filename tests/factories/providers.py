from __future__ import annotations

from typing import Any

import httpx

from dermifi.core.identifiers import NPI_PREFIX, luhn_valid
from dermifi.providers.identifiers import dea_check_digit

# The vendor document's NPIs ("1234567890", "9876543210") and DEA number ("BC1234567") fail
# their check digits, and the contract's validation wins: these are the document's numbers
# with the check digit corrected.
CHEN_NPI = "9876543213"
JOHNSON_NPI = "1234567893"  # also CMS's own NPI check-digit example
CHEN_DEA = "BC1234563"


def valid_npi(nine_digits: str) -> str:
    """The NPI with these leading digits and the right check digit."""
    return next(nine_digits + str(d) for d in range(10)
                if luhn_valid(NPI_PREFIX + nine_digits + str(d)))


def valid_dea(prefix: str, six_digits: str = "123456") -> str:
    return f"{prefix}{six_digits}{dea_check_digit(six_digits)}"


def chen_payload(**overrides: Any) -> dict[str, Any]:
    """The vendor document's POST /v1/providers example, with valid NPI and DEA numbers."""
    body: dict[str, Any] = {
        "firstName": "Michael", "lastName": "Chen", "title": "MD, PhD",
        "specialty": "Dermatology", "subspecialty": "Mohs Surgery", "npiNumber": CHEN_NPI,
        "licenseNumber": "CA54321", "licenseState": "CA", "licenseExpiry": "2025-12-31",
        "deaNumber": CHEN_DEA, "email": "mchen@dermifi.com", "phone": "+1 (415) 333-4444",
        "locations": ["SF", "San Jose"], "languages": ["English", "Mandarin", "Cantonese"],
        "acceptingNewPatients": True,
        "education": [{"degree": "MD", "institution": "Harvard Medical School", "year": 2010},
                      {"degree": "PhD", "institution": "MIT", "year": 2008}],
        "residency": {"institution": "UCSF", "specialty": "Dermatology",
                      "completionYear": 2014},
        "fellowship": {"institution": "Mayo Clinic", "specialty": "Mohs Surgery",
                       "completionYear": 2015},
        "certifications": ["American Board of Dermatology", "American College of Mohs Surgery"],
    }
    body.update(overrides)
    return body


def provider_payload(*, npi: str | None = None, last_name: str = "Johnson",
                     **overrides: Any) -> dict[str, Any]:
    """A minimal valid provider (Dr. Emily Johnson of the document's GET example)."""
    body: dict[str, Any] = {
        "firstName": "Emily", "lastName": last_name, "title": "MD",
        "specialty": "Dermatology", "npiNumber": npi or JOHNSON_NPI,
        "licenseNumber": "CA12345", "licenseState": "CA", "licenseExpiry": "2099-12-31",
        "email": "ejohnson@dermifi.com", "phone": "+1 (415) 555-0122",
        "locations": ["SF"], "languages": ["English", "Spanish"],
        "acceptingNewPatients": True,
        "education": [{"degree": "MD", "institution": "Stanford University", "year": 2008}],
        "certifications": ["American Board of Dermatology"],
    }
    body.update(overrides)
    return body


async def create_provider(admin: httpx.AsyncClient, *, verify: bool = False, **overrides: Any
                          ) -> dict[str, Any]:
    response = await admin.post("/v1/providers", json=provider_payload(**overrides))
    assert response.status_code == 201, response.text
    body = dict(response.json())
    if verify:
        verified = await admin.post(f"/v1/providers/{body['id']}/verify")
        assert verified.status_code == 200, verified.text
        body = dict(verified.json())
    return body
