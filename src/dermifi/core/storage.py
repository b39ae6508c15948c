"""The blob store: where bytes that are not rows live (photos now; pathology reports and sent
prescription messages later), in a local directory (default) or S3-compatible object storage.

One small interface, ``BlobStore``: ``put`` (durable when it returns), ``get`` and an
idempotent ``delete``. Keys are chosen by the service (unguessable, one set per upload) and
never overwritten. Every blocking call runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from dermifi.core.config import Settings

_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*$")


class StoredObjectMissing(LookupError):
    """The key names no stored object."""


class BlobStore(Protocol):
    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store ``data`` under ``key``; when this returns the object survives a crash."""

    async def get(self, key: str) -> bytes:
        """The object's bytes, or ``StoredObjectMissing``."""

    async def delete(self, key: str) -> None:
        """Remove the object; a key that names nothing is not an error."""


def _check_key(key: str) -> str:
    if not _KEY.fullmatch(key) or ".." in key or len(key) > 512:
        raise ValueError("invalid storage key")
    return key


class LocalStorage:
    """Files under one root directory (``<data dir>/photos`` by default: where photos were
    kept before other blobs joined them), owner-only."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_of(self, key: str) -> Path:
        # Lexical, no filesystem call: a checked key has no "..", no leading "/" and no
        # empty segment, so it names a file under the root.
        return self.root / _check_key(key)

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        await asyncio.to_thread(self._put, self.path_of(key), data)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._get, self.path_of(key))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path_of(key).unlink, missing_ok=True)

    @staticmethod
    def _put(path: Path, data: bytes) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Write a temporary file, flush it to disk, then rename it into place and flush the
        # directory: the object is whole and durable before the database row points at it.
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    @staticmethod
    def _get(path: Path) -> bytes:
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise StoredObjectMissing(path.name) from exc


class S3Storage:
    """Objects in one bucket under an optional prefix (``s3://bucket/prefix``).

    Endpoint, region and credentials come from the standard AWS environment variables and
    files; ``endpoint_url`` (``DERMIFI_S3_ENDPOINT_URL``) points at an S3-compatible server.
    boto3 clients are thread-safe, so one client serves every worker thread."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 client: Any | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client if client is not None else _s3_client(endpoint_url)

    def object_key(self, key: str) -> str:
        key = _check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        await asyncio.to_thread(self.client.put_object, Bucket=self.bucket,
                                Key=self.object_key(key), Body=data, ContentType=content_type)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._get, self.object_key(key))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket,
                                Key=self.object_key(key))

    def _get(self, object_key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=object_key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise StoredObjectMissing(object_key) from exc
            raise
        body = response["Body"]
        try:
            data: bytes = body.read()
        finally:
            body.close()
        return data


def _s3_client(endpoint_url: str | None) -> Any:
    import boto3
    from botocore.config import Config

    compatible: dict[str, Any] = {}
    if endpoint_url:
        # S3-compatible servers want path-style URLs, and not all of them take the checksums
        # boto3 sends by default since 1.36.
        compatible = {"s3": {"addressing_style": "path"},
                      "request_checksum_calculation": "when_required",
                      "response_checksum_validation": "when_required"}
    config = Config(connect_timeout=5, read_timeout=60,
                    retries={"max_attempts": 5, "mode": "standard"}, **compatible)
    return boto3.client("s3", endpoint_url=endpoint_url, config=config)


def storage_from_settings(settings: Settings) -> BlobStore:
    """``DERMIFI_STORAGE_URL``: unset means ``<data dir>/photos``; a path or ``file://`` URL a
    directory; ``s3://bucket/prefix`` object storage. Anything else is refused at start-up."""
    url = settings.storage_url
    if not url:
        return LocalStorage(settings.data_dir / "photos")
    parts = urlsplit(url)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError("DERMIFI_STORAGE_URL s3://bucket/prefix needs a bucket")
        return S3Storage(parts.netloc, parts.path, endpoint_url=settings.s3_endpoint_url)
    if parts.scheme == "file":
        return LocalStorage(Path(parts.path))
    if parts.scheme and len(parts.scheme) > 1:  # one letter is a Windows drive, a path
        raise ValueError("DERMIFI_STORAGE_URL must be a directory or an s3:// URL")
    return LocalStorage(Path(url))
