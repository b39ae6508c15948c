"""A practice's appointment book on the vendor document's day, 2024-01-20 (a Saturday).

The clock stands at Friday 2024-01-19 09:00 in San Francisco. Dr. Emily Johnson (verified)
works at SF Monday to Saturday 09:00-17:00 with a break 12:00-13:00 (the document's hours),
at Oakland on Sundays 10:00-14:00 and on Friday evenings 18:00-20:00, and has Tuesday
2024-01-23 off. Both sites are in America/Los_Angeles.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from dermifi.core.clock import FrozenClock
from tests.factories.locations import create_location
from tests.factories.patients import patient_payload
from tests.factories.providers import create_provider
from tests.factories.users import RoleClient

FRIDAY_MORNING = datetime(2024, 1, 19, 17, 0, tzinfo=UTC)  # 09:00 PST
DOCUMENT_DAY = "2024-01-20"
SF_DAY = {"location": "SF", "start": "09:00", "end": "17:00",
          "break": {"start": "12:00", "end": "13:00"}}
WEEK: dict[str, Any] = {
    "workingHours": [
        *({"dayOfWeek": day, **SF_DAY} for day in
          ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")),
        {"dayOfWeek": "sunday", "location": "Oakland", "start": "10:00", "end": "14:00"},
        {"dayOfWeek": "friday", "location": "Oakland", "start": "18:00", "end": "20:00"},
    ],
    "exceptions": [{"date": "2024-01-23", "reason": "Conference"}],
}


def at(day: str, hhmm: str, offset: str = "-08:00") -> str:
    """A wall-clock time in San Francisco as an ISO 8601 date-time with its offset."""
    return f"{day}T{hhmm}:00{offset}"


@dataclass
class Book:
    admin: RoleClient
    desk: RoleClient
    provider: dict[str, Any]
    patients: list[str]

    def booking(self, start: str, *, patient: int = 0, **fields: Any) -> dict[str, Any]:
        return {"patientId": self.patients[patient], "providerId": self.provider["id"],
                "start": start, "duration": 30, "type": "follow_up", **fields}

    async def book(self, start: str, *, patient: int = 0, **fields: Any) -> dict[str, Any]:
        response = await self.desk.post("/v1/appointments",
                                         json=self.booking(start, patient=patient, **fields))
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def schedule(self, day: str = DOCUMENT_DAY, client: httpx.AsyncClient | None = None,
                       **params: str) -> httpx.Response:
        return await (client or self.desk).get(
            f"/v1/providers/{self.provider['id']}/schedule", params={"date": day, **params})


async def new_patients(client: httpx.AsyncClient, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        # Distinct people: the same name and date of birth twice would be a duplicate (409).
        response = await client.post("/v1/patients", json=patient_payload(
            firstName="Pat" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


@pytest.fixture
async def book(clock: FrozenClock, admin_client: RoleClient, front_desk_client: RoleClient
               ) -> Book:
    clock.set(FRIDAY_MORNING)
    await create_location(admin_client, "SF")
    await create_location(admin_client, "Oakland")
    provider = await create_provider(admin_client, verify=True, locations=["SF", "Oakland"])
    hours = await admin_client.put(f"/v1/providers/{provider['id']}/working-hours", json=WEEK)
    assert hours.status_code == 200, hours.text
    return Book(admin_client, front_desk_client, provider,
                await new_patients(front_desk_client, 3))
