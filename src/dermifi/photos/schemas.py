from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, Literal

from fastapi import UploadFile
from pydantic import BeforeValidator, ConfigDict, Field, WithJsonSchema

from dermifi.core.fields import Text2000
from dermifi.core.schemas import ApiInput, ApiModel, UtcDateTime, not_nullable

PhotoType = Literal["lesion", "rash", "wound", "scar", "procedure", "full_body", "other"]
BodyPart = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$",
                                examples=["left_forearm"])]

# Set by the server from the stored image; a client may not send them.
SERVER_METADATA = ("fileSize", "dimensions")
MAX_METADATA_CHARS = 4096
MAX_METADATA_KEYS = 50
MAX_METADATA_DEPTH = 5
MAX_SAFE_INTEGER = 2**53 - 1
_METADATA_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_values(value: Any, depth: int) -> None:
    """What both databases store and every client reads back: no NUL characters (PostgreSQL
    refuses them in JSON), integers a JavaScript client keeps exactly, little nesting."""
    if depth > MAX_METADATA_DEPTH:
        raise ValueError(f"Nested at most {MAX_METADATA_DEPTH} levels deep")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("Text may not contain NUL characters")
    elif isinstance(value, float):
        if not math.isfinite(value):  # 1e999
            raise ValueError("Numbers must be finite")
    elif isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"Numbers must be between -{MAX_SAFE_INTEGER} and "
                             f"{MAX_SAFE_INTEGER}")
    elif isinstance(value, list):
        for item in value:
            _check_values(item, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_values(key, depth)
            _check_values(item, depth + 1)


def _json_object(value: Any) -> Any:
    """The `metadata` form field: a JSON object, as a string, small, with plain keys."""
    if value is None or isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise ValueError("Must be a JSON object as a string")
    if len(value) > MAX_METADATA_CHARS:
        raise ValueError(f"At most {MAX_METADATA_CHARS} characters")
    try:
        parsed = json.loads(value, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError(f"Nested at most {MAX_METADATA_DEPTH} levels deep") from None
    except ValueError:
        raise ValueError("Not valid JSON") from None
    if not isinstance(parsed, dict):
        raise ValueError("Must be a JSON object")
    _check_values(parsed, depth=1)
    if len(parsed) > MAX_METADATA_KEYS:
        raise ValueError(f"At most {MAX_METADATA_KEYS} keys")
    bad = [k for k in parsed if not _METADATA_KEY.fullmatch(k)]
    if bad:
        raise ValueError("Keys must be letters, digits and underscores, starting with a letter")
    reserved = [k for k in SERVER_METADATA if k in parsed]
    if reserved:
        raise ValueError(f"{' and '.join(reserved)} are set by the server")
    return parsed


PhotoMetadata = Annotated[
    dict[str, Any] | None,
    BeforeValidator(_json_object),
    WithJsonSchema({"type": "string", "contentMediaType": "application/json",
                    "description": "A JSON object as a string (at most 4096 characters and "
                                   "50 keys); fileSize and dimensions are added by the server",
                    "examples": ['{"dermoscopy": true, "magnification": "10x"}']}),
]


class PhotoUpload(ApiInput):
    """The multipart form of ``POST /v1/patients/{id}/photos``."""

    # A form field is sent or left out; multipart has no null.
    model_config = ConfigDict(json_schema_extra=not_nullable(
        "description", "taken_at", "metadata"))

    photo: UploadFile = Field(description="JPEG, PNG, HEIC/HEIF or TIFF (recognised by its "
                              "content), at most 25 MB")
    type: PhotoType
    body_part: BodyPart
    description: Text2000 | None = None
    taken_at: UtcDateTime | None = Field(None, description="When the photo was taken; "
                                         "defaults to the upload time")
    metadata: PhotoMetadata = None


class PersonRef(ApiModel):
    id: str
    name: str


class PhotoRead(ApiModel):
    """An uploaded photo, as the upload answers it."""

    id: str
    patient_id: str
    url: str = Field(description="GET it (with the same authorization) for the image")
    thumbnail_url: str
    type: PhotoType
    body_part: str
    description: str | None
    taken_at: UtcDateTime
    uploaded_at: UtcDateTime
    uploaded_by: str
    metadata: dict[str, Any] = Field(description="The client's metadata plus fileSize "
                                     "(e.g. 2.5MB) and dimensions (e.g. 3024x4032)")


class PhotoSummary(ApiModel):
    """A photo in a patient's list."""

    id: str
    url: str
    thumbnail_url: str
    type: PhotoType
    body_part: str
    description: str | None
    taken_at: UtcDateTime
    uploaded_at: UtcDateTime
    uploaded_by: PersonRef


class PhotoList(ApiModel):
    photos: list[PhotoSummary]
    total: int = Field(description="All of the patient's photos matching the filters")
