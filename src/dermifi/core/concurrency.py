"""Optimistic concurrency: ``ETag`` from a version column, ``If-Match`` checked in the service
(under the row lock: ``Repository.lock_for_change``)."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from dermifi.core.errors import PreconditionFailed, ValidationFailed
from dermifi.core.responses import ModelResponse


def etag(version: int) -> str:
    return f'"v{version}"'


IfMatchHeader = Annotated[
    str | None,
    Header(alias="If-Match", max_length=200, pattern=r"[^\s,]",  # not blank: one tag at least
           description="The ETag last read; the change is refused (412) if it is stale"),
]


def check_if_match(if_match: str | None, version: int) -> None:
    """No header: last write wins (the version still moves). A stale tag: PRECONDITION_FAILED."""
    if if_match is None:
        return
    tags = [t.strip() for t in if_match.split(",") if t.strip()]
    if not tags:
        raise ValidationFailed(details=[{"field": "If-Match", "message": "Empty header"}])
    if "*" in tags:
        return
    current = etag(version)
    if not any(t.removeprefix("W/") == current for t in tags):
        raise PreconditionFailed()


def with_etag(body: BaseModel | Mapping[str, Any], *, version: int, status_code: int = 200,
              headers: Mapping[str, str] | None = None,
              exclude: Set[str] = frozenset()) -> JSONResponse:
    """The one way a versioned resource is answered: its body (a model in the API's camelCase;
    ``exclude`` names fields left out rather than answered as null) and the ``ETag`` a client
    sends back as ``If-Match``."""
    return ModelResponse(body, exclude=exclude, status_code=status_code,
                         headers={"ETag": etag(version), **(headers or {})})
