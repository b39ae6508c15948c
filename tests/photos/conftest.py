"""Photo test fixtures: a chart to attach photos to, an upload helper, and a local
S3-compatible server (moto) for the object storage backend."""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from dermifi.core.deps import blob_store
from dermifi.core.state import AppState
from dermifi.core.storage import BlobStore
from tests.factories.patients import patient_payload
from tests.factories.users import RoleClient
from tests.photos import samples


async def make_chart(client: httpx.AsyncClient) -> str:
    # A last name of its own: the same name and date of birth twice is a duplicate patient.
    last_name = "Smith-" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))
    response = await client.post("/v1/patients", json=patient_payload(lastName=last_name))
    assert response.status_code == 201, response.text
    patient_id: str = response.json()["id"]
    return patient_id


async def upload(client: httpx.AsyncClient, patient_id: str, content: bytes | None = None, *,
                 filename: str = "photo.jpg", content_type: str = "image/jpeg",
                 with_photo: bool = True, **fields: str | None) -> httpx.Response:
    """POST a multipart upload. Form fields default to the document's example; a field given
    as None is left out; ``content`` defaults to a JPEG with GPS and orientation EXIF."""
    form: dict[str, str | None] = {
        "type": "lesion", "bodyPart": "left_forearm",
        "description": "Pigmented lesion, 8mm diameter", "takenAt": "2024-01-20T11:00:00Z",
        "metadata": '{"dermoscopy": true, "magnification": "10x", "lighting": "polarized"}'}
    form.update(fields)
    # Every part as a file tuple, so the body is multipart even without a photo.
    parts: list[tuple[str, Any]] = [(k, (None, v)) for k, v in form.items() if v is not None]
    if with_photo:
        parts.append(("photo", (filename, samples.jpeg_with_gps() if content is None
                                else content, content_type)))
    return await client.post(f"/v1/patients/{patient_id}/photos", files=parts)


@pytest.fixture
async def chart(provider_client: RoleClient) -> str:
    return await make_chart(provider_client)


def stored_files(state: AppState) -> list[Path]:
    root = state.settings.data_dir / "photos"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def delete_chart(state: AppState, patient_id: str) -> None:
    """Another connection removes the chart (patients are never erased by the API; this stands
    for any concurrent change that makes the photo's row fail its constraints)."""
    async with state.engine.begin() as conn:
        # Its search row first: that row's foreign key would refuse the chart's removal.
        for table in ("patient_search", "patient"):
            await conn.execute(text(f"DELETE FROM {table} WHERE id = :p"),
                               {"p": patient_id})


class HookedStorage:
    """The app's storage, with a hook run after each put (to break things at that moment)."""

    def __init__(self, inner: BlobStore, after_put: Callable[[int], Any]) -> None:
        self.inner = inner
        self.after_put = after_put
        self.puts = 0

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        await self.inner.put(key, data, content_type=content_type)
        self.puts += 1
        await self.after_put(self.puts)

    async def get(self, key: str) -> bytes:
        return await self.inner.get(key)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)


@pytest.fixture
def hook_storage(app: FastAPI, state: AppState) -> Iterator[Callable[..., HookedStorage]]:
    def install(after_put: Callable[[int], Any]) -> HookedStorage:
        hooked = HookedStorage(state.blob_store, after_put)
        app.dependency_overrides[blob_store] = lambda: hooked
        return hooked

    yield install
    app.dependency_overrides.pop(blob_store, None)
