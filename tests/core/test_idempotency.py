"""``Idempotency-Key`` (core.idempotency, bound by auth.idempotency), on both backends.

POST /v1/patients carries the general rules here; the photo upload (multipart, concurrency)
and the booking have their own files beside their routes' tests."""

from __future__ import annotations

import asyncio
import json
import secrets
import string
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select

from dermifi.audit.models import AuditEvent
from dermifi.auth.dependencies import CurrentUser
from dermifi.auth.idempotency import idempotent
from dermifi.auth.permissions import Role
from dermifi.core import idempotency
from dermifi.core.clock import FrozenClock
from dermifi.core.idempotency import IdempotencyKey
from dermifi.core.state import AppState
from dermifi.patients import service as patient_service
from dermifi.patients.models import Patient
from dermifi.practices.models import Practice
from tests.auth.test_login import assert_error
from tests.factories.patients import patient_payload
from tests.factories.practices import make_practice
from tests.factories.users import RoleClient, login_client, make_user

KEY = "3f0c2a6e-6d1b-4a57-9d0e-6b1f2c8a9e11"
REPLAYED = "Idempotent-Replayed"


def new_patient(**overrides: Any) -> dict[str, Any]:
    """A patient of their own: the same name and date of birth twice is a duplicate (409)."""
    suffix = "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))
    return patient_payload(lastName=f"Smith-{suffix}", **overrides)


def another(body: dict[str, Any]) -> dict[str, Any]:
    """Another person than ``body``: a different name and email."""
    return {**body, "firstName": "Janet", "email": f"janet.{secrets.token_hex(3)}@email.com"}


async def register(client: httpx.AsyncClient, body: dict[str, Any], key: str | None = KEY
                   ) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return await client.post("/v1/patients", json=body, headers=headers)


async def count(state: AppState, model: type[Any]) -> int:
    async with state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def key_rows(state: AppState) -> list[IdempotencyKey]:
    async with state.sessionmaker() as session:
        return list(await session.scalars(select(IdempotencyKey).order_by(
            IdempotencyKey.created_at, IdempotencyKey.id)))


def assert_key_conflict(response: httpx.Response, message: str) -> None:
    error = assert_error(response, 409, "CONFLICT")
    assert error["message"] == message
    assert [d["field"] for d in error["details"]] == ["Idempotency-Key"]  # type: ignore[attr-defined]


# --- replay --------------------------------------------------------------------------------

async def test_a_retry_replays_the_first_answer_and_creates_nothing(
    front_desk_client: RoleClient, state: AppState,
) -> None:
    body = new_patient()
    first = await register(front_desk_client, body)
    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers

    retry = await register(front_desk_client, body)
    assert retry.status_code == 201
    assert retry.content == first.content
    assert retry.json()["id"] == first.json()["id"]
    for header in ("Content-Type", "Location", "ETag"):
        assert retry.headers[header] == first.headers[header]
    assert retry.headers[REPLAYED] == "true"
    assert retry.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert retry.headers["Cache-Control"] == "no-store"
    assert await count(state, Patient) == 1
    (row,) = await key_rows(state)
    assert (row.state, row.route, row.user_id) == (
        "completed", "POST /v1/patients", front_desk_client.user_id)


async def test_a_replay_is_audited_by_route_only(front_desk_client: RoleClient,
                                                 state: AppState) -> None:
    body = new_patient()
    await register(front_desk_client, body)
    await register(front_desk_client, body)
    async with state.sessionmaker() as session:
        events = list(await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "idempotency.replay")))
    assert len(events) == 1
    (event,) = events
    assert event.actor_id == front_desk_client.user_id
    assert event.practice_id == front_desk_client.practice_id
    assert event.details == {"route": "POST /v1/patients"}
    assert KEY not in json.dumps(event.details)


async def test_whitespace_and_key_order_do_not_make_another_request(
    front_desk_client: RoleClient, state: AppState,
) -> None:
    body = new_patient()
    first = await register(front_desk_client, body)
    assert first.status_code == 201
    reordered = dict(reversed(list(body.items())))
    reordered["address"] = dict(reversed(list(body["address"].items())))
    retry = await front_desk_client.post(
        "/v1/patients", content=json.dumps(reordered, indent=4).encode(),
        headers={"Idempotency-Key": KEY, "Content-Type": "application/json"})
    assert retry.status_code == 201, retry.text
    assert retry.headers[REPLAYED] == "true"
    assert retry.json()["id"] == first.json()["id"]
    assert await count(state, Patient) == 1


async def test_without_the_header_nothing_changes(front_desk_client: RoleClient,
                                                  state: AppState) -> None:
    first = await register(front_desk_client, new_patient(), key=None)
    second = await register(front_desk_client, new_patient(), key=None)
    assert (first.status_code, second.status_code) == (201, 201)
    assert REPLAYED not in second.headers
    assert await count(state, Patient) == 2
    assert await key_rows(state) == []


# --- conflicts -----------------------------------------------------------------------------

