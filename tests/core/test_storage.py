"""Photo storage: the local directory and S3-compatible object storage (a moto server)."""

from __future__ import annotations

import stat
from pathlib import Path

import boto3
import pytest

from dermifi.core.config import Settings
from dermifi.core.storage import (
    BlobStore,
    LocalStorage,
    S3Storage,
    StoredObjectMissing,
    storage_from_settings,
)
from tests.object_store import s3_keys


async def _round_trip(storage: BlobStore) -> None:
    key = "prc_1/photo_abc-0123.jpg"
    await storage.put(key, b"first", content_type="image/jpeg")
    assert await storage.get(key) == b"first"
    await storage.put("prc_1/photo_abc-0123.thumb.jpg", b"small", content_type="image/jpeg")
    assert await storage.get("prc_1/photo_abc-0123.thumb.jpg") == b"small"
    await storage.delete(key)
    with pytest.raises(StoredObjectMissing):
        await storage.get(key)
    await storage.delete(key)  # deleting what is gone is not an error
    with pytest.raises(StoredObjectMissing):
        await storage.get("prc_1/never-written.jpg")


async def test_local_storage_puts_gets_and_deletes(tmp_path: Path) -> None:
    await _round_trip(LocalStorage(tmp_path / "photos"))


async def test_local_storage_files_are_owner_only_and_leave_no_temporaries(
        tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "photos")
    await storage.put("prc_1/photo_x.png", b"\x89PNG", content_type="image/png")
    path = tmp_path / "photos" / "prc_1" / "photo_x.png"
    assert path.read_bytes() == b"\x89PNG"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["photo_x.png"]


@pytest.mark.parametrize("key", ["../escape.jpg", "/etc/passwd", "a/../../b", "a//b", "",
                                 ".hidden", "a/b\\c", "a\x00b"])
async def test_local_storage_refuses_keys_outside_its_root(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path / "photos")
    with pytest.raises(ValueError, match="invalid storage key"):
        await storage.put(key, b"x", content_type="image/jpeg")


async def test_s3_storage_puts_gets_and_deletes(s3_server: str, s3_bucket: str) -> None:
    storage = S3Storage(s3_bucket, "/clinic-a/photos/", endpoint_url=s3_server)
    await storage.put("prc_1/photo_k.jpg", b"jpeg bytes", content_type="image/jpeg")
    # Under the prefix, with its content type.
    assert s3_keys(s3_server, s3_bucket) == ["clinic-a/photos/prc_1/photo_k.jpg"]
    head = boto3.client("s3", endpoint_url=s3_server).head_object(
        Bucket=s3_bucket, Key="clinic-a/photos/prc_1/photo_k.jpg")
    assert head["ContentType"] == "image/jpeg"
    await storage.delete("prc_1/photo_k.jpg")
    assert s3_keys(s3_server, s3_bucket) == []
    await _round_trip(storage)
    assert s3_keys(s3_server, s3_bucket) == ["clinic-a/photos/prc_1/photo_abc-0123.thumb.jpg"]


def test_storage_from_settings(tmp_path: Path, s3_server: str, s3_bucket: str) -> None:
    default = storage_from_settings(Settings(data_dir=tmp_path))
    assert isinstance(default, LocalStorage)
    assert default.root == (tmp_path / "photos").resolve()

    directory = storage_from_settings(Settings(storage_url=str(tmp_path / "elsewhere")))
    assert isinstance(directory, LocalStorage)
    assert directory.root == (tmp_path / "elsewhere").resolve()

    file_url = storage_from_settings(Settings(storage_url=f"file://{tmp_path}/files"))
    assert isinstance(file_url, LocalStorage)
    assert file_url.root == (tmp_path / "files").resolve()

    s3 = storage_from_settings(Settings(storage_url=f"s3://{s3_bucket}/photos",
                                        s3_endpoint_url=s3_server))
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix) == (s3_bucket, "photos")
    assert s3.client.meta.endpoint_url == s3_server

    bare_bucket = storage_from_settings(Settings(storage_url=f"s3://{s3_bucket}"))
    assert isinstance(bare_bucket, S3Storage)
    assert bare_bucket.object_key("a/b.jpg") == "a/b.jpg"

    for bad in ("gs://bucket/photos", "s3:///photos", "https://storage.example.org/photos"):
        with pytest.raises(ValueError, match="DERMIFI_STORAGE_URL"):
            storage_from_settings(Settings(storage_url=bad))
