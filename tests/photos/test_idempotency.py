"""``Idempotency-Key`` on the photo upload: a multipart body, retried and raced."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from dermifi.audit.models import AuditEvent
from dermifi.core.idempotency import IdempotencyKey
from dermifi.core.state import AppState
from dermifi.photos.models import Photo
from tests.auth.test_login import assert_error
from tests.factories.patients import patient_payload
from tests.factories.users import RoleClient
from tests.photos import samples
from tests.photos.conftest import make_chart, stored_files, upload

KEY = "upload-7c1e9b52"
REPLAYED = "Idempotent-Replayed"


async def upload_with_key(client: httpx.AsyncClient, patient_id: str, content: bytes,
                          key: str = KEY, **fields: str | None) -> httpx.Response:
    client.headers["Idempotency-Key"] = key
    try:
        return await upload(client, patient_id, content, **fields)
    finally:
        del client.headers["Idempotency-Key"]


async def photo_count(state: AppState) -> int:
    async with state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Photo)) or 0)


def assert_key_conflict(response: httpx.Response) -> None:
    error = assert_error(response, 409, "CONFLICT")
    assert [d["field"] for d in error["details"]] == ["Idempotency-Key"]  # type: ignore[attr-defined]


async def test_a_retried_upload_is_answered_once(provider_client: RoleClient, chart: str,
                                                 state: AppState) -> None:
    image = samples.jpeg_with_gps(64, 32)
    first = await upload_with_key(provider_client, chart, image)
    assert first.status_code == 201, first.text
    # httpx writes each request with a new multipart boundary: the bytes differ, the
    # request does not.
    retry = await upload_with_key(provider_client, chart, image)
    assert retry.status_code == 201, retry.text
    assert retry.headers[REPLAYED] == "true"
    assert retry.content == first.content
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["Location"] == first.headers["Location"] == first.json()["url"]
    assert await photo_count(state) == 1
    assert len(stored_files(state)) == 2  # one original, one thumbnail
    async with state.sessionmaker() as session:
        details = (await session.scalars(select(AuditEvent.details).where(
            AuditEvent.action == "idempotency.replay"))).all()
    assert details == [{"route": "POST /v1/patients/{patient_id}/photos"}]
    # Reading it back is unaffected.
    assert (await provider_client.get(retry.json()["url"])).status_code == 200


async def test_another_file_field_or_chart_under_the_same_key_is_a_conflict(
    provider_client: RoleClient, chart: str, state: AppState,
) -> None:
    image = samples.jpeg_with_gps(64, 32)
    assert (await upload_with_key(provider_client, chart, image)).status_code == 201
    assert_key_conflict(await upload_with_key(provider_client, chart, samples.png()))
    assert_key_conflict(await upload_with_key(provider_client, chart, image,
                                              bodyPart="right_forearm"))
    other_chart = await make_chart(provider_client)
    assert_key_conflict(await upload_with_key(provider_client, other_chart, image))
    assert await photo_count(state) == 1


async def test_the_key_is_per_route(provider_client: RoleClient, state: AppState) -> None:
    # The chart was created with the key; the upload with the same key is another route.
    response = await provider_client.post("/v1/patients", headers={"Idempotency-Key": KEY},
                                          json=patient_payload())
    assert response.status_code == 201, response.text
    uploaded = await upload_with_key(provider_client, response.json()["id"], samples.png())
    assert uploaded.status_code == 201, uploaded.text
    assert REPLAYED not in uploaded.headers
    async with state.sessionmaker() as session:
        routes = sorted((await session.scalars(select(IdempotencyKey.route))).all())
    assert routes == ["POST /v1/patients", "POST /v1/patients/{patient_id}/photos"]


async def test_a_refused_upload_leaves_the_key_free(provider_client: RoleClient, chart: str,
                                                    state: AppState) -> None:
    refused = await upload_with_key(provider_client, chart, b"not an image at all")
    assert_error(refused, 415, "UNSUPPORTED_MEDIA_TYPE")
    fixed = await upload_with_key(provider_client, chart, samples.png())
    assert fixed.status_code == 201, fixed.text
    assert REPLAYED not in fixed.headers
    assert await photo_count(state) == 1


async def test_concurrent_uploads_with_one_key_make_one_photo(
    provider_client: RoleClient, chart: str, state: AppState,
) -> None:
    image = samples.jpeg_with_gps(800, 600)
    headers = {"Idempotency-Key": KEY}

    async def one() -> httpx.Response:
        return await provider_client.post(
            f"/v1/patients/{chart}/photos", headers=headers,
            files=[("type", (None, "lesion")), ("bodyPart", (None, "left_forearm")),
                   ("photo", ("photo.jpg", image, "image/jpeg"))])

    answers = await asyncio.gather(*(one() for _ in range(5)))
    created = [a for a in answers if a.status_code == 201]
    assert created, [a.text for a in answers]
    assert len({a.json()["id"] for a in created}) == 1
    for answer in answers:
        if answer.status_code != 201:
            assert_key_conflict(answer)
    assert await photo_count(state) == 1
    assert len(stored_files(state)) == 2
    # Once the first has answered, a retry is its replay.
    retry = await one()
    assert (retry.status_code, retry.json()["id"]) == (201, created[0].json()["id"])
    assert retry.headers[REPLAYED] == "true"
