"""/v1/pharmacies: the directory every practice shares (issue: pharmacy directory)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from dermifi.audit.models import AuditEvent
from dermifi.core.state import AppState
from dermifi.demo import add_pharmacies
from tests.auth.test_login import assert_error
from tests.conftest import ClientFactory
from tests.factories.pharmacies import create_pharmacy, pharmacy_payload
from tests.factories.practices import make_practice
from tests.factories.users import RoleClient

PHARMACY_FIELDS = {"id", "name", "ncpdpId", "npi", "address", "phone", "fax", "gateway",
                   "createdAt", "updatedAt"}


def _fields(response: Any) -> list[str]:
    return [d["field"] for d in response.json()["error"]["details"]]


class TestCreate:
    async def test_shape(self, admin_client: RoleClient) -> None:
        payload = pharmacy_payload()
        response = await admin_client.post("/v1/pharmacies", json=payload)
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == PHARMACY_FIELDS
        assert body["id"].startswith("pharm_")
        assert response.headers["Location"] == f"/v1/pharmacies/{body['id']}"
        assert response.headers["ETag"] == '"v1"'
        for field in ("name", "ncpdpId", "npi", "address", "phone", "fax"):
            assert body[field] == payload[field], field
        assert body["gateway"] == "loopback"

    async def test_phone_and_fax_are_normalised(self, admin_client: RoleClient) -> None:
        body = await create_pharmacy(admin_client, phone="415-555-0160", fax="4155550161")
        assert (body["phone"], body["fax"]) == ("+1 (415) 555-0160", "+1 (415) 555-0161")

    async def test_check_digits_are_checked_and_every_problem_named(
        self, admin_client: RoleClient,
    ) -> None:
        response = await admin_client.post("/v1/pharmacies", json=pharmacy_payload(
            ncpdpId="1234567", npi="1234567890"))
        assert_error(response, 400, "VALIDATION_ERROR")
        assert _fields(response) == ["ncpdpId", "npi"]

    @pytest.mark.parametrize(("field", "value"), [
        ("ncpdpId", "123456"), ("ncpdpId", "12345678"), ("npi", "123"),
        ("phone", "not a phone"), ("fax", "+1 (415) 000-0000"), ("gateway", "webhook"),
        ("name", ""),
    ])
    async def test_bad_fields(self, admin_client: RoleClient, field: str, value: str) -> None:
        response = await admin_client.post("/v1/pharmacies",
                                           json=pharmacy_payload(**{field: value}))
        assert_error(response, 400, "VALIDATION_ERROR")
        assert field in _fields(response)[0]

    @pytest.mark.parametrize("missing", ["name", "ncpdpId", "npi", "address", "phone", "fax"])
    async def test_required(self, admin_client: RoleClient, missing: str) -> None:
        body = pharmacy_payload()
        del body[missing]
        assert_error(await admin_client.post("/v1/pharmacies", json=body), 400,
                     "VALIDATION_ERROR")

    async def test_unknown_fields_are_refused(self, admin_client: RoleClient) -> None:
        response = await admin_client.post("/v1/pharmacies",
                                           json=pharmacy_payload(addedByPracticeId="prc_x"))
        assert_error(response, 400, "VALIDATION_ERROR")

    async def test_one_entry_per_ncpdp_id_across_practices(
        self, admin_client: RoleClient, client_for: ClientFactory, state: AppState,
    ) -> None:
        await create_pharmacy(admin_client)
        other = await make_practice(state, name="Other Practice")
        other_admin = await client_for("admin", practice_id=other.id)
        response = await other_admin.post("/v1/pharmacies",
                                          json=pharmacy_payload(name="Another name"))
        assert_error(response, 409, "CONFLICT")
        assert _fields(response) == ["ncpdpId"]

    @pytest.mark.parametrize("role", ["provider", "nurse", "front_desk", "pharmacy"])
    async def test_admins_only(self, client_for: ClientFactory, role: str) -> None:
        client = await client_for(role)
        assert_error(await client.post("/v1/pharmacies", json=pharmacy_payload()), 403,
                     "FORBIDDEN")

    async def test_audited(self, admin_client: RoleClient, state: AppState) -> None:
        body = await create_pharmacy(admin_client)
        async with state.sessionmaker() as session:
            event = await session.scalar(select(AuditEvent).where(
                AuditEvent.action == "pharmacy.create"))
        assert event is not None
        assert (event.resource_id, event.actor_id) == (body["id"], admin_client.user_id)


class TestReadAndSearch:
    async def test_every_practice_sees_the_directory(
        self, admin_client: RoleClient, client_for: ClientFactory, state: AppState,
    ) -> None:
        created = await create_pharmacy(admin_client)
        other = await make_practice(state, name="Other Practice")
        other_nurse = await client_for("nurse", practice_id=other.id)
        response = await other_nurse.get(f"/v1/pharmacies/{created['id']}")
        assert response.status_code == 200
        assert response.json() == created
        listed = (await other_nurse.get("/v1/pharmacies")).json()
        assert listed == {"pharmacies": [created], "total": 1}

    @pytest.mark.parametrize("role", ["admin", "provider", "nurse", "front_desk"])
    async def test_staff_read(self, admin_client: RoleClient, client_for: ClientFactory,
                              role: str) -> None:
        created = await create_pharmacy(admin_client)
        client = await client_for(role)
        assert (await client.get(f"/v1/pharmacies/{created['id']}")).status_code == 200

    async def test_the_pharmacy_role_does_not_browse_the_directory(
        self, admin_client: RoleClient, pharmacy_client: RoleClient,
    ) -> None:
        created = await create_pharmacy(admin_client)
        assert_error(await pharmacy_client.get("/v1/pharmacies"), 403, "FORBIDDEN")
        assert_error(await pharmacy_client.get(f"/v1/pharmacies/{created['id']}"), 403,
                     "FORBIDDEN")

    async def test_search_by_name_word_prefix_any_case(self, admin_client: RoleClient) -> None:
        for index in range(3):
            await create_pharmacy(admin_client, index)

        async def names(**params: str) -> list[str]:
            response = await admin_client.get("/v1/pharmacies", params=params)
            assert response.status_code == 200, response.text
            return [p["name"] for p in response.json()["pharmacies"]]

        assert await names() == ["CVS Pharmacy", "Mission Apothecary", "Walgreens Market Street"]
        assert await names(search="cvs") == ["CVS Pharmacy"]
        assert await names(search="MARKET") == ["Walgreens Market Street"]
        assert await names(search="pharm") == ["CVS Pharmacy"]
        assert await names(search="armacy") == []  # a prefix, not a substring
        assert await names(search="%") == []  # wildcards are literal
        assert await names(search="_") == []
        assert await names(zipCode="94110") == ["Mission Apothecary"]
        assert await names(ncpdpId="7654329") == ["Walgreens Market Street"]
        assert await names(search="m", zipCode="94103") == ["Walgreens Market Street"]

    async def test_pages(self, admin_client: RoleClient) -> None:
        for index in range(3):
            await create_pharmacy(admin_client, index)
        page = (await admin_client.get("/v1/pharmacies", params={"limit": 2, "page": 2})).json()
        assert page["total"] == 3
        assert [p["name"] for p in page["pharmacies"]] == ["Walgreens Market Street"]

    @pytest.mark.parametrize("params", [{"zipCode": "941"}, {"ncpdpId": "12"},
                                        {"search": ""}, {"limit": 0}])
    async def test_bad_filters(self, admin_client: RoleClient, params: dict[str, str]) -> None:
        assert_error(await admin_client.get("/v1/pharmacies", params=params), 400,
                     "VALIDATION_ERROR")

    async def test_unknown_id(self, admin_client: RoleClient) -> None:
        assert_error(await admin_client.get("/v1/pharmacies/pharm_nope"), 404, "NOT_FOUND")


class TestUpdate:
    async def test_contact_details(self, admin_client: RoleClient) -> None:
        created = await create_pharmacy(admin_client)
        response = await admin_client.patch(
            f"/v1/pharmacies/{created['id']}", headers={"If-Match": '"v1"'},
            json={"phone": "+1 (415) 555-0170", "address": {
                "street": "9 Pine St", "city": "San Francisco", "state": "CA",
                "zipCode": "94111"}})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["phone"] == "+1 (415) 555-0170"
        assert body["address"]["zipCode"] == "94111"
        assert body["ncpdpId"] == created["ncpdpId"]
        assert response.headers["ETag"] == '"v2"'
        # The filter follows the new address.
        found = (await admin_client.get("/v1/pharmacies", params={"zipCode": "94111"})).json()
        assert found["total"] == 1

    @pytest.mark.parametrize("field", ["ncpdpId", "npi", "gateway", "id"])
    async def test_identity_and_gateway_do_not_change(self, admin_client: RoleClient,
                                                      field: str) -> None:
        created = await create_pharmacy(admin_client)
        response = await admin_client.patch(f"/v1/pharmacies/{created['id']}",
                                            json={field: "7654329"})
        assert_error(response, 400, "VALIDATION_ERROR")

    async def test_a_stale_version_is_refused(self, admin_client: RoleClient) -> None:
        created = await create_pharmacy(admin_client)
        url = f"/v1/pharmacies/{created['id']}"
        assert (await admin_client.patch(url, json={"name": "CVS"})).status_code == 200
        assert_error(await admin_client.patch(url, headers={"If-Match": '"v1"'},
                                              json={"name": "Other"}), 412,
                     "PRECONDITION_FAILED")

    async def test_only_the_practice_that_added_it(
        self, admin_client: RoleClient, client_for: ClientFactory, state: AppState,
    ) -> None:
        created = await create_pharmacy(admin_client)
        other = await make_practice(state, name="Other Practice")
        other_admin = await client_for("admin", practice_id=other.id)
        url = f"/v1/pharmacies/{created['id']}"
        assert_error(await other_admin.patch(url, json={"fax": "+1 (415) 555-0199"}), 403,
                     "FORBIDDEN")
        assert (await admin_client.get(url)).json()["fax"] == created["fax"]

    async def test_entries_of_the_operator_are_nobodys_to_change(
        self, admin_client: RoleClient, state: AppState,
    ) -> None:
        async with state.sessionmaker() as session:
            assert len(await add_pharmacies(session)) == 2
        async with state.sessionmaker() as session:
            assert await add_pharmacies(session) == []  # idempotent
        listed = (await admin_client.get("/v1/pharmacies")).json()["pharmacies"]
        assert len(listed) == 2
        assert_error(await admin_client.patch(f"/v1/pharmacies/{listed[0]['id']}",
                                              json={"name": "Mine now"}), 403, "FORBIDDEN")

    @pytest.mark.parametrize("role", ["provider", "nurse", "front_desk"])
    async def test_admins_only(self, admin_client: RoleClient, client_for: ClientFactory,
                               role: str) -> None:
        created = await create_pharmacy(admin_client)
        client = await client_for(role)
        assert_error(await client.patch(f"/v1/pharmacies/{created['id']}",
                                        json={"name": "X"}), 403, "FORBIDDEN")

    async def test_audited_with_field_names(self, admin_client: RoleClient,
                                            state: AppState) -> None:
        created = await create_pharmacy(admin_client)
        await admin_client.patch(f"/v1/pharmacies/{created['id']}",
                                 json={"fax": "+1 (415) 555-0199", "name": "CVS"})
        async with state.sessionmaker() as session:
            event = await session.scalar(select(AuditEvent).where(
                AuditEvent.action == "pharmacy.update"))
        assert event is not None
        assert event.details == {"fields": ["fax", "name"]}
