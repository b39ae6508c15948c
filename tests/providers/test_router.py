"""/v1/providers: the directory, registration, verification, the user link (vendor document +
contract, Providers). NPIs and DEA numbers here pass their check digits: the document's own
examples ("1234567890", "9876543210", "BC1234567") do not, and the contract's validation wins
(see tests/factories/providers.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from dermifi.audit.models import AuditEvent
from dermifi.core.clock import FrozenClock
from dermifi.core.state import AppState
from tests.auth.test_login import assert_error
from tests.conftest import ClientFactory
from tests.factories.locations import create_location
from tests.factories.practices import make_practice
from tests.factories.providers import (
    CHEN_DEA,
    CHEN_NPI,
    chen_payload,
    create_provider,
    provider_payload,
    valid_dea,
    valid_npi,
)
from tests.factories.users import RoleClient

# The document's POST /providers response and GET /providers list item, key for key.
CREATED_FIELDS = {
    "id", "firstName", "lastName", "title", "specialty", "subspecialty", "npiNumber",
    "licenseNumber", "licenseState", "licenseExpiry", "licenseVerified", "deaNumber", "email",
    "phone", "locations", "languages", "acceptingNewPatients", "status", "createdAt"}
LIST_ITEM_FIELDS = {
    "id", "firstName", "lastName", "title", "specialty", "npiNumber", "licenseNumber",
    "licenseState", "email", "phone", "locations", "languages", "acceptingNewPatients",
    "rating", "reviewCount", "yearsOfExperience", "education", "certifications"}
DOCUMENT_DAY = datetime(2024, 1, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
async def admin(admin_client: RoleClient) -> RoleClient:
    """An admin whose practice has the document's three sites."""
    for code in ("SF", "Oakland", "San Jose"):
        await create_location(admin_client, code)
    return admin_client


async def audit_events(state: AppState, action: str) -> list[AuditEvent]:
    async with state.sessionmaker() as session:
        return list((await session.scalars(select(AuditEvent).where(
            AuditEvent.action == action).order_by(AuditEvent.occurred_at))).all())


def fields_of(error: dict[str, object]) -> list[str]:
    return [d["field"] for d in error["details"]]  # type: ignore[attr-defined]