async def test_the_same_key_with_another_body_is_a_conflict(front_desk_client: RoleClient,
                                                            state: AppState) -> None:
    body = new_patient()
    assert (await register(front_desk_client, body)).status_code == 201
    other = await register(front_desk_client, another(body))
    assert_key_conflict(other, "Idempotency-Key was already used with a different request")
    assert await count(state, Patient) == 1
    # The first answer is still there for a true retry.
    assert (await register(front_desk_client, body)).headers[REPLAYED] == "true"


async def test_an_in_flight_key_is_a_conflict_until_the_first_answers(
    front_desk_client: RoleClient, state: AppState, monkeypatch: pytest.MonkeyPatch,
) -> None:
    started, go = asyncio.Event(), asyncio.Event()
    create = patient_service.create_patient

    async def slow_create(*args: Any, **kwargs: Any) -> Patient:
        started.set()
        await go.wait()
        return await create(*args, **kwargs)

    monkeypatch.setattr(patient_service, "create_patient", slow_create)
    body = new_patient()
    first = asyncio.create_task(register(front_desk_client, body))
    await asyncio.wait_for(started.wait(), 10)
    (row,) = await key_rows(state)
    assert row.state == "in_flight"  # committed before the handler runs

    meanwhile = await register(front_desk_client, body)
    assert_key_conflict(meanwhile,
                        "The first request with this Idempotency-Key is still being processed")
    go.set()
    done = await asyncio.wait_for(first, 10)
    assert done.status_code == 201, done.text
    retry = await register(front_desk_client, body)
    assert (retry.status_code, retry.headers[REPLAYED]) == (201, "true")
    assert await count(state, Patient) == 1


async def test_an_answer_that_could_not_be_kept_never_runs_the_create_again(
    front_desk_client: RoleClient, state: AppState, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As a crash between the handler's commit and storing its answer: the claim stays.
    async def lost(*_: Any) -> None:
        raise ConnectionError("database went away")

    monkeypatch.setattr(idempotency.Claim, "complete", lost)
    body = new_patient()
    first = await register(front_desk_client, body)
    assert first.status_code == 201, first.text  # the patient exists: the client is told
    monkeypatch.undo()
    retry = await register(front_desk_client, body)
    assert_key_conflict(retry,
                        "The first request with this Idempotency-Key is still being processed")
    assert await count(state, Patient) == 1


# --- scope ---------------------------------------------------------------------------------

async def test_a_key_belongs_to_one_user(front_desk_client: RoleClient, admin_client: RoleClient,
                                         state: AppState) -> None:
    assert (await register(front_desk_client, new_patient())).status_code == 201
    # Another user of the practice, same key, another patient: no conflict, no replay.
    other = await register(admin_client, new_patient())
    assert other.status_code == 201, other.text
    assert REPLAYED not in other.headers
    assert await count(state, Patient) == 2


async def test_a_key_belongs_to_one_practice(app: FastAPI, front_desk_client: RoleClient,
                                             state: AppState) -> None:
    body = new_patient()
    first = await register(front_desk_client, body)
    assert first.status_code == 201
    elsewhere = await make_practice(state, name="Elsewhere Dermatology")
    stranger = await login_client(app, state, await make_user(
        state, practice_id=elsewhere.id, role=Role.FRONT_DESK))
    # The same key and the very same body: a fresh patient of the other practice.
    theirs = await register(stranger, body)
    await stranger.aclose()
    assert theirs.status_code == 201, theirs.text
    assert REPLAYED not in theirs.headers
    assert theirs.json()["id"] != first.json()["id"]
    assert await count(state, Patient) == 2
    assert {row.practice_id for row in await key_rows(state)} == {
        front_desk_client.practice_id, elsewhere.id}


# --- the header ----------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["", "x" * 256, "two words", b"caf\xc3\xa9", "tab\there"],
                         ids=["empty", "256-characters", "space", "non-ascii", "tab"])
async def test_a_malformed_key_is_refused(front_desk_client: RoleClient, state: AppState,
                                          key: str | bytes) -> None:
    response = await front_desk_client.post("/v1/patients", json=new_patient(),
                                            headers={"Idempotency-Key": key})
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == ["Idempotency-Key"]  # type: ignore[attr-defined]
    assert await count(state, Patient) == 0
    assert await key_rows(state) == []


async def test_a_key_of_255_visible_characters_is_accepted(front_desk_client: RoleClient) -> None:
    key = (string.ascii_letters + string.digits + string.punctuation) * 3
    key = key[:255]
    body = new_patient()
    assert (await register(front_desk_client, body, key=key)).status_code == 201
    assert (await register(front_desk_client, body, key=key)).headers[REPLAYED] == "true"


def test_the_routes_document_the_optional_header(app: FastAPI) -> None:
    paths = app.openapi()["paths"]

    def header(path: str, method: str = "post") -> dict[str, Any] | None:
        for parameter in paths[path][method].get("parameters", []):
            if parameter["in"] == "header" and parameter["name"] == "Idempotency-Key":
                return dict(parameter)
        return None

    for path in ("/v1/patients", "/v1/appointments", "/v1/patients/{patient_id}/photos"):
        documented = header(path)
        assert documented is not None, path
        assert documented["required"] is False
        assert "24 hours" in documented["description"]
        assert documented["schema"]["anyOf"][0]["maxLength"] == 255
    assert header("/v1/locations") is None


