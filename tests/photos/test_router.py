"""/v1/patients/{id}/photos and /v1/photos/{id}/content|thumbnail, on both backends."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit.models import AuditEvent
from dermifi.auth.permissions import Role
from dermifi.core.clock import FrozenClock
from dermifi.core.db import unit_of_work
from dermifi.core.state import AppState
from dermifi.photos import service as photo_service
from dermifi.photos.models import Photo
from tests.auth.test_login import assert_error
from tests.conftest import ClientFactory
from tests.factories.practices import make_practice
from tests.factories.users import RoleClient
from tests.photos import samples
from tests.photos.conftest import HookedStorage, delete_chart, make_chart, stored_files, upload

UPLOAD_FIELDS = {"id", "patientId", "url", "thumbnailUrl", "type", "bodyPart", "description",
                 "takenAt", "uploadedAt", "uploadedBy", "metadata"}
LIST_FIELDS = {"id", "url", "thumbnailUrl", "type", "bodyPart", "description", "takenAt",
               "uploadedAt", "uploadedBy"}
MB = 1024 * 1024


async def audit_events(state: AppState, action: str) -> list[AuditEvent]:
    async with state.sessionmaker() as session:
        rows = await session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                     .order_by(AuditEvent.occurred_at, AuditEvent.id))
        return list(rows)


async def photo_rows(state: AppState) -> list[Photo]:
    async with state.sessionmaker() as session:
        return list(await session.scalars(select(Photo)))


# --- upload -------------------------------------------------------------------------------

async def test_upload_answers_the_documented_shape(
    provider_client: RoleClient, chart: str, clock: FrozenClock,
) -> None:
    response = await upload(provider_client, chart, samples.jpeg_with_gps(64, 32))
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == UPLOAD_FIELDS
    assert body["id"].startswith("photo_")
    assert body["patientId"] == chart
    assert body["url"] == f"http://testserver/v1/photos/{body['id']}/content"
    assert body["thumbnailUrl"] == f"http://testserver/v1/photos/{body['id']}/thumbnail"
    assert response.headers["Location"] == body["url"]
    assert body["type"] == "lesion"
    assert body["bodyPart"] == "left_forearm"
    assert body["description"] == "Pigmented lesion, 8mm diameter"
    assert body["takenAt"] == "2024-01-20T11:00:00Z"
    assert body["uploadedAt"] == clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["uploadedBy"] == provider_client.user_id
    metadata = body["metadata"]
    assert set(metadata) == {"dermoscopy", "magnification", "lighting", "fileSize",
                             "dimensions"}
    assert metadata["dermoscopy"] is True
    assert metadata["magnification"] == "10x"
    assert metadata["lighting"] == "polarized"
    assert metadata["dimensions"] == "32x64"  # upright: orientation 6 applied
    assert re.fullmatch(r"\d+(\.\d)?(MB|KB|B)", metadata["fileSize"])


@pytest.mark.parametrize("absent", [None, ""], ids=["left-out", "empty"])
async def test_optional_fields_default(nurse_client: RoleClient, chart: str,
                                       clock: FrozenClock, absent: str | None) -> None:
    # An empty optional field counts as not sent, as browsers send every input of a form.
    response = await upload(nurse_client, chart, samples.png(), description=absent,
                            takenAt=absent, metadata=absent)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["description"] is None
    assert body["takenAt"] == body["uploadedAt"] == clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert set(body["metadata"]) == {"fileSize", "dimensions"}
    assert body["metadata"]["dimensions"] == "64x32"


async def test_content_is_the_clean_upright_image_and_thumbnail_a_smaller_jpeg(
    provider_client: RoleClient, chart: str, state: AppState,
) -> None:
    created = (await upload(provider_client, chart, samples.jpeg_with_gps(800, 600))).json()

    content = await provider_client.get(created["url"])
    assert content.status_code == 200
    assert content.headers["content-type"] == "image/jpeg"
    assert content.headers["cache-control"] == "no-store"
    assert content.headers["x-content-type-options"] == "nosniff"
    image = samples.open_image(content.content)
    assert image.size == (600, 800)
    assert created["metadata"]["dimensions"] == "600x800"
    assert not image.getexif().get_ifd(samples.GPS_IFD)
    assert not set(image.getexif()) & set(samples.IDENTIFYING_TAGS)
    assert "comment" not in image.info
    assert b"Jane Smith" not in content.content
    assert samples.is_red(image.getpixel((590, 10)))

    thumbnail = await provider_client.get(created["thumbnailUrl"])
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] == "image/jpeg"
    small = samples.open_image(thumbnail.content)
    assert small.format == "JPEG"
    assert small.size == (192, 256)
    assert len(thumbnail.content) < len(content.content)

    # What was stored is what is served; nothing else was written.
    files = stored_files(state)
    assert len(files) == 2
    assert content.content in {f.read_bytes() for f in files}


@pytest.mark.parametrize(("make", "content_type", "fmt"), [
    (samples.png, "image/png", "PNG"),
    (samples.tiff, "image/tiff", "TIFF"),
    (samples.heic, "image/heic", "HEIF"),
], ids=["png", "tiff", "heic"])
async def test_png_tiff_and_heic_are_accepted_and_cleaned(
    provider_client: RoleClient, chart: str, make: Callable[[], bytes], content_type: str,
    fmt: str,
) -> None:
    response = await upload(provider_client, chart, make(), filename="upload.bin",
                            content_type="application/octet-stream")
    assert response.status_code == 201, response.text
    assert response.json()["metadata"]["dimensions"] == "64x32"
    content = await provider_client.get(response.json()["url"])
    assert content.headers["content-type"] == content_type
    image = samples.open_image(content.content)
    assert image.format == fmt
    assert b"Jane Smith" not in content.content
    assert not image.getexif().get_ifd(samples.GPS_IFD)
    assert image.getexif().get(0x010F) is None  # Make


async def test_the_type_comes_from_the_bytes_not_the_name(
    provider_client: RoleClient, chart: str,
) -> None:
    response = await upload(provider_client, chart, samples.png(), filename="mole.jpg",
                            content_type="image/jpeg")
    assert response.status_code == 201
    content = await provider_client.get(response.json()["url"])
    assert content.headers["content-type"] == "image/png"


async def test_text_named_jpg_is_refused(provider_client: RoleClient, chart: str,
                                         state: AppState) -> None:
    response = await upload(provider_client, chart, b"Jane Smith, mole on left forearm\n",
                            filename="mole.jpg", content_type="image/jpeg")
    error = assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert [d["field"] for d in error["details"]] == ["photo"]
    assert stored_files(state) == []
    assert await photo_rows(state) == []


async def test_a_decompression_bomb_is_refused(provider_client: RoleClient, chart: str,
                                               state: AppState) -> None:
    response = await upload(provider_client, chart, samples.png_declaring(100_000, 100_000),
                            filename="small.png", content_type="image/png")
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    response = await upload(provider_client, chart, samples.png_declaring(9_000, 9_000),
                            filename="small.png", content_type="image/png")
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert stored_files(state) == []


async def test_a_photo_over_25_mb_is_refused(provider_client: RoleClient, chart: str,
                                             state: AppState) -> None:
    jpeg = samples.jpeg_with_gps()
    too_big = jpeg + b"\x00" * (25 * MB + 1 - len(jpeg))
    response = await upload(provider_client, chart, too_big)
    error = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert [d["field"] for d in error["details"]] == ["photo"]
    assert stored_files(state) == []


async def test_a_photo_of_exactly_25_mb_is_not_too_large(provider_client: RoleClient,
                                                         chart: str) -> None:
    jpeg = samples.jpeg_with_gps()
    # Bytes after the JPEG's end marker are ignored by decoders: a valid 25 MB JPEG.
    response = await upload(provider_client, chart, jpeg + b"\x00" * (25 * MB - len(jpeg)))
    assert response.status_code == 201, response.text
    assert "MB" not in response.json()["metadata"]["fileSize"]  # the trailing bytes are gone


# Each bad form, and the fields its error must name. One app for all of them.
BAD_FORMS: list[tuple[dict[str, str | None], set[str]]] = [
    ({"type": None, "bodyPart": None}, {"type", "bodyPart"}),
    ({"type": "selfie"}, {"type"}),
    ({"bodyPart": "Left Forearm"}, {"bodyPart"}),
    ({"takenAt": "20/01/2024"}, {"takenAt"}),
    ({"takenAt": "2024-01-20T11:00:00"}, {"takenAt"}),  # no time zone
    ({"metadata": "not json"}, {"metadata"}),
    ({"metadata": "[1, 2]"}, {"metadata"}),
    ({"metadata": '{"fileSize": "1KB"}'}, {"metadata"}),  # set by the server
    ({"metadata": '{"a": "' + "x" * 5000 + '"}'}, {"metadata"}),
    ({"metadata": '{"a":' + "[" * 2000 + "]" * 2000 + "}"}, {"metadata"}),  # RecursionError
    ({"metadata": '{"a": [[[[[[1]]]]]]}'}, {"metadata"}),
    ({"metadata": '{"a": NaN}'}, {"metadata"}),
    ({"metadata": '{"a": 1e999}'}, {"metadata"}),
    ({"metadata": '{"a": 12345678901234567890}'}, {"metadata"}),
    ({"metadata": '{"a": "nul \\u0000"}'}, {"metadata"}),  # PostgreSQL refuses it in JSON
    ({"metadata": '{"a": {"nul \\u0000": 1}}'}, {"metadata"}),
    ({"metadata": '{"a b": 1}'}, {"metadata"}),
    ({"description": "x" * 2001}, {"description"}),
    ({"patientId": "pat_other"}, {"patientId"}),  # unknown fields are refused
    ({"type": "selfie", "takenAt": "soon", "metadata": "{"}, {"type", "takenAt", "metadata"}),
]


async def test_bad_form_fields_are_named(provider_client: RoleClient, chart: str,
                                         state: AppState) -> None:
    for fields, expected in BAD_FORMS:
        response = await upload(provider_client, chart, samples.png(), **fields)
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert {d["field"] for d in error["details"]} == expected, fields
    assert stored_files(state) == []


async def test_a_missing_photo_is_named(provider_client: RoleClient, chart: str) -> None:
    response = await upload(provider_client, chart, with_photo=False)
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert {d["field"] for d in error["details"]} == {"photo"}


async def test_taken_in_the_future_is_refused(provider_client: RoleClient, chart: str,
                                              clock: FrozenClock) -> None:
    tomorrow = (clock.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    in_a_minute = (clock.now() + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (await upload(provider_client, chart, takenAt=in_a_minute)).status_code == 201
    response = await upload(provider_client, chart, takenAt=tomorrow)
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == ["takenAt"]


@pytest.mark.parametrize("settings_overrides", [
    {"public_base_url": "https://api.dermifi.example.org/"}])
async def test_links_use_the_public_base_url_when_set(
    provider_client: RoleClient, chart: str,
) -> None:
    body = (await upload(provider_client, chart)).json()
    assert body["url"] == f"https://api.dermifi.example.org/v1/photos/{body['id']}/content"
    assert body["thumbnailUrl"] == (
        f"https://api.dermifi.example.org/v1/photos/{body['id']}/thumbnail")
    listed = (await provider_client.get(f"/v1/patients/{chart}/photos")).json()
    assert listed["photos"][0]["url"] == body["url"]


async def test_metadata_keeps_the_clients_structure(provider_client: RoleClient, chart: str
                                                    ) -> None:
    sent = {"dermoscopy": True, "abcd": {"asymmetry": 1, "border": 0.5, "colors": ["brown"]},
            "lesionNumber": 3, "note": None}
    response = await upload(provider_client, chart, metadata=json.dumps(sent))
    assert response.status_code == 201, response.text
    metadata = response.json()["metadata"]
    assert {k: metadata[k] for k in sent} == sent


# --- list ---------------------------------------------------------------------------------

async def test_list_answers_the_documented_shape(provider_client: RoleClient, chart: str
                                                 ) -> None:
    created = (await upload(provider_client, chart)).json()
    response = await provider_client.get(f"/v1/patients/{chart}/photos")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"photos", "total"}
    assert body["total"] == 1
    [item] = body["photos"]
    assert set(item) == LIST_FIELDS
    assert {k: item[k] for k in LIST_FIELDS - {"uploadedBy"}} == {
        k: created[k] for k in LIST_FIELDS - {"uploadedBy"}}
    assert item["uploadedBy"] == {"id": provider_client.user_id, "name": "Dr. Emily Johnson"}


async def test_list_filters_orders_newest_taken_first_and_limits(
    provider_client: RoleClient, nurse_client: RoleClient, chart: str,
) -> None:
    def taken(day: int) -> str:
        return f"2024-01-{day:02d}T10:00:00Z"

    ids = {}
    for day, kind, part, client in [(10, "lesion", "left_forearm", provider_client),
                                    (20, "lesion", "left_forearm", nurse_client),
                                    (15, "rash", "back", provider_client),
                                    (5, "lesion", "back", nurse_client)]:
        response = await upload(client, chart, samples.png(), type=kind, bodyPart=part,
                                takenAt=taken(day))
        assert response.status_code == 201, response.text
        ids[day] = response.json()["id"]
    other_chart = await make_chart(provider_client)
    assert (await upload(provider_client, other_chart)).status_code == 201

    async def listed(query: str = "") -> tuple[list[str], int]:
        response = await provider_client.get(f"/v1/patients/{chart}/photos{query}")
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["photos"]], response.json()["total"]

    assert await listed() == ([ids[20], ids[15], ids[10], ids[5]], 4)
    assert await listed("?type=lesion") == ([ids[20], ids[10], ids[5]], 3)
    assert await listed("?bodyPart=back") == ([ids[15], ids[5]], 2)
    assert await listed("?type=lesion&bodyPart=left_forearm&limit=1") == ([ids[20]], 2)
    assert await listed("?limit=2") == ([ids[20], ids[15]], 4)
    assert await listed("?type=wound") == ([], 0)
    names = {p["id"]: p["uploadedBy"]["id"] for p in
             (await provider_client.get(f"/v1/patients/{chart}/photos")).json()["photos"]}
    assert names[ids[20]] == nurse_client.user_id


async def test_bad_list_parameters_are_named(provider_client: RoleClient, chart: str
                                             ) -> None:
    for query, field in [("limit=0", "limit"), ("limit=101", "limit"), ("limit=ten", "limit"),
                         ("type=selfie", "type"), ("bodyPart=Left%20Arm", "bodyPart")]:
        response = await provider_client.get(f"/v1/patients/{chart}/photos?{query}")
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert [d["field"] for d in error["details"]] == [field], query


# --- who may do what ----------------------------------------------------------------------

@pytest.mark.parametrize(("role", "expected"), [
    (Role.PROVIDER, 201), (Role.NURSE, 201), (Role.ADMIN, 403), (Role.FRONT_DESK, 403),
    (Role.PHARMACY, 403),
])
async def test_who_may_upload(client_for: ClientFactory, chart: str, role: Role,
                              expected: int, state: AppState) -> None:
    client = await client_for(role)
    response = await upload(client, chart)
    assert response.status_code == expected, response.text
    if expected == 403:
        assert_error(response, 403, "FORBIDDEN")
        assert stored_files(state) == []


@pytest.mark.parametrize(("role", "expected"), [
    (Role.PROVIDER, 200), (Role.NURSE, 200), (Role.ADMIN, 200), (Role.FRONT_DESK, 403),
    (Role.PHARMACY, 403),
])
async def test_who_may_see_photos(client_for: ClientFactory, provider_client: RoleClient,
                                  chart: str, role: Role, expected: int) -> None:
    created = (await upload(provider_client, chart)).json()
    client = await client_for(role)
    for url in (f"/v1/patients/{chart}/photos", created["url"], created["thumbnailUrl"]):
        response = await client.get(url)
        assert response.status_code == expected, (url, response.text)
        if expected == 403:
            assert_error(response, 403, "FORBIDDEN")


async def test_another_practice_sees_nothing(
    client_for: ClientFactory, provider_client: RoleClient, chart: str, state: AppState,
) -> None:
    created = (await upload(provider_client, chart)).json()
    other = await make_practice(state, name="Other Practice")
    outsider = await client_for(Role.PROVIDER, practice_id=other.id)
    assert_error(await upload(outsider, chart), 404, "NOT_FOUND")
    assert_error(await outsider.get(f"/v1/patients/{chart}/photos"), 404, "NOT_FOUND")
    assert_error(await outsider.get(created["url"]), 404, "NOT_FOUND")
    assert_error(await outsider.get(created["thumbnailUrl"]), 404, "NOT_FOUND")
    # Exactly as for ids that do not exist.
    assert_error(await outsider.get("/v1/photos/photo_nope/content"), 404, "NOT_FOUND")
    assert len(stored_files(state)) == 2  # the outsider's upload stored nothing


async def test_anonymous_callers_are_refused(anon_client: httpx.AsyncClient,
                                             provider_client: RoleClient, chart: str) -> None:
    created = (await upload(provider_client, chart)).json()
    assert_error(await upload(anon_client, chart), 401, "UNAUTHORIZED")
    for url in (f"/v1/patients/{chart}/photos", created["url"], created["thumbnailUrl"]):
        assert_error(await anon_client.get(url), 401, "UNAUTHORIZED")


# --- audit --------------------------------------------------------------------------------

async def test_every_upload_and_read_is_audited_without_phi(
    provider_client: RoleClient, nurse_client: RoleClient, chart: str, state: AppState,
) -> None:
    created = (await upload(provider_client, chart)).json()
    await nurse_client.get(f"/v1/patients/{chart}/photos?type=lesion")
    await nurse_client.get(created["url"])
    await nurse_client.get(created["thumbnailUrl"])

    [create] = await audit_events(state, "photo.create")
    assert (create.actor_id, create.resource_id, create.patient_id) == (
        provider_client.user_id, created["id"], chart)
    [listing] = await audit_events(state, "photo.list")
    assert (listing.actor_id, listing.patient_id) == (nurse_client.user_id, chart)
    assert listing.details["photoIds"] == [created["id"]]
    assert listing.details["filters"] == ["type"]
    for action in ("photo.content.read", "photo.thumbnail.read"):
        [event] = await audit_events(state, action)
        assert (event.actor_id, event.resource_id, event.patient_id) == (
            nurse_client.user_id, created["id"], chart)
    async with state.sessionmaker() as session:
        everything = " ".join(str(e.details) for e in await session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("photo.%"))))
    for phi in ("Pigmented", "left_forearm", "polarized", "Jane", "Smith"):
        assert phi not in everything


async def test_a_refused_read_is_not_served_or_audited(
    client_for: ClientFactory, provider_client: RoleClient, chart: str, state: AppState,
) -> None:
    created = (await upload(provider_client, chart)).json()
    front_desk = await client_for(Role.FRONT_DESK)
    assert (await front_desk.get(created["url"])).status_code == 403
    assert await audit_events(state, "photo.content.read") == []


# --- objects and rows ---------------------------------------------------------------------

async def test_no_orphan_when_the_patient_goes_away_before_the_row_is_written(
    provider_client: RoleClient, chart: str, state: AppState,
    hook_storage: Callable[..., HookedStorage],
) -> None:
    async def delete_patient(puts: int) -> None:
        if puts == 2:  # both objects stored; the row is not written yet
            await delete_chart(state, chart)

    hooked = hook_storage(delete_patient)
    response = await upload(provider_client, chart)
    assert_error(response, 409, "CONFLICT")  # the row's foreign key failed
    assert hooked.puts == 2
    assert stored_files(state) == []
    assert await photo_rows(state) == []


async def test_no_orphan_when_the_second_object_cannot_be_stored(
    provider_client: RoleClient, chart: str, state: AppState,
    hook_storage: Callable[..., HookedStorage],
) -> None:
    async def fail_second(puts: int) -> None:
        if puts == 2:
            raise ConnectionError("object storage went away")

    hook_storage(fail_second)
    response = await upload(provider_client, chart)
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert stored_files(state) == []
    assert await photo_rows(state) == []
    assert await audit_events(state, "photo.create") == []


async def test_objects_are_kept_when_the_commit_went_through_but_its_answer_was_lost(
    provider_client: RoleClient, chart: str, state: AppState, monkeypatch: pytest.MonkeyPatch,
) -> None:
    @asynccontextmanager
    async def commit_then_lose_the_answer(session: AsyncSession) -> AsyncIterator[AsyncSession]:
        async with unit_of_work(session) as inner:
            yield inner
        raise ConnectionError("connection lost after COMMIT was sent")

    monkeypatch.setattr(photo_service, "unit_of_work", commit_then_lose_the_answer)
    response = await upload(provider_client, chart)
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    monkeypatch.undo()

    [row] = await photo_rows(state)
    assert len(stored_files(state)) == 2  # the committed row's objects are still there
    content = await provider_client.get(f"/v1/photos/{row.id}/content")
    assert content.status_code == 200
    assert samples.open_image(content.content).format == "JPEG"
