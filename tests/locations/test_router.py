"""/v1/locations: the practice's sites (contract: Schedules, roles; brief: codes, time zones)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dermifi.audit.models import AuditEvent
from dermifi.core.state import AppState
from tests.auth.test_login import assert_error
from tests.conftest import ClientFactory
from tests.factories.locations import create_location, location_payload
from tests.factories.users import RoleClient

LOCATION_FIELDS = {"id", "code", "name", "address", "phone", "timeZone", "createdAt",
                   "updatedAt"}


class TestCreate:
    async def test_shape(self, admin_client: RoleClient) -> None:
        payload = location_payload("SF")
        response = await admin_client.post("/v1/locations", json=payload)
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == LOCATION_FIELDS
        assert body["id"].startswith("loc_")
        assert response.headers["Location"] == f"/v1/locations/{body['id']}"
        assert response.headers["ETag"] == '"v1"'
        for field in ("code", "name", "address", "phone", "timeZone"):
            assert body[field] == payload[field], field
        assert body["createdAt"].endswith("Z")

    async def test_codes_may_have_spaces(self, admin_client: RoleClient) -> None:
        assert (await create_location(admin_client, "San Jose"))["code"] == "San Jose"

    @pytest.mark.parametrize(("overrides", "field"), [
        ({"timeZone": "Mars/Olympus_Mons"}, "timeZone"),
        ({"timeZone": "../../etc/passwd"}, "timeZone"),
        ({"timeZone": "PST"}, "timeZone"),
        ({"timeZone": ""}, "timeZone"),
        ({"code": ""}, "code"),
        ({"code": " SF"}, "code"),
        ({"code": "S/F"}, "code"),
        ({"code": "x" * 41}, "code"),
        ({"name": ""}, "name"),
        ({"phone": "+1 (555) 000-0000"}, "phone"),
        ({"address": {"street": "1 A St", "city": "X", "state": "ZZ", "zipCode": "94105"}},
         "address.state"),
        ({"address": {"street": "1 A St", "city": "X", "state": "CA", "zipCode": "941"}},
         "address.zipCode"),
        ({"id": "loc_mine"}, "id"),
    ])
    async def test_validation(self, admin_client: RoleClient, overrides: dict[str, object],
                              field: str) -> None:
        response = await admin_client.post("/v1/locations", json=location_payload(**overrides))
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert field in [d["field"] for d in error["details"]]  # type: ignore[union-attr]

    @pytest.mark.parametrize("zone", ["America/Los_Angeles", "America/New_York", "UTC",
                                      "Pacific/Honolulu"])
    async def test_iana_time_zones(self, admin_client: RoleClient, zone: str) -> None:
        body = await create_location(admin_client, "SF", timeZone=zone)
        assert body["timeZone"] == zone

    async def test_codes_are_unique_in_a_practice_whatever_the_case(
        self, admin_client: RoleClient,
    ) -> None:
        await create_location(admin_client, "SF")
        response = await admin_client.post("/v1/locations", json=location_payload("sf"))
        error = assert_error(response, 409, "CONFLICT")
        assert [d["field"] for d in error["details"]] == ["code"]  # type: ignore[union-attr]

    async def test_another_practice_may_use_the_same_code(
        self, admin_client: RoleClient, client_for: ClientFactory, state: AppState,
    ) -> None:
        from tests.factories.practices import make_practice

        await create_location(admin_client, "SF")
        other = await make_practice(state, name="Other Practice")
        other_admin = await client_for("admin", practice_id=other.id)
        assert (await create_location(other_admin, "SF"))["code"] == "SF"

    async def test_audited(self, admin_client: RoleClient, state: AppState) -> None:
        body = await create_location(admin_client, "SF")
        async with state.sessionmaker() as session:
            event = await session.scalar(select(AuditEvent).where(
                AuditEvent.action == "location.create"))
        assert event is not None
        assert event.resource_id == body["id"]
        assert event.actor_id == admin_client.user_id
        assert event.details == {}


class TestReadAndList:
    async def test_list_by_code_with_total_and_pages(self, admin_client: RoleClient,
                                                     nurse_client: RoleClient) -> None:
        for code in ("Oakland", "SF", "San Jose"):
            await create_location(admin_client, code)
        response = await nurse_client.get("/v1/locations")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"locations", "total"}
        assert body["total"] == 3
        assert [loc["code"] for loc in body["locations"]] == ["Oakland", "San Jose", "SF"]
        page = (await nurse_client.get("/v1/locations", params={"limit": 2, "page": 2})).json()
        assert page["total"] == 3
        assert [loc["code"] for loc in page["locations"]] == ["SF"]

    @pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"page": 0}])
    async def test_bad_paging(self, admin_client: RoleClient, params: dict[str, int]) -> None:
        assert_error(await admin_client.get("/v1/locations", params=params), 400,
                     "VALIDATION_ERROR")

    async def test_get_one_with_etag(self, admin_client: RoleClient,
                                     front_desk_client: RoleClient) -> None:
        created = await create_location(admin_client, "SF")
        response = await front_desk_client.get(f"/v1/locations/{created['id']}")
        assert response.status_code == 200
        assert response.json() == created
        assert response.headers["ETag"] == '"v1"'

    async def test_unknown_id(self, admin_client: RoleClient) -> None:
        assert_error(await admin_client.get("/v1/locations/loc_nope"), 404, "NOT_FOUND")

    async def test_another_practices_location_is_not_found(
        self, admin_client: RoleClient, client_for: ClientFactory, state: AppState,
    ) -> None:
        from tests.factories.practices import make_practice

        created = await create_location(admin_client, "SF")
        other = await make_practice(state, name="Other Practice")
        other_admin = await client_for("admin", practice_id=other.id)
        url = f"/v1/locations/{created['id']}"
        assert_error(await other_admin.get(url), 404, "NOT_FOUND")
        assert_error(await other_admin.patch(url, json={"name": "Mine"}), 404, "NOT_FOUND")
        assert (await other_admin.get("/v1/locations")).json() == {"locations": [], "total": 0}


class TestUpdate:
    async def test_partial_update(self, admin_client: RoleClient) -> None:
        created = await create_location(admin_client, "SF")
        url = f"/v1/locations/{created['id']}"
        response = await admin_client.patch(url, json={
            "name": "Bayview SoMa", "timeZone": "America/Denver", "phone": None})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["name"] == "Bayview SoMa"
        assert body["timeZone"] == "America/Denver"
        assert body["phone"] is None
        assert body["address"] == created["address"]
        assert body["code"] == "SF"
        assert response.headers["ETag"] == '"v2"'

    async def test_code_change_and_conflict(self, admin_client: RoleClient) -> None:
        sf = await create_location(admin_client, "SF")
        await create_location(admin_client, "Oakland")
        url = f"/v1/locations/{sf['id']}"
        error = assert_error(await admin_client.patch(url, json={"code": "OAKLAND"}), 409,
                             "CONFLICT")
        assert [d["field"] for d in error["details"]] == ["code"]  # type: ignore[union-attr]
        renamed = await admin_client.patch(url, json={"code": "sf"})  # its own code, recased
        assert renamed.status_code == 200
        assert renamed.json()["code"] == "sf"

    @pytest.mark.parametrize(("body", "field"), [
        ({"name": None}, "name"), ({"timeZone": None}, "timeZone"),
        ({"timeZone": "Nowhere/Land"}, "timeZone"), ({"code": None}, "code"),
        ({"createdAt": "2024-01-01T00:00:00Z"}, "createdAt"),
    ])
    async def test_validation(self, admin_client: RoleClient, body: dict[str, object],
                              field: str) -> None:
        created = await create_location(admin_client, "SF")
        response = await admin_client.patch(f"/v1/locations/{created['id']}", json=body)
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert field in [d["field"] for d in error["details"]]  # type: ignore[union-attr]

    async def test_stale_if_match(self, admin_client: RoleClient) -> None:
        created = await create_location(admin_client, "SF")
        url = f"/v1/locations/{created['id']}"
        first = await admin_client.patch(url, json={"name": "A"}, headers={"If-Match": '"v1"'})
        assert first.status_code == 200
        assert_error(await admin_client.patch(url, json={"name": "B"},
                                              headers={"If-Match": '"v1"'}),
                     412, "PRECONDITION_FAILED")
        fresh = await admin_client.patch(url, json={"name": "B"},
                                         headers={"If-Match": first.headers["ETag"]})
        assert fresh.status_code == 200

    async def test_audited_with_field_names(self, admin_client: RoleClient,
                                            state: AppState) -> None:
        created = await create_location(admin_client, "SF")
        await admin_client.patch(f"/v1/locations/{created['id']}",
                                 json={"name": "New", "phone": None})
        async with state.sessionmaker() as session:
            event = await session.scalar(select(AuditEvent).where(
                AuditEvent.action == "location.update"))
        assert event is not None
        assert event.resource_id == created["id"]
        assert event.details == {"fields": ["name", "phone"]}


class TestRoles:
    @pytest.mark.parametrize(("role", "status"), [
        ("admin", 200), ("provider", 200), ("nurse", 200), ("front_desk", 200),
        # The pharmacy reads the prescriber directory, not the practice's sites.
        ("pharmacy", 403),
    ])
    async def test_read(self, admin_client: RoleClient, client_for: ClientFactory, role: str,
                        status: int) -> None:
        created = await create_location(admin_client, "SF")
        client = await client_for(role)
        assert (await client.get("/v1/locations")).status_code == status
        assert (await client.get(f"/v1/locations/{created['id']}")).status_code == status

    @pytest.mark.parametrize("role", ["provider", "nurse", "front_desk", "pharmacy"])
    async def test_only_admins_write(self, admin_client: RoleClient, client_for: ClientFactory,
                                     role: str) -> None:
        created = await create_location(admin_client, "SF")
        client = await client_for(role)
        assert_error(await client.post("/v1/locations", json=location_payload("Oakland")),
                     403, "FORBIDDEN")
        assert_error(await client.patch(f"/v1/locations/{created['id']}", json={"name": "X"}),
                     403, "FORBIDDEN")

    async def test_anonymous(self, anon_client: object) -> None:
        import httpx

        assert isinstance(anon_client, httpx.AsyncClient)
        assert_error(await anon_client.get("/v1/locations"), 401, "UNAUTHORIZED")
