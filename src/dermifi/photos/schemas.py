from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from fastapi import UploadFile
from pydantic import BeforeValidator, Field, WithJsonSchema

from dermifi.core.fields import Text2000
from dermifi.core.schemas import ApiInput, ApiModel, UtcDateTime

PhotoType = Literal["lesion", "rash", "wound", "scar", "procedure", "full_body", "other"]
BodyPart = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$",
                                examples=["left_forearm"])]

# Set by the server from the stored image; a client may not send them.
SERVER_METADATA = ("fileSize", "dimensions")
MAX_METADATA_CHARS = 4096
MAX_METADATA_KEYS = 50
_METADATA_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def _json_object(value: Any) -> Any:
    """The `metadata` form field: a JSON object, as a string, small, with plain keys."""
    if value is None or isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise ValueError("Must be a JSON object as a string")
    if len(value) > MAX_METADATA_CHARS:
        raise ValueError(f"At most {MAX_METADATA_CHARS} characters")
    try:
        parsed = json.loads(value)
    except ValueError:
        raise ValueError("Not valid JSON") from None
    if not isinstance(parsed, dict):
        raise ValueError("Must be a JSON object")
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
