"""The demo clinic `dermifi seed-demo` sets up beside the demo users, through the same
services the API uses (so every rule is checked and every step audited, as the admin)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.auth.actor import Actor
from dermifi.core.context import current_clock
from dermifi.core.db import scope_to_practice
from dermifi.locations import service as locations_service
from dermifi.locations.schemas import LocationCreate
from dermifi.pharmacies import service as pharmacies_service
from dermifi.pharmacies.schemas import PharmacyCreate
from dermifi.providers import service as providers_service
from dermifi.providers.schemas import WEEKDAYS, ProviderCreate, WorkingHoursReplace

LOCATION_CODE = "Main"
TIME_ZONE = "America/Los_Angeles"
# A well-formed NPI (Luhn over 80840) that is CMS's own check-digit example, not a real
# clinician's number.
DEMO_NPI = "1234567893"

# Two fictional pharmacies for the demo's prescriptions: NCPDP IDs and NPIs with valid check
# digits that name no real pharmacy, 555-01xx numbers (reserved for fiction).
DEMO_PHARMACIES = (
    {"name": "Bayview Community Pharmacy", "ncpdpId": "1234563", "npi": "1987654328",
     "address": {"street": "123 Market St", "city": "San Francisco", "state": "CA",
                 "zipCode": "94105"},
     "phone": "+1 (415) 555-0140", "fax": "+1 (415) 555-0141"},
    {"name": "Mission Street Pharmacy", "ncpdpId": "7654329", "npi": "1456789019",
     "address": {"street": "2400 Mission St", "city": "San Francisco", "state": "CA",
                 "zipCode": "94110"},
     "phone": "+1 (415) 555-0150", "fax": "+1 (415) 555-0151"},
)


async def add_pharmacies(session: AsyncSession) -> list[str]:
    """The demo pharmacies, as the operator adds them (``dermifi pharmacy create``); those
    already in the directory are left alone. Returns the names added."""
    added = []
    for entry in DEMO_PHARMACIES:
        data = PharmacyCreate.model_validate(entry)
        if not await pharmacies_service.is_listed(session, data.ncpdp_id):
            await pharmacies_service.add_by_operator(session, data=data)
            added.append(data.name)
    return added


async def set_up_clinic(session: AsyncSession, admin: Actor, *, provider_user_id: str,
                        first_name: str, last_name: str) -> str:
    """A location, a verified provider linked to the demo provider's login, and weekday
    hours 09:00-17:00 with a break 12:00-13:00: enough to book an appointment at once.
    Returns a one-line description."""
    scope_to_practice(session, admin.practice_id)
    if await locations_service.find_by_code(session, LOCATION_CODE) is not None:
        return f"a location {LOCATION_CODE} already exists; nothing added"
    await locations_service.create_location(session, admin, data=LocationCreate.model_validate({
        "code": LOCATION_CODE, "name": "Dermifi Demo Clinic", "timeZone": TIME_ZONE,
        "address": {"street": "500 Howard St", "city": "San Francisco", "state": "CA",
                    "zipCode": "94105"}}))
    expiry = current_clock().now().date() + timedelta(days=2 * 365)
    provider = await providers_service.create_provider(
        session, admin, data=ProviderCreate.model_validate({
            "firstName": first_name, "lastName": last_name, "title": "MD",
            "specialty": "Dermatology", "npiNumber": DEMO_NPI, "licenseNumber": "DEMO0001",
            "licenseState": "CA", "licenseExpiry": expiry.isoformat(),
            "locations": [LOCATION_CODE], "languages": ["English"],
            "acceptingNewPatients": True, "userId": provider_user_id}))
    await providers_service.verify_provider(session, admin, provider=provider, if_match=None)
    await providers_service.replace_working_hours(
        session, admin, provider=provider, data=WorkingHoursReplace.model_validate({
            "workingHours": [{"dayOfWeek": day, "location": LOCATION_CODE, "start": "09:00",
                              "end": "17:00", "break": {"start": "12:00", "end": "13:00"}}
                             for day in WEEKDAYS[:5]]}))  # Monday to Friday
    return (f"Dr. {first_name} {last_name} ({provider.id}) works at {LOCATION_CODE} "
            f"({TIME_ZONE}) Monday to Friday 09:00-17:00, break 12:00-13:00")
