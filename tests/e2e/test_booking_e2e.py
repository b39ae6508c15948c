"""Two server processes over one database, many clients booking the same slot at once over
TCP: exactly one booking lands, the others are told CONFLICT."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from dermifi.auth.permissions import Role
from dermifi.providers.schemas import WEEKDAYS
from tests.e2e.helpers import assert_error, bearer, login, running, seed_user
from tests.e2e.server import ServerProcess
from tests.factories.locations import location_payload
from tests.factories.patients import patient_payload
from tests.factories.providers import provider_payload
from tests.support import Backend

RACERS = 10


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


def test_racing_bookings_across_processes_never_double_book(
        server_env: dict[str, str], e2e_backend: Backend, tmp_path: Path) -> None:
    admin = seed_user(e2e_backend, tmp_path / "data", role=Role.ADMIN)
    desk = seed_user(e2e_backend, tmp_path / "data", role=Role.FRONT_DESK)
    env = {**server_env, "DERMIFI_RATE_LIMIT": "100000/minute"}
    with running(ServerProcess(env, tmp_path / "a.log"),
                 ServerProcess(env, tmp_path / "b.log")) as (a, b):
        as_admin = bearer(_ok(login(a.url, admin["email"], admin["password"]))["accessToken"])
        as_desk = bearer(_ok(login(b.url, desk["email"], desk["password"]))["accessToken"])
        with httpx.Client(base_url=a.url, headers=as_admin, timeout=30) as setup:
            # UTC: the day and its wall clock are the same wherever and whenever this runs.
            _ok(setup.post("/v1/locations", json=location_payload("SF", timeZone="UTC")), 201)
            provider = _ok(setup.post("/v1/providers", json=provider_payload()), 201)
            _ok(setup.post(f"/v1/providers/{provider['id']}/verify"))
            tomorrow = datetime.now(UTC).date() + timedelta(days=1)
            _ok(setup.put(f"/v1/providers/{provider['id']}/working-hours", json={
                "workingHours": [{"dayOfWeek": WEEKDAYS[tomorrow.weekday()],
                                  "location": "SF", "start": "08:00", "end": "18:00"}]}))
            patients = [
                _ok(setup.post("/v1/patients", json=patient_payload(
                    firstName=f"Racer{chr(ord('a') + i)}")), 201)["id"]
                for i in range(RACERS)]

        async def race() -> list[httpx.Response]:
            async with httpx.AsyncClient(headers=as_desk, timeout=60) as client:
                return await asyncio.gather(*(
                    client.post(f"{(a, b)[i % 2].url}/v1/appointments", json={
                        "patientId": patient, "providerId": provider["id"],
                        "start": f"{tomorrow.isoformat()}T12:00:00Z",
                        "duration": 30, "type": "consultation"})
                    for i, patient in enumerate(patients)))

        responses = asyncio.run(race())
        assert sorted(r.status_code for r in responses) == [201] + [409] * (RACERS - 1), [
            r.text for r in responses]
        for response in responses:
            if response.status_code == 409:
                assert_error(response, 409, "CONFLICT")
        with httpx.Client(base_url=b.url, headers=as_desk, timeout=30) as reader:
            book = _ok(reader.get("/v1/appointments", params={"providerId": provider["id"]}))
            assert book["pagination"]["total"] == 1
            day = _ok(reader.get(f"/v1/providers/{provider['id']}/schedule",
                                 params={"date": tomorrow.isoformat()}))
            assert [v["time"] for v in day["schedule"]["appointments"]] == ["12:00"]