# --- failures release the key --------------------------------------------------------------

async def test_a_refused_first_request_leaves_the_key_free(front_desk_client: RoleClient,
                                                           state: AppState,
                                                           clock: FrozenClock) -> None:
    body = new_patient()
    # Refused by the schema (never claimed) and by the service (claimed, then released).
    missing = await register(front_desk_client, {k: v for k, v in body.items()
                                                 if k != "firstName"})
    assert_error(missing, 400, "VALIDATION_ERROR")
    future = await register(front_desk_client, {
        **body, "dateOfBirth": (clock.now() + timedelta(days=2)).date().isoformat()})
    assert_error(future, 400, "VALIDATION_ERROR")
    assert await key_rows(state) == []

    fixed = await register(front_desk_client, body)
    assert fixed.status_code == 201, fixed.text
    assert REPLAYED not in fixed.headers
    assert await count(state, Patient) == 1


async def test_a_conflicting_first_request_leaves_the_key_free(front_desk_client: RoleClient,
                                                               state: AppState) -> None:
    body = new_patient()
    assert (await register(front_desk_client, body, key="first")).status_code == 201
    duplicate = await register(front_desk_client, body, key="second")
    assert_error(duplicate, 409, "CONFLICT")  # the same patient again
    assert [row.key for row in await key_rows(state)] == ["first"]
    corrected = await register(front_desk_client, another(body), key="second")
    assert corrected.status_code == 201, corrected.text
    assert await count(state, Patient) == 2


# --- expiry --------------------------------------------------------------------------------

async def test_a_key_is_kept_24_hours(app: FastAPI, state: AppState, practice: Practice,
                                      clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
                                      ) -> None:
    # No purge of other expired keys: the claim itself must treat its expired row as absent.
    monkeypatch.setattr(idempotency, "PURGE_BATCH", 0)
    created = await make_user(state, practice_id=practice.id, role=Role.FRONT_DESK)
    body = new_patient()
    client = await login_client(app, state, created)
    assert (await register(client, body)).status_code == 201

    clock.advance(hours=23, minutes=59)  # access tokens last an hour: log in again
    await client.aclose()
    client = await login_client(app, state, created)
    kept = await register(client, another(body))
    assert_key_conflict(kept, "Idempotency-Key was already used with a different request")
    assert (await register(client, body)).headers[REPLAYED] == "true"

    clock.advance(minutes=1)  # 24 hours after the first request: gone
    await client.aclose()
    client = await login_client(app, state, created)
    reused = await register(client, another(body))
    await client.aclose()
    assert reused.status_code == 201, reused.text
    assert REPLAYED not in reused.headers
    assert await count(state, Patient) == 2
    (row,) = await key_rows(state)  # the expired row was replaced, not kept beside
    assert row.created_at == clock.now()


async def test_claiming_a_key_purges_expired_ones(front_desk_client: RoleClient, app: FastAPI,
                                                  state: AppState, clock: FrozenClock) -> None:
    for key in ("a", "b", "c"):
        assert (await register(front_desk_client, new_patient(), key=key)).status_code == 201
    clock.advance(hours=25)
    other = await login_client(app, state, await make_user(
        state, practice_id=front_desk_client.practice_id, role=Role.FRONT_DESK))
    assert (await register(other, new_patient(), key="d")).status_code == 201
    await other.aclose()
    assert [row.key for row in await key_rows(state)] == ["d"]


# --- any route -----------------------------------------------------------------------------

@pytest.fixture
def echo_route(app: FastAPI) -> str:
    """A route of the test's own: answers the status it is sent, as a Response (not raised)."""

    @idempotent
    async def echo(body: dict[str, int], actor: CurrentUser) -> Response:
        return JSONResponse({"status": body["status"], "nonce": secrets.token_hex(8)},
                            status_code=body["status"])

    app.add_api_route("/v1/_test/echo", echo, methods=["POST"])
    return "/v1/_test/echo"


async def test_only_a_2xx_answer_is_kept(front_desk_client: RoleClient, state: AppState,
                                         echo_route: str) -> None:
    async def send(status: int, key: str) -> httpx.Response:
        return await front_desk_client.post(echo_route, json={"status": status},
                                            headers={"Idempotency-Key": key})

    accepted = await send(202, "kept")
    again = await send(202, "kept")
    assert (again.status_code, again.headers[REPLAYED]) == (202, "true")
    assert again.json() == accepted.json()  # the same nonce: the handler ran once

    refused = await send(422, "released")
    assert refused.status_code == 422
    retried = await send(422, "released")
    assert REPLAYED not in retried.headers
    assert retried.json()["nonce"] != refused.json()["nonce"]  # ran again
    assert [(row.key, row.route) for row in await key_rows(state)] == [
        ("kept", "POST /v1/_test/echo")]
