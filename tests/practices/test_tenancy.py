"""Nothing of one practice is visible or changeable from another (contract, section Practices)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select, update

from dermifi.auth.permissions import Role
from dermifi.core.db import scope_to_practice, unit_of_work
from dermifi.core.ids import new_id
from dermifi.core.state import AppState
from dermifi.practices.models import Practice
from dermifi.providers.schemas import WEEKDAYS
from dermifi.users.models import User
from tests.factories.locations import location_payload
from tests.factories.patients import patient_payload
from tests.factories.practices import make_practice
from tests.factories.providers import create_provider
from tests.factories.users import RoleClient, login_client, make_user

PATH_PARAM = re.compile(r"{(\w+)}")


@pytest.fixture
async def two_practices(app: FastAPI, state: AppState, practice: Practice
                        ) -> tuple[dict[str, list[str]], RoleClient, RoleClient]:
    """Practice A with a user of every role and activity in its audit trail; practice B's admin."""
    a_ids: dict[str, list[str]] = {"user": [], "email": []}
    a_clients = []
    for role in Role:
        created = await make_user(state, practice_id=practice.id, role=role)
        a_ids["user"].append(created.user.id)
        a_ids["email"].append(created.user.email)
        a_clients.append(await login_client(app, state, created))
    a_admin = a_clients[0]
    other = await make_practice(state, name="Other Practice")
    b_admin = await login_client(app, state,
                                 await make_user(state, practice_id=other.id, role=Role.ADMIN))
    a_ids["practice"] = [practice.id]
    # A chart with a signed note in practice A.
    created = await a_clients[1].post("/v1/patients", json=patient_payload())
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]
    a_ids["patient"] = [patient_id]
    note = await a_clients[1].post(f"/v1/patients/{patient_id}/notes", json={
        "type": "progress_note", "content": {"chiefComplaint": "Rash"},
        "icd10Codes": ["L30.9"]})
    assert note.status_code == 201, note.text
    a_ids["note"] = [note.json()["id"]]
    # And a photo on that chart.
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, "PNG")
    photo = await a_clients[1].post(
        f"/v1/patients/{patient_id}/photos", data={"type": "lesion", "bodyPart": "back"},
        files={"photo": ("lesion.png", png.getvalue(), "image/png")})
    assert photo.status_code == 201, photo.text
    a_ids["photo"] = [photo.json()["id"]]
    # A location and a verified provider working there (in the default directory listing).
    location = await a_admin.post("/v1/locations", json=location_payload("SF"))
    assert location.status_code == 201, location.text
    a_ids["location"] = [location.json()["id"]]
    provider = await create_provider(a_admin, verify=True, locations=["SF"])
    a_ids["provider"] = [provider["id"], provider["npiNumber"]]
    # An appointment with that provider tomorrow (front desk: a_clients[3]).
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    hours = await a_admin.put(f"/v1/providers/{provider['id']}/working-hours", json={
        "workingHours": [{"dayOfWeek": WEEKDAYS[tomorrow.weekday()], "location": "SF",
                          "start": "09:00", "end": "17:00"}]})
    assert hours.status_code == 200, hours.text
    appointment = await a_clients[3].post("/v1/appointments", json={
        "patientId": patient_id, "providerId": provider["id"], "type": "consultation",
        "start": f"{tomorrow.isoformat()}T10:00:00-08:00"})
    assert appointment.status_code == 201, appointment.text
    a_ids["appointment"] = [appointment.json()["id"]]
    for client in a_clients[1:]:
        await client.aclose()
    return a_ids, a_admin, b_admin


# The contract's one shared thing: the pharmacy directory, which every practice reads (its
# own tests: tests/pharmacies/test_router.py, TestReadAndSearch).
SHARED_BY_CONTRACT = frozenset({"/v1/pharmacies/{pharmacy_id}"})


async def test_no_endpoint_shows_another_practices_data(
    app: FastAPI, two_practices: tuple[dict[str, list[str]], RoleClient, RoleClient],
) -> None:
    a_ids, a_admin, b_admin = two_practices
    schema = app.openapi()
    secrets_of_a = [v for values in a_ids.values() for v in values]
    checked = 0
    for path, operations in schema["paths"].items():
        if "get" not in operations:
            continue
        params = PATH_PARAM.findall(path)
        if path in SHARED_BY_CONTRACT:
            continue
        # Every id-addressed read must be listed here with practice A's ids of that kind,
        # so a new endpoint cannot skip this test.
        ids_for = {"user_id": a_ids["user"], "patient_id": a_ids["patient"],
                   "photo_id": a_ids["photo"], "provider_id": a_ids["provider"][:1],
                   "location_id": a_ids["location"], "appointment_id": a_ids["appointment"]}
        # Reads that need a query parameter to answer 200 for their own practice.
        query = {"/v1/providers/{provider_id}/schedule": "?date=2030-01-14"}.get(path, "")
        missing = [p for p in params if p not in ids_for]
        assert not missing, f"add {path} to the tenancy test ({missing})"
        if params:
            for value in ids_for[params[0]]:
                url = path.replace(f"{{{params[0]}}}", value) + query
                response = await b_admin.get(url)
                assert response.status_code == 404, (path, response.text)
                # The control: practice A's admin reaches the same URL.
                own = await a_admin.get(url)
                assert own.status_code == 200, (path, own.text)
        else:
            response = await b_admin.get(path)
            assert response.status_code == 200, (path, response.text)
            leaked = [s for s in secrets_of_a if s in response.text]
            assert not leaked, f"{path} shows practice A's data to practice B: {leaked}"
            # The control: practice A's own admin does see its data where there is any.
            if path in ("/v1/users", "/v1/audit-events", "/v1/patients", "/v1/providers",
                        "/v1/locations", "/v1/appointments"):
                own = await a_admin.get(path)
                assert any(s in own.text for s in secrets_of_a), path
        checked += 1
    assert checked >= 3


async def test_scoped_session_reads_and_writes_only_its_practice(
    state: AppState, practice: Practice,
) -> None:
    other = await make_practice(state, name="Other Practice")
    mine = await make_user(state, practice_id=practice.id)
    theirs = await make_user(state, practice_id=other.id)
    async with state.sessionmaker() as session:
        scope_to_practice(session, practice.id)
        users = (await session.scalars(select(User))).all()
        assert [u.id for u in users] == [mine.user.id]
        assert await session.get(User, theirs.user.id) is None
        async with unit_of_work(session):
            result = await session.execute(update(User).values(first_name="Changed"))
        assert getattr(result, "rowcount", None) == 1
    async with state.sessionmaker() as session:
        untouched = await session.get(User, theirs.user.id)
        assert untouched is not None
        assert untouched.first_name == "Emily"


async def test_scoped_session_refuses_to_write_into_another_practice(
    state: AppState, practice: Practice,
) -> None:
    other = await make_practice(state, name="Other Practice")
    now = state.clock.now()
    async with state.sessionmaker() as session:
        scope_to_practice(session, practice.id)
        with pytest.raises(PermissionError):
            async with unit_of_work(session):
                session.add(User(id=new_id("usr"), practice_id=other.id, email="x@y.example.org",
                                 password_hash="x", role="nurse", is_active=True,
                                 created_at=now, updated_at=now))
        async with unit_of_work(session):
            stamped = User(id=new_id("usr"), email="z@y.example.org", password_hash="x",
                           role="nurse", is_active=True, created_at=now, updated_at=now)
            session.add(stamped)
        assert stamped.practice_id == practice.id
