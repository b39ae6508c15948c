from __future__ import annotations

from typing import Any

import httpx

SITES: dict[str, dict[str, Any]] = {
    "SF": {"name": "Bayview Dermatology San Francisco",
           "address": {"street": "500 Howard St", "city": "San Francisco", "state": "CA",
                       "zipCode": "94105"}},
    "Oakland": {"name": "Bayview Dermatology Oakland",
                "address": {"street": "1 Broadway", "city": "Oakland", "state": "CA",
                            "zipCode": "94607"}},
    "San Jose": {"name": "Bayview Dermatology San Jose",
                 "address": {"street": "200 Santa Clara St", "city": "San Jose", "state": "CA",
                             "zipCode": "95113"}},
}


def location_payload(code: str = "SF", **overrides: Any) -> dict[str, Any]:
    """A valid POST /v1/locations body (the sites named in the vendor document)."""
    site = SITES.get(code, {"name": f"Site {code}", "address": {
        "street": "1 Main St", "city": "Fresno", "state": "CA", "zipCode": "93721"}})
    body: dict[str, Any] = {"code": code, **site, "phone": "+1 (415) 555-0100",
                            "timeZone": "America/Los_Angeles"}
    body.update(overrides)
    return body


async def create_location(admin: httpx.AsyncClient, code: str = "SF", **overrides: Any
                          ) -> dict[str, Any]:
    response = await admin.post("/v1/locations", json=location_payload(code, **overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())