class TestDocumentExamples:
    async def test_create_as_the_document_shows(self, client_for: ClientFactory,
                                                clock: FrozenClock) -> None:
        clock.set(DOCUMENT_DAY)  # the example's licenseExpiry 2025-12-31 is then ahead
        admin = await client_for("admin")
        for code in ("SF", "San Jose"):
            await create_location(admin, code)
        payload = chen_payload()
        response = await admin.post("/v1/providers", json=payload)
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == CREATED_FIELDS
        assert body["id"].startswith("prov_")
        assert response.headers["Location"] == f"/v1/providers/{body['id']}"
        assert response.headers["ETag"] == '"v1"'
        assert body == {
            "id": body["id"], "firstName": "Michael", "lastName": "Chen", "title": "MD, PhD",
            "specialty": "Dermatology", "subspecialty": "Mohs Surgery", "npiNumber": CHEN_NPI,
            "licenseNumber": "CA54321", "licenseState": "CA", "licenseExpiry": "2025-12-31",
            "licenseVerified": False, "deaNumber": CHEN_DEA, "email": "mchen@dermifi.com",
            "phone": "+1 (415) 333-4444", "locations": ["SF", "San Jose"],
            "languages": ["English", "Mandarin", "Cantonese"], "acceptingNewPatients": True,
            "status": "pending_verification", "createdAt": "2024-01-20T12:00:00Z"}

    async def test_list_as_the_document_shows(self, client_for: ClientFactory,
                                              clock: FrozenClock) -> None:
        clock.set(DOCUMENT_DAY)
        admin = await client_for("admin")
        for code in ("SF", "Oakland"):
            await create_location(admin, code)
        created = await create_provider(admin, verify=True, locations=["SF", "Oakland"])
        nurse = await client_for("nurse")
        response = await nurse.get("/v1/providers", params={
            "specialty": "dermatology", "available": "true", "location": "SF"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"providers", "total"}
        assert body["total"] == 1
        [item] = body["providers"]
        assert set(item) == LIST_ITEM_FIELDS
        assert item == {
            "id": created["id"], "firstName": "Emily", "lastName": "Johnson", "title": "MD",
            "specialty": "Dermatology", "npiNumber": "1234567893", "licenseNumber": "CA12345",
            "licenseState": "CA", "email": "ejohnson@dermifi.com",
            "phone": "+1 (415) 555-0122", "locations": ["SF", "Oakland"],
            "languages": ["English", "Spanish"], "acceptingNewPatients": True,
            # No review source yet; experience from the earliest degree (2008) to 2024.
            "rating": None, "reviewCount": None, "yearsOfExperience": 16,
            "education": [{"degree": "MD", "institution": "Stanford University",
                           "year": 2008}],
            "certifications": ["American Board of Dermatology"]}

    async def test_full_record(self, admin: RoleClient, clock: FrozenClock) -> None:
        created = (await admin.post("/v1/providers", json=chen_payload(
            licenseExpiry="2099-01-31"))).json()
        response = await admin.get(f"/v1/providers/{created['id']}")
        assert response.status_code == 200
        body = response.json()
        assert set(body) >= CREATED_FIELDS
        assert {key: body[key] for key in CREATED_FIELDS} == created
        assert body["residency"] == {"institution": "UCSF", "specialty": "Dermatology",
                                     "completionYear": 2014}
        assert body["fellowship"]["completionYear"] == 2015
        assert body["education"][1] == {"degree": "PhD", "institution": "MIT", "year": 2008}
        # Residency completion wins over the earliest degree.
        assert body["yearsOfExperience"] == clock.now().year - 2014
        assert body["userId"] is None
        assert body["licenseVerifiedAt"] is None
        assert body["rating"] is None
        assert response.headers["ETag"] == '"v1"'


class TestCreateValidation:
    @pytest.mark.parametrize(("overrides", "field"), [
        ({"npiNumber": "1234567890"}, "npiNumber"),  # the document's: fails the Luhn check
        ({"npiNumber": "9876543210"}, "npiNumber"),
        ({"npiNumber": "123456789"}, "npiNumber"),
        ({"npiNumber": 1234567893}, "npiNumber"),
        ({"deaNumber": "BC1234567"}, "deaNumber"),  # the document's: wrong check digit
        ({"deaNumber": "BX1234563"}, "deaNumber"),  # not Chen's initial
        ({"deaNumber": "XC1234563"}, "deaNumber"),  # not a practitioner's registrant type
        ({"deaNumber": "bc1234563"}, "deaNumber"),
        ({"licenseExpiry": "2020-01-01"}, "licenseExpiry"),
        ({"licenseExpiry": "2099-02-30"}, "licenseExpiry"),
        ({"licenseState": "XX"}, "licenseState"),
        ({"locations": ["SF", "Mars"]}, "locations"),
        ({"locations": ["SF", "sf"]}, "locations"),
        ({"phone": "+1 (555) 333-4444"}, "phone"),  # 555 is not a real area code
        ({"email": "not-an-email"}, "email"),
        ({"firstName": ""}, "firstName"),
        ({"education": [{"degree": "MD", "institution": "X", "year": 1800}]},
         "education.0.year"),
        ({"residency": {"institution": "UCSF", "specialty": "Dermatology"}},
         "residency.completionYear"),
        ({"status": "active"}, "status"),
        ({"licenseVerified": True}, "licenseVerified"),
        ({"id": "prov_mine"}, "id"),
        ({"rating": 5}, "rating"),
    ])
    async def test_rejected(self, admin: RoleClient, overrides: dict[str, object],
                            field: str) -> None:
        response = await admin.post("/v1/providers", json=chen_payload(
            **{"licenseExpiry": "2099-12-31", **overrides}))
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert field in fields_of(error)

    async def test_every_rule_is_reported_at_once(self, admin: RoleClient) -> None:
        response = await admin.post("/v1/providers", json=chen_payload(
            npiNumber="1234567890", deaNumber="BX1234567", licenseExpiry="2001-01-01",
            locations=["SF", "Nowhere"]))
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert sorted(fields_of(error)) == ["deaNumber", "deaNumber", "licenseExpiry",
                                            "locations", "npiNumber"]
        assert "Nowhere" in str(error["details"])

    async def test_license_expiring_today_is_still_valid(self, admin: RoleClient,
                                                         clock: FrozenClock) -> None:
        today = clock.now().date().isoformat()
        response = await admin.post("/v1/providers", json=provider_payload(
            licenseExpiry=today))
        assert response.status_code == 201, response.text

    async def test_dea_is_optional(self, admin: RoleClient) -> None:
        body = await create_provider(admin)
        assert body["deaNumber"] is None

    async def test_location_codes_in_any_case_name_the_site(self, admin: RoleClient) -> None:
        body = await create_provider(admin, locations=["san jose", "sf"])
        assert body["locations"] == ["San Jose", "SF"]

    async def test_another_practices_location_is_unknown(
        self, admin: RoleClient, client_for: ClientFactory, state: AppState,
    ) -> None:
        other = await make_practice(state, name="Other Practice")
        other_admin = await client_for("admin", practice_id=other.id)
        await create_location(other_admin, "Fresno")
        response = await admin.post("/v1/providers", json=provider_payload(
            locations=["Fresno"]))
        assert fields_of(assert_error(response, 400, "VALIDATION_ERROR")) == ["locations"]


class TestDuplicates:
    async def test_same_npi_in_a_practice(self, admin: RoleClient) -> None:
        await create_provider(admin)
        response = await admin.post("/v1/providers", json=provider_payload(firstName="Other"))
        error = assert_error(response, 409, "CONFLICT")
        assert fields_of(error) == ["npiNumber"]

    async def test_same_npi_in_another_practice(self, admin: RoleClient,
                                                client_for: ClientFactory,
                                                state: AppState) -> None:
        await create_provider(admin)
        other = await make_practice(state, name="Other Practice")
        other_admin = await client_for("admin", practice_id=other.id)
        await create_location(other_admin, "SF")
        assert (await create_provider(other_admin))["npiNumber"] == "1234567893"

    async def test_concurrent_creates_with_one_npi(self, admin: RoleClient) -> None:
        responses = await asyncio.gather(*[
            admin.post("/v1/providers", json=provider_payload()) for _ in range(2)])
        assert sorted(r.status_code for r in responses) == [201, 409]
        loser = next(r for r in responses if r.status_code == 409)
        assert_error(loser, 409, "CONFLICT")
        listed = await admin.get("/v1/providers", params={"status": "all"})
        assert listed.json()["total"] == 1


class TestUserLink:
    async def test_link_on_create_and_unlink(self, admin: RoleClient,
                                             provider_client: RoleClient) -> None:
        created = await create_provider(admin, userId=provider_client.user_id)
        url = f"/v1/providers/{created['id']}"
        assert (await admin.get(url)).json()["userId"] == provider_client.user_id
        unlinked = await admin.patch(url, json={"userId": None})
        assert unlinked.status_code == 200
        assert unlinked.json()["userId"] is None

    async def test_one_provider_per_user(self, admin: RoleClient,
                                         provider_client: RoleClient) -> None:
        await create_provider(admin, userId=provider_client.user_id)
        response = await admin.post("/v1/providers", json=provider_payload(
            npi=valid_npi("111111111"), userId=provider_client.user_id))
        assert fields_of(assert_error(response, 409, "CONFLICT")) == ["userId"]
        other = await create_provider(admin, npi=valid_npi("222222222"))
        response = await admin.patch(f"/v1/providers/{other['id']}",
                                     json={"userId": provider_client.user_id})
        assert fields_of(assert_error(response, 409, "CONFLICT")) == ["userId"]

    async def test_relinking_the_same_user_is_no_conflict(self, admin: RoleClient,
                                                          provider_client: RoleClient) -> None:
        created = await create_provider(admin, userId=provider_client.user_id)
        response = await admin.patch(f"/v1/providers/{created['id']}",
                                     json={"userId": provider_client.user_id})
        assert response.status_code == 200

    async def test_only_provider_role_users(self, admin: RoleClient,
                                            nurse_client: RoleClient) -> None:
        response = await admin.post("/v1/providers", json=provider_payload(
            userId=nurse_client.user_id))
        assert fields_of(assert_error(response, 400, "VALIDATION_ERROR")) == ["userId"]

    async def test_user_of_another_practice_or_none(self, admin: RoleClient,
                                                    client_for: ClientFactory,
                                                    state: AppState) -> None:
        other = await make_practice(state, name="Other Practice")
        stranger = await client_for("provider", practice_id=other.id)
        for user_id in (stranger.user_id, "usr_nope"):
            response = await admin.post("/v1/providers", json=provider_payload(userId=user_id))
            error = assert_error(response, 400, "VALIDATION_ERROR")
            assert error["details"] == [{"field": "userId",
                                         "message": "No such user in this practice"}]


class TestDirectory:
    async def populate(self, admin: RoleClient) -> dict[str, str]:
        ids = {}
        specs = [("Adams", "Dermatology", True, ["SF"]),
                 ("Baker", "DERMATOLOGY", False, ["Oakland"]),
                 ("Clark", "Pediatric Dermatology", True, ["SF", "Oakland"]),
                 ("Davis", "dermatology", True, ["San Jose", "SF"])]
        for i, (last, specialty, accepting, locations) in enumerate(specs):
            body = await create_provider(
                admin, verify=True, npi=valid_npi(f"10000000{i}"), last_name=last,
                specialty=specialty, acceptingNewPatients=accepting, locations=locations)
            ids[last] = body["id"]
        pending = await create_provider(admin, npi=valid_npi("200000000"), last_name="Evans")
        ids["Evans"] = pending["id"]
        return ids

    async def names(self, client: httpx.AsyncClient, **params: object) -> list[str]:
        response = await client.get("/v1/providers", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] >= len(body["providers"])
        return [p["lastName"] for p in body["providers"]]

    async def test_filters(self, admin: RoleClient, front_desk_client: RoleClient) -> None:
        await self.populate(admin)
        client = front_desk_client
        assert await self.names(client) == ["Adams", "Baker", "Clark", "Davis"]
        assert await self.names(client, specialty="dermatology") == ["Adams", "Baker", "Davis"]
        assert await self.names(client, specialty="DermaTology") == ["Adams", "Baker", "Davis"]
        assert await self.names(client, specialty="Derm") == []  # the specialty, not a part
        assert await self.names(client, available="true") == ["Adams", "Clark", "Davis"]
        assert await self.names(client, available="false") == ["Baker"]
        assert await self.names(client, location="SF") == ["Adams", "Clark", "Davis"]
        assert await self.names(client, location="oakland") == ["Baker", "Clark"]
        assert await self.names(client, location="Nowhere") == []
        assert await self.names(client, specialty="dermatology", available="true",
                                location="SF") == ["Adams", "Davis"]

    async def test_status(self, admin: RoleClient) -> None:
        await self.populate(admin)
        assert await self.names(admin, status="pending_verification") == ["Evans"]
        assert await self.names(admin, status="all") == [
            "Adams", "Baker", "Clark", "Davis", "Evans"]

    async def test_pagination_and_total(self, admin: RoleClient) -> None:
        await self.populate(admin)
        first = (await admin.get("/v1/providers", params={"limit": 3})).json()
        second = (await admin.get("/v1/providers", params={"limit": 3, "page": 2})).json()
        assert first["total"] == second["total"] == 4
        assert [p["lastName"] for p in first["providers"] + second["providers"]] == [
            "Adams", "Baker", "Clark", "Davis"]
        filtered = (await admin.get("/v1/providers", params={
            "location": "SF", "limit": 1, "page": 2})).json()
        assert filtered["total"] == 3
        assert [p["lastName"] for p in filtered["providers"]] == ["Clark"]

    @pytest.mark.parametrize("params", [
        {"limit": 0}, {"limit": 101}, {"page": 0}, {"available": "maybe"},
        {"status": "retired"}, {"specialty": ""}, {"location": "S/F"}])
    async def test_bad_parameters(self, admin_client: RoleClient,
                                  params: dict[str, object]) -> None:
        assert_error(await admin_client.get("/v1/providers", params=params), 400,
                     "VALIDATION_ERROR")


class TestVerify:
    async def test_pending_becomes_active(self, admin: RoleClient, clock: FrozenClock,
                                          state: AppState) -> None:
        created = await create_provider(admin)
        url = f"/v1/providers/{created['id']}/verify"
        response = await admin.post(url)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "active"
        assert body["licenseVerified"] is True
        assert body["licenseVerifiedAt"] == clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        assert response.headers["ETag"] == '"v2"'
        error = assert_error(await admin.post(url), 409, "INVALID_STATE")
        assert error["details"] == []
        [event] = await audit_events(state, "provider.verify")
        assert event.resource_id == created["id"]
        assert event.actor_id == admin.user_id

    async def test_license_expired_since_registration(self, admin: RoleClient,
                                                      client_for: ClientFactory,
                                                      clock: FrozenClock) -> None:
        today = clock.now().date()
        created = await create_provider(admin, licenseExpiry=today.isoformat())
        clock.advance(days=1)
        tomorrows_admin = await client_for("admin")  # yesterday's token has expired
        assert_error(await tomorrows_admin.post(f"/v1/providers/{created['id']}/verify"), 409,
                     "INVALID_STATE")

    async def test_stale_if_match(self, admin: RoleClient) -> None:
        created = await create_provider(admin)
        await admin.patch(f"/v1/providers/{created['id']}", json={"languages": ["English"]})
        assert_error(await admin.post(f"/v1/providers/{created['id']}/verify",
                                      headers={"If-Match": '"v1"'}),
                     412, "PRECONDITION_FAILED")

    async def test_verified_providers_appear_in_the_directory(self, admin: RoleClient) -> None:
        created = await create_provider(admin)
        assert (await admin.get("/v1/providers")).json()["total"] == 0
        await admin.post(f"/v1/providers/{created['id']}/verify")
        assert (await admin.get("/v1/providers")).json()["total"] == 1


class TestUpdate:
    async def test_contact_locations_languages_availability(self, admin: RoleClient) -> None:
        created = await create_provider(admin, locations=["SF", "Oakland"])
        url = f"/v1/providers/{created['id']}"
        response = await admin.patch(url, json={
            "email": "emily@dermifi.com", "phone": "415-555-0199",
            "locations": ["San Jose", "SF"], "languages": ["English"],
            "acceptingNewPatients": False})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["email"] == "emily@dermifi.com"
        assert body["phone"] == "+1 (415) 555-0199"
        assert body["locations"] == ["San Jose", "SF"]
        assert body["languages"] == ["English"]
        assert body["acceptingNewPatients"] is False
        assert body["lastName"] == "Johnson"
        assert response.headers["ETag"] == '"v2"'
        assert (await admin.get(url)).json() == body
        cleared = (await admin.patch(url, json={"email": None, "phone": None})).json()
        assert cleared["email"] is None
        assert cleared["phone"] is None

    @pytest.mark.parametrize(("body", "field"), [
        ({"locations": None}, "locations"), ({"languages": None}, "languages"),
        ({"acceptingNewPatients": None}, "acceptingNewPatients"),
        ({"locations": ["Mars"]}, "locations"),
        ({"lastName": "Smith"}, "lastName"), ({"npiNumber": "1234567893"}, "npiNumber"),
        ({"status": "active"}, "status"), ({"licenseVerified": True}, "licenseVerified"),
    ])
    async def test_rejected(self, admin: RoleClient, body: dict[str, object],
                            field: str) -> None:
        created = await create_provider(admin)
        response = await admin.patch(f"/v1/providers/{created['id']}", json=body)
        assert field in fields_of(assert_error(response, 400, "VALIDATION_ERROR"))

    async def test_if_match(self, admin: RoleClient) -> None:
        created = await create_provider(admin)
        url = f"/v1/providers/{created['id']}"
        etag = (await admin.get(url)).headers["ETag"]
        first = await admin.patch(url, json={"languages": ["French"]},
                                  headers={"If-Match": etag})
        assert first.status_code == 200
        stale = await admin.patch(url, json={"languages": ["German"]},
                                  headers={"If-Match": etag})
        assert_error(stale, 412, "PRECONDITION_FAILED")
        assert (await admin.get(url)).json()["languages"] == ["French"]
        fresh = await admin.patch(url, json={"languages": ["German"]},
                                  headers={"If-Match": first.headers["ETag"]})
        assert fresh.status_code == 200

    async def test_concurrent_updates_with_one_etag(self, admin: RoleClient) -> None:
        created = await create_provider(admin)
        url = f"/v1/providers/{created['id']}"
        responses = await asyncio.gather(*[
            admin.patch(url, json={"languages": [f"L{i}"]}, headers={"If-Match": '"v1"'})
            for i in range(3)])
        assert sorted(r.status_code for r in responses) == [200, 412, 412]

    async def test_audited_with_field_names_and_ids(self, admin: RoleClient,
                                                    state: AppState) -> None:
        created = await create_provider(admin)
        await admin.patch(f"/v1/providers/{created['id']}", json={
            "email": "x@dermifi.com", "locations": ["Oakland"]})
        [event] = await audit_events(state, "provider.update")
        assert event.resource_id == created["id"]
        assert event.details["fields"] == ["email", "locations"]
        assert len(event.details["locationIds"]) == 1
        assert event.details["locationIds"][0].startswith("loc_")
        assert "x@dermifi.com" not in str(event.details)


class TestAudit:
    async def test_create_is_audited_with_ids_only(self, admin: RoleClient,
                                                   provider_client: RoleClient,
                                                   state: AppState) -> None:
        created = await create_provider(admin, userId=provider_client.user_id)
        [event] = await audit_events(state, "provider.create")
        assert event.resource_type == "provider"
        assert event.resource_id == created["id"]
        assert event.actor_id == admin.user_id
        assert event.details["userId"] == provider_client.user_id
        assert [i[:4] for i in event.details["locationIds"]] == ["loc_"]
        for value in ("Johnson", "1234567893", "ejohnson@dermifi.com"):
            assert value not in str(event.details)

    async def test_a_refused_create_writes_nothing(self, admin: RoleClient,
                                                   state: AppState) -> None:
        await admin.post("/v1/providers", json=provider_payload(npi="1234567890"))
        assert await audit_events(state, "provider.create") == []


class TestRoles:
    @pytest.mark.parametrize("role", ["admin", "provider", "nurse", "front_desk", "pharmacy"])
    async def test_every_role_reads_the_directory(self, admin: RoleClient,
                                                  client_for: ClientFactory, role: str) -> None:
        created = await create_provider(admin, verify=True)
        client = await client_for(role)
        listed = await client.get("/v1/providers")
        assert listed.status_code == 200
        assert listed.json()["total"] == 1
        assert (await client.get(f"/v1/providers/{created['id']}")).status_code == 200

    @pytest.mark.parametrize("role", ["provider", "nurse", "front_desk", "pharmacy"])
    async def test_only_admins_write(self, admin: RoleClient, client_for: ClientFactory,
                                     role: str) -> None:
        created = await create_provider(admin)
        client = await client_for(role)
        url = f"/v1/providers/{created['id']}"
        payload = provider_payload(npi=valid_npi("333333333"))
        assert_error(await client.post("/v1/providers", json=payload), 403, "FORBIDDEN")
        assert_error(await client.patch(url, json={"languages": []}), 403, "FORBIDDEN")
        assert_error(await client.post(f"{url}/verify"), 403, "FORBIDDEN")
        assert_error(await client.put(f"{url}/working-hours", json={"workingHours": []}),
                     403, "FORBIDDEN")
        # Forbidden whatever the id: a non-admin learns nothing about which ids exist.
        assert_error(await client.patch("/v1/providers/prov_nope", json={}), 403, "FORBIDDEN")

    async def test_anonymous(self, anon_client: httpx.AsyncClient) -> None:
        assert_error(await anon_client.get("/v1/providers"), 401, "UNAUTHORIZED")


class TestTenancy:
    async def test_another_practices_provider_is_not_found(
        self, admin: RoleClient, client_for: ClientFactory, state: AppState,
    ) -> None:
        created = await create_provider(admin, verify=True)
        other = await make_practice(state, name="Other Practice")
        stranger = await client_for("admin", practice_id=other.id)
        url = f"/v1/providers/{created['id']}"
        assert_error(await stranger.get(url), 404, "NOT_FOUND")
        assert_error(await stranger.patch(url, json={"languages": []}), 404, "NOT_FOUND")
        assert_error(await stranger.post(f"{url}/verify"), 404, "NOT_FOUND")
        assert_error(await stranger.get(f"{url}/working-hours"), 404, "NOT_FOUND")
        assert_error(await stranger.put(f"{url}/working-hours", json={"workingHours": []}),
                     404, "NOT_FOUND")
        listed = await stranger.get("/v1/providers", params={"status": "all"})
        assert listed.json() == {"providers": [], "total": 0}
        assert (await stranger.get("/v1/providers", params={"location": "SF"})).json()[
            "total"] == 0


def test_valid_dea_helper() -> None:
    assert valid_dea("BC") == CHEN_DEA
