from __future__ import annotations

from typing import Any

import httpx

# Valid check digits that name no real pharmacy (tests/pharmacies/test_identifiers.py).
NCPDP_IDS = ("1234563", "7654329", "0543214")
NPIS = ("1234567893", "1987654328", "1456789019")


def pharmacy_payload(index: int = 0, **overrides: Any) -> dict[str, Any]:
    """A valid POST /v1/pharmacies body."""
    body: dict[str, Any] = {
        "name": ("CVS Pharmacy", "Walgreens Market Street", "Mission Apothecary")[index],
        "ncpdpId": NCPDP_IDS[index], "npi": NPIS[index],
        "address": {"street": "123 Market St", "city": "San Francisco", "state": "CA",
                    "zipCode": ("94105", "94103", "94110")[index]},
        "phone": "+1 (415) 555-0160", "fax": "+1 (415) 555-0161",
    }
    body.update(overrides)
    return body


async def create_pharmacy(admin: httpx.AsyncClient, index: int = 0, **overrides: Any
                          ) -> dict[str, Any]:
    response = await admin.post("/v1/pharmacies", json=pharmacy_payload(index, **overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
