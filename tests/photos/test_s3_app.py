"""The app with S3-compatible object storage (a moto server on 127.0.0.1), end to end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dermifi.core.state import AppState
from dermifi.practices.models import Practice
from tests.auth.test_login import assert_error
from tests.factories.users import RoleClient
from tests.object_store import s3_keys
from tests.photos import samples
from tests.photos.conftest import HookedStorage, delete_chart, stored_files, upload


@pytest.fixture
def settings_overrides(s3_server: str, s3_bucket: str) -> dict[str, Any]:
    """The app stores photos in a fresh bucket of the moto server, under a prefix."""
    return {"storage_url": f"s3://{s3_bucket}/photos", "s3_endpoint_url": s3_server}


async def test_uploads_and_reads_through_s3(
    s3_server: str, s3_bucket: str,
    provider_client: RoleClient, chart: str, state: AppState, practice: Practice,
) -> None:
    response = await upload(provider_client, chart, samples.heic())
    assert response.status_code == 201, response.text
    created = response.json()
    keys = s3_keys(s3_server, s3_bucket)
    assert len(keys) == 2
    assert all(k.startswith(f"photos/{practice.id}/{created['id']}-") for k in keys)
    assert stored_files(state) == []  # nothing went to the local directory

    content = await provider_client.get(created["url"])
    assert content.status_code == 200
    assert content.headers["content-type"] == "image/heic"
    assert samples.open_image(content.content).format == "HEIF"
    thumbnail = await provider_client.get(created["thumbnailUrl"])
    assert samples.open_image(thumbnail.content).format == "JPEG"


async def test_no_orphan_in_s3_when_the_row_cannot_be_written(
    s3_server: str, s3_bucket: str,
    provider_client: RoleClient, chart: str, state: AppState,
    hook_storage: Callable[..., HookedStorage],
) -> None:
    async def delete_patient(puts: int) -> None:
        if puts == 2:
            assert len(s3_keys(s3_server, s3_bucket)) == 2
            await delete_chart(state, chart)

    hook_storage(delete_patient)
    assert_error(await upload(provider_client, chart), 409, "CONFLICT")
    assert s3_keys(s3_server, s3_bucket) == []
