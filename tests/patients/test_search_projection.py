"""The search table and the per-status counts stay equal to what the patient rows say, and
lists answer what a brute-force query over the patient rows answers (on both backends)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
from sqlalchemy import and_, func, or_, select

from dermifi.core.state import AppState
from dermifi.patients.models import Patient, PatientCount, PatientSearch
from dermifi.practices.models import Practice
from tests.conftest import ClientFactory
from tests.factories.patients import patient_payload
from tests.factories.users import RoleClient

PEOPLE = [
    # first, last, email, phone
    ("John", "Doe", "john.doe@email.com", "+1 (415) 555-0101"),
    ("Johnny", "Appleseed", "ja@email.com", "+1 (212) 555-0102"),
    ("Mary", "Johnson", "MJ@Email.com", "+1 (312) 555-0103"),
    ("Zoe", "Doe", "zoe@email.com", "+1 (415) 555-0104"),
    ("Amy", "Lee", "amy@johns.org", "+1 (646) 555-0105"),
    ("Ana", "de la Cruz", None, "+1 (415) 555-0106"),
    ("José", "Núñez", "jose.nunez@email.com", None),
    ("ÉMILE", "Zola", "ez@email.com", "+1 (212) 555-0107"),
    ("Mary Ann", "Rivera", "maryann@rivera.net", "+1 (415) 555-0108"),
    ("Ann", "Rivera", "ann_r@email.com", "+1 (415) 555-0109"),
    ("Ann", "Rivera", "ann.r.2@email.com", "+1 (415) 555-0110"),
    ("Percy", "O'Neil", "100%@email.com", "+1 (646) 555-0111"),
]

SEARCHES = ["john", "JOHN DOE", "doe", "Rivera", "ann", "ann riv", "(415) 555", "4155550104",
            "555", "zoe@email", "email.com", "100%", "_", "o", "an", "jo", "núñez", "émile",
            "Émile", "'", "o'n", "de la", "x", "riv ann ary"]


async def create(client: httpx.AsyncClient, first: str, last: str, email: str | None,
                 phone: str | None, dob: str = "1990-03-21") -> dict[str, Any]:
    response = await client.post("/v1/patients", json=patient_payload(
        firstName=first, lastName=last, email=email, phone=phone, dateOfBirth=dob))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def seed(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return [await create(client, first, last, email, phone, dob=f"1980-01-{i + 1:02d}")
            for i, (first, last, email, phone) in enumerate(PEOPLE)]


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def reference_condition(search: str) -> Any:
    """The search as it was written over the patient table before the search table: the
    oracle the new implementation must agree with."""
    digits = re.sub(r"\D", "", search)
    if digits and re.fullmatch(r"[\d\s()+.\-]+", search):
        return Patient.phone_digits.like(_like(digits), escape="\\")
    return and_(*[or_(Patient.first_name.ilike(_like(w), escape="\\"),
                      Patient.last_name.ilike(_like(w), escape="\\"),
                      Patient.email_key.like(_like(w), escape="\\"))
                  for w in search.lower().split()])


SORT = {"lastName": Patient.last_name, "firstName": Patient.first_name,
        "createdAt": Patient.created_at}


async def reference_ids(state: AppState, practice_id: str, *, search: str | None = None,
                        status: str | None = None, sort_by: str = "lastName",
                        order: str = "asc") -> list[str]:
    stmt = select(Patient.id).where(Patient.practice_id == practice_id)
    if search:
        stmt = stmt.where(reference_condition(search))
    if status:
        stmt = stmt.where(Patient.status == status)
    keys = (SORT[sort_by], Patient.id)
    stmt = stmt.order_by(*(k.desc() if order == "desc" else k.asc() for k in keys))
    async with state.sessionmaker() as session:
        return list((await session.scalars(stmt)).all())


async def listed(client: httpx.AsyncClient, **params: Any) -> tuple[list[str], dict[str, Any]]:
    """Every page of a list, and the pagination object of the first."""
    ids: list[str] = []
    first: dict[str, Any] | None = None
    page = 1
    while True:
        response = await client.get("/v1/patients", params={**params, "page": page})
        assert response.status_code == 200, response.text
        body = response.json()
        first = first or body["pagination"]
        assert body["pagination"]["total"] == first["total"]
        ids += [p["id"] for p in body["data"]]
        if not body["pagination"]["hasNext"]:
            return ids, first
        page += 1


async def assert_projection_matches(state: AppState) -> None:
    """Every patient has exactly its search row, and the counts are a GROUP BY."""
    async with state.sessionmaker() as session:
        patients = (await session.scalars(select(Patient))).all()
        rows = {r.id: r for r in (await session.scalars(select(PatientSearch))).all()}
        counts = {(c.practice_id, c.status): c.count
                  for c in (await session.scalars(select(PatientCount))).all()}
        truth = {(p, s): int(n) for p, s, n in (await session.execute(
            select(Patient.practice_id, Patient.status, func.count())
            .group_by(Patient.practice_id, Patient.status))).all()}
    assert set(rows) == {p.id for p in patients}
    for patient in patients:
        row = rows[patient.id]
        assert (row.practice_id, row.status, row.first_name, row.last_name, row.created_at,
                row.phone_digits) == (
            patient.practice_id, patient.status, patient.first_name, patient.last_name,
            patient.created_at, patient.phone_digits)
        parts = (patient.first_name, patient.last_name, patient.email_key or "")
        # SQLite's lower() folds ASCII only; PostgreSQL's folds every letter.
        assert row.terms.casefold() == " ".join(parts).casefold()
    assert {k: v for k, v in counts.items() if v} == truth


class TestUpkeep:
    async def test_create_update_and_deactivate_keep_it_exact(
        self, front_desk_client: RoleClient, state: AppState,
    ) -> None:
        people = await seed(front_desk_client)
        await assert_projection_matches(state)
        john, mary = people[0]["id"], people[2]["id"]
        changed = await front_desk_client.patch(f"/v1/patients/{john}", json={
            "firstName": "Jonathan", "lastName": "Quill", "email": "JQ@Example.org",
            "phone": "+1 (646) 555-0199"})
        assert changed.status_code == 200, changed.text
        cleared = await front_desk_client.patch(f"/v1/patients/{mary}",
                                                json={"email": None, "phone": None})
        assert cleared.status_code == 200, cleared.text
        # A change no search reads leaves the row alone (and must not break it).
        untouched = await front_desk_client.patch(f"/v1/patients/{people[3]['id']}",
                                                  json={"allergies": ["latex"]})
        assert untouched.status_code == 200
        await assert_projection_matches(state)

        assert (await listed(front_desk_client, search="quill"))[0] == [john]
        assert (await listed(front_desk_client, search="jq@example"))[0] == [john]
        assert (await listed(front_desk_client, search="6465550199"))[0] == [john]
        assert (await listed(front_desk_client, search="mj@email"))[0] == []
        assert (await listed(front_desk_client, search="3125550103"))[0] == []

        for patient in people[:4]:
            gone = await front_desk_client.request("DELETE", f"/v1/patients/{patient['id']}")
            assert gone.status_code == 200, gone.text
        await assert_projection_matches(state)
        _, active = await listed(front_desk_client, status="active")
        _, inactive = await listed(front_desk_client, status="inactive")
        _, everyone = await listed(front_desk_client)
        assert (active["total"], inactive["total"], everyone["total"]) == (
            len(PEOPLE) - 4, 4, len(PEOPLE))

    async def test_a_failed_create_counts_nothing(self, front_desk_client: RoleClient,
                                                  state: AppState) -> None:
        await create(front_desk_client, "Ann", "Lee", "same@email.com", None)
        clash = await front_desk_client.post("/v1/patients", json=patient_payload(
            firstName="Other", lastName="Person", email="same@email.com"))
        assert clash.status_code == 409
        await assert_projection_matches(state)
        assert (await listed(front_desk_client))[1]["total"] == 1

    async def test_concurrent_creates_and_deactivations_count_exactly(
        self, front_desk_client: RoleClient, state: AppState,
    ) -> None:
        first = [await create(front_desk_client, f"Early{i}", "Smith", None, None)
                 for i in range(4)]
        responses = await asyncio.gather(
            *[front_desk_client.post("/v1/patients", json=patient_payload(
                firstName=f"Racer{i}", lastName="Smith", email=None)) for i in range(10)],
            *[front_desk_client.request("DELETE", f"/v1/patients/{p['id']}") for p in first])
        assert [r.status_code for r in responses] == [201] * 10 + [200] * 4
        await assert_projection_matches(state)
        _, everyone = await listed(front_desk_client)
        _, active = await listed(front_desk_client, status="active")
        assert (everyone["total"], active["total"]) == (14, 10)


class TestAnswers:
    async def test_searches_agree_with_brute_force(
        self, front_desk_client: RoleClient, state: AppState, practice: Practice,
    ) -> None:
        people = await seed(front_desk_client)
        await front_desk_client.request("DELETE", f"/v1/patients/{people[-2]['id']}")
        found_any = 0
        for search in SEARCHES:
            for sort_by, order, status in (("lastName", "asc", None),
                                           ("firstName", "desc", None),
                                           ("createdAt", "asc", "active"),
                                           ("lastName", "desc", "inactive")):
                params = {"search": search, "sortBy": sort_by, "order": order, "limit": 3,
                          **({"status": status} if status else {})}
                ids, pagination = await listed(front_desk_client, **params)
                expected = await reference_ids(state, practice.id, search=search,
                                               status=status, sort_by=sort_by, order=order)
                assert ids == expected, params
                assert pagination["total"] == len(expected), params
                found_any += bool(expected)
        assert found_any > len(SEARCHES)  # the oracle is not trivially empty

    async def test_unfiltered_lists_agree_with_brute_force(
        self, front_desk_client: RoleClient, state: AppState, practice: Practice,
    ) -> None:
        people = await seed(front_desk_client)
        await front_desk_client.request("DELETE", f"/v1/patients/{people[0]['id']}")
        for sort_by in ("lastName", "firstName", "createdAt"):
            for order in ("asc", "desc"):
                for status in (None, "active", "inactive", "pending"):
                    params = {"sortBy": sort_by, "order": order, "limit": 5,
                              **({"status": status} if status else {})}
                    ids, pagination = await listed(front_desk_client, **params)
                    expected = await reference_ids(state, practice.id, status=status,
                                                   sort_by=sort_by, order=order)
                    assert ids == expected, params
                    assert pagination["total"] == len(expected), params

    async def test_a_page_past_the_end_still_has_the_total(
        self, front_desk_client: RoleClient,
    ) -> None:
        await seed(front_desk_client)
        for params in ({"search": "rivera"}, {"search": "4155550"}, {}):
            response = await front_desk_client.get("/v1/patients", params={
                **params, "page": 50, "limit": 2})
            body = response.json()
            assert body["data"] == []
            full = (await listed(front_desk_client, **params))[1]
            assert body["pagination"]["total"] == full["total"] > 0
            assert body["pagination"]["hasPrevious"] is True
            assert body["pagination"]["hasNext"] is False


class TestTenancy:
    async def test_another_practice_is_never_counted_or_returned(
        self, front_desk_client: RoleClient, client_for: ClientFactory, state: AppState,
    ) -> None:
        from tests.factories.practices import make_practice

        mine = await seed(front_desk_client)
        other = await make_practice(state, name="Other Practice")
        theirs_client = await client_for("front_desk", practice_id=other.id)
        theirs = [await create(theirs_client, first, last, email, phone,
                               dob=f"1970-02-{i + 1:02d}")
                  for i, (first, last, email, phone) in enumerate(PEOPLE[:5])]
        await theirs_client.request("DELETE", f"/v1/patients/{theirs[0]['id']}")
        await assert_projection_matches(state)

        my_ids = {p["id"] for p in mine}
        for params in ({}, {"status": "active"}, {"status": "inactive"}, {"search": "john"},
                       {"search": "doe"}, {"search": "415"}, {"search": "o"}):
            ids, pagination = await listed(front_desk_client, **params)
            assert set(ids) <= my_ids, params
            assert pagination["total"] == len(ids), params
            their_ids, their_pagination = await listed(theirs_client, **params)
            assert set(their_ids) <= {p["id"] for p in theirs}, params
            assert their_pagination["total"] == len(their_ids), params
        assert (await listed(front_desk_client))[1]["total"] == len(PEOPLE)
        assert (await listed(theirs_client))[1]["total"] == 5
        assert (await listed(theirs_client, status="inactive"))[1]["total"] == 1
