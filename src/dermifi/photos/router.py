from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response, status
from fastapi.responses import JSONResponse

from dermifi.auth.dependencies import CurrentUser
from dermifi.auth.idempotency import idempotent
from dermifi.core.deps import BlobStoreDep, DbSession, State
from dermifi.core.errors import error_responses
from dermifi.patients.dependencies import ClinicalPatient
from dermifi.photos import images, service
from dermifi.photos.dependencies import ReadablePhoto
from dermifi.photos.models import Photo
from dermifi.photos.schemas import (
    BodyPart,
    PhotoList,
    PhotoRead,
    PhotoSummary,
    PhotoType,
    PhotoUpload,
)

router = APIRouter(tags=["photos"])

_BINARY = {"schema": {"type": "string", "format": "binary"}}
_IMAGE_TYPES = (images.JPEG, images.PNG, images.HEIF, images.TIFF)


def _base_url(request: Request, state: State) -> str:
    """Links are absolute: from DERMIFI_PUBLIC_BASE_URL behind a proxy, else the request."""
    return (state.settings.public_base_url or str(request.base_url)).rstrip("/")


def _links(photo: Photo, base: str) -> dict[str, str]:
    return {"url": f"{base}/v1/photos/{photo.id}/content",
            "thumbnail_url": f"{base}/v1/photos/{photo.id}/thumbnail"}


def _image_response(content: bytes, media_type: str, filename: str) -> Response:
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'inline; filename="{filename}"',
        # Image bytes only: nothing in them may run or load anything if opened directly.
        "Content-Security-Policy": "default-src 'none'; sandbox",
    })


@router.post("/patients/{patient_id}/photos", status_code=status.HTTP_201_CREATED,
             response_model=PhotoRead, responses=error_responses(404, 409, 413, 415, 503))
@idempotent
async def upload_photo(
    form: Annotated[PhotoUpload, Form(media_type="multipart/form-data")],
    patient: ClinicalPatient, session: DbSession, actor: CurrentUser,
    storage: BlobStoreDep, state: State, request: Request,
) -> JSONResponse:
    """Add a photo to the chart (providers and nurses). The type is recognised from the
    content (JPEG, PNG, HEIC/HEIF, TIFF; at most 25 MB and 40 megapixels by default).
    Location, camera and other identifying metadata are removed, the orientation is applied,
    and a thumbnail is made. A server busy decoding other uploads answers 503."""
    photo = await service.upload_photo(
        session, actor, patient=patient, data=form, storage=storage, pool=state.image_pool,
        max_pixels=int(state.settings.photo_max_megapixels * 1_000_000))
    links = _links(photo, _base_url(request, state))
    read = PhotoRead.model_validate({
        "id": photo.id, "patient_id": photo.patient_id, **links, "type": photo.type,
        "body_part": photo.body_part, "description": photo.description,
        "taken_at": photo.taken_at, "uploaded_at": photo.uploaded_at,
        "uploaded_by": photo.uploaded_by,
        "metadata": {**photo.client_metadata, "fileSize": images.human_size(photo.file_size),
                     "dimensions": f"{photo.width}x{photo.height}"},
    })
    return JSONResponse(read.model_dump(mode="json", by_alias=True), status_code=201,
                        headers={"Location": links["url"]})


@router.get("/patients/{patient_id}/photos", response_model=PhotoList,
            responses=error_responses(404))
async def list_photos(
    patient: ClinicalPatient, session: DbSession, actor: CurrentUser, state: State,
    request: Request,
    photo_type: Annotated[PhotoType | None, Query(alias="type")] = None,
    body_part: Annotated[BodyPart | None, Query(alias="bodyPart")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="At most this many")] = 20,
) -> PhotoList:
    """The patient's photos, newest taken first; `total` counts all that match."""
    page = await service.list_photos(session, actor, patient=patient, photo_type=photo_type,
                                     body_part=body_part, limit=limit)
    base = _base_url(request, state)
    return PhotoList(total=page.total, photos=[PhotoSummary.model_validate({
        "id": p.id, **_links(p, base), "type": p.type, "body_part": p.body_part,
        "description": p.description, "taken_at": p.taken_at, "uploaded_at": p.uploaded_at,
        "uploaded_by": {"id": p.uploaded_by, "name": page.uploader_names.get(p.uploaded_by, "")},
    }) for p in page.photos])


_CONTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The image, without identifying metadata",
          "content": {kind.content_type: _BINARY for kind in _IMAGE_TYPES}},
    **error_responses(404),
}
_THUMBNAIL_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": f"A JPEG at most {images.THUMBNAIL_SIZE} pixels on its longer side",
          "content": {images.THUMBNAIL_CONTENT_TYPE: _BINARY}},
    **error_responses(404),
}


@router.get("/photos/{photo_id}/content", response_class=Response,
            responses=_CONTENT_RESPONSES)
async def photo_content(photo: ReadablePhoto, session: DbSession, actor: CurrentUser,
                        storage: BlobStoreDep) -> Response:
    """The photo as uploaded, cleaned of identifying metadata (same roles as the chart)."""
    content = await service.read_image(session, actor, photo=photo, variant="original",
                                       storage=storage)
    extension = photo.storage_key.rsplit(".", 1)[-1]
    return _image_response(content, photo.content_type, f"{photo.id}.{extension}")


@router.get("/photos/{photo_id}/thumbnail", response_class=Response,
            responses=_THUMBNAIL_RESPONSES)
async def photo_thumbnail(photo: ReadablePhoto, session: DbSession, actor: CurrentUser,
                          storage: BlobStoreDep) -> Response:
    """The photo's thumbnail (JPEG; same roles as the chart)."""
    content = await service.read_image(session, actor, photo=photo, variant="thumbnail",
                                       storage=storage)
    return _image_response(content, images.THUMBNAIL_CONTENT_TYPE, f"{photo.id}-thumb.jpg")
