"""What the measurements need in the deployment, made the way an operator or a client would:
the practice and its admin through the ``dermifi`` command line, a bearer token through
``POST /v1/auth/login``, and an appointment book (a location, a verified provider, working
hours) through the API."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.server import dermifi

LOCATION_CODE = "BENCH"
# The provider works every day from 00:00 to 23:55 UTC (a zone without daylight saving, so
# every day has the same slots); a booking is SLOT_MINUTES long.
SLOT_MINUTES = 5
DAY_START, DAY_END = "00:00", "23:55"
SLOTS_PER_DAY = (23 * 60 + 55) // SLOT_MINUTES
# The API opens the book three years ahead; the slots used stay well inside it.
BOOKED_DAYS = 1000
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# A valid NPI (CMS's own check-digit example).
PROVIDER_NPI = "1234567893"
PATIENTS_TO_BOOK = 100


class SetupError(Exception):
    """The deployment under test could not be prepared; nothing was measured."""


@dataclass(frozen=True)
class Accounts:
    practice_id: str
    email: str
    password: str


def create_accounts(env: Mapping[str, str]) -> Accounts:
    """One practice and one admin, through the operator's own command line. No MFA: a TOTP
    code is accepted once per 30 s window, and the bench logs in once per round."""
    dermifi("migrate", env=env)
    practice = json.loads(dermifi("practice", "create", "--name", "Bench", env=env).stdout)
    email = f"bench-{secrets.token_hex(4)}@bench.dermifi.test"
    # Random and long, so the password policy (12+ characters, not a common one) accepts it.
    password = secrets.token_urlsafe(16)
    dermifi("user", "create", "--email", email, "--password", password, "--role", "admin",
            env=env)
    return Accounts(str(practice["id"]), email, password)


def login(base_url: str, accounts: Accounts) -> str:
    """A fresh access token (they expire after an hour; a --million run is longer)."""
    with _client(base_url) as client:
        response = client.post("/v1/auth/login",
                               json={"email": accounts.email, "password": accounts.password})
    if response.status_code != 200:
        raise SetupError(f"login for the bench token failed: {response.status_code} "
                         f"{response.text[:500]}")
    token = response.json().get("accessToken")
    if not isinstance(token, str):
        raise SetupError("login answered 200 without an accessToken")
    return token


@dataclass(frozen=True)
class AppointmentBook:
    """What create_appointment.lua needs: who, where, and the first day of free slots."""

    provider_id: str
    location: str
    patient_ids: list[str]
    first_day_epoch: int  # a UTC midnight, the day after tomorrow

    def lua_params(self) -> dict[str, Any]:
        return {"provider": self.provider_id, "location": self.location,
                "patients": self.patient_ids, "first_day": self.first_day_epoch,
                "slots_per_day": SLOTS_PER_DAY, "slot_minutes": SLOT_MINUTES,
                "capacity": SLOTS_PER_DAY * BOOKED_DAYS}


def create_appointment_book(base_url: str, token: str) -> AppointmentBook:
    with _client(base_url, token) as client:
        _expect(client.post("/v1/locations", json={
            "code": LOCATION_CODE, "name": "Bench Dermatology",
            "address": {"street": "500 Howard St", "city": "San Francisco", "state": "CA",
                        "zipCode": "94105"},
            "phone": "+1 (415) 555-0100", "timeZone": "UTC"}), 201, "create the location")
        provider = _expect(client.post("/v1/providers", json={
            "firstName": "Emily", "lastName": "Bench", "title": "MD",
            "specialty": "Dermatology", "npiNumber": PROVIDER_NPI,
            "licenseNumber": "CA12345", "licenseState": "CA", "licenseExpiry": "2099-12-31",
            "email": "ebench@email.com", "phone": "+1 (415) 555-0122",
            "locations": [LOCATION_CODE], "languages": ["English"],
            "acceptingNewPatients": True}), 201, "create the provider")
        provider_id = str(provider["id"])
        _expect(client.post(f"/v1/providers/{provider_id}/verify"), 200, "verify the provider")
        _expect(client.put(f"/v1/providers/{provider_id}/working-hours", json={
            "workingHours": [{"dayOfWeek": day, "location": LOCATION_CODE,
                              "start": DAY_START, "end": DAY_END} for day in WEEKDAYS]}),
            200, "set the working hours")
        page = _expect(client.get("/v1/patients", params={
            "status": "active", "limit": PATIENTS_TO_BOOK}), 200, "list active patients")
    patient_ids = [str(p["id"]) for p in page["data"]]
    if not patient_ids:
        raise SetupError("no active patient to book appointments for")
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first_day = today + timedelta(days=2)
    return AppointmentBook(provider_id, LOCATION_CODE, patient_ids, int(first_day.timestamp()))


def _client(base_url: str, token: str | None = None) -> httpx.Client:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    # trust_env=False: a proxy from the environment must never see (or divert) this traffic.
    return httpx.Client(base_url=base_url, trust_env=False, timeout=30, headers=headers)


def _expect(response: httpx.Response, status: int, what: str) -> Any:
    if response.status_code != status:
        raise SetupError(f"could not {what}: {response.request.method} {response.request.url} "
                         f"answered {response.status_code} {response.text[:1000]}")
    return response.json()
