"""Checking, cleaning and thumbnailing uploaded photos. CPU-bound: call from a worker thread.

- The type is read from the bytes (magic numbers), never from the file name or the declared
  type, and Pillow must then open the file as that very format, verify it and decode it.
- Decompression bombs: the pixel count is checked against ``MAX_PIXELS`` from the header,
  before any pixel is decoded.
- Metadata: the orientation is applied to the pixels (``exif_transpose``) and the original is
  re-encoded from the pixels alone, so no EXIF (GPS, camera serial, owner, dates), XMP, IPTC,
  comments or text chunks survive. Kept: the ICC colour profile (colour fidelity matters
  clinically; it says nothing about the patient) and PNG/GIF-style palette transparency.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, cast

import pillow_heif
from PIL import Image, ImageOps, JpegImagePlugin

# HEIC/HEIF through libheif: primary image only, no embedded thumbnails, depth or aux images.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

MAX_PHOTO_BYTES = 25 * 1024 * 1024
# The default cap (DERMIFI_PHOTO_MAX_MEGAPIXELS): 40 megapixels hold any dermoscopy or phone
# photo; one decoded RGB copy is about 120 MB. Below Pillow's own bomb threshold
# (Image.MAX_IMAGE_PIXELS), which still applies.
MAX_PIXELS = 40_000_000
THUMBNAIL_SIZE = 256
THUMBNAIL_CONTENT_TYPE = "image/jpeg"

# ISO BMFF brands of HEVC-coded HEIF images (ISO/IEC 23008-12).
_HEVC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}


class UnsupportedImage(Exception):
    """Not a real, decodable JPEG, PNG, HEIC/HEIF or TIFF image of an acceptable size."""


@dataclass(frozen=True)
class ImageKind:
    name: str
    pil_format: str
    content_type: str
    extension: str


JPEG = ImageKind("JPEG", "JPEG", "image/jpeg", "jpg")
PNG = ImageKind("PNG", "PNG", "image/png", "png")
TIFF = ImageKind("TIFF", "TIFF", "image/tiff", "tif")
HEIF = ImageKind("HEIF", "HEIF", "image/heic", "heic")


@dataclass(frozen=True)
class ProcessedPhoto:
    kind: ImageKind
    data: bytes  # the cleaned original, same format as uploaded
    width: int  # as displayed (orientation applied)
    height: int
    thumbnail: bytes  # JPEG, at most THUMBNAIL_SIZE on its longer side
    thumbnail_width: int
    thumbnail_height: int


def sniff(data: bytes) -> ImageKind | None:
    """The accepted format the bytes begin with, if any."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return TIFF
    if len(data) >= 16 and data[4:8] == b"ftyp":
        box_size = int.from_bytes(data[:4], "big")
        box = data[8:max(16, min(box_size, 256))]
        brands = {box[0:4]} | {box[i:i + 4] for i in range(8, len(box) - 3, 4)}
        if brands & _HEVC_BRANDS:
            return HEIF
    return None


def process(data: bytes, *, max_pixels: int = MAX_PIXELS) -> ProcessedPhoto:
    """Validate ``data`` and return the cleaned original and its thumbnail.

    Raises ``UnsupportedImage`` for anything that is not an accepted image."""
    kind = sniff(data)
    if kind is None:
        raise UnsupportedImage("The file is not a JPEG, PNG, HEIC/HEIF or TIFF image")
    try:
        # Pass 1: the header (size) and the format's own integrity checks.
        with Image.open(io.BytesIO(data), formats=[kind.pil_format]) as probe:
            _check_pixels(probe.size, max_pixels)
            probe.verify()
        # Pass 2 (verify() leaves the image unusable): decode.
        with Image.open(io.BytesIO(data), formats=[kind.pil_format]) as image:
            _check_pixels(image.size, max_pixels)
            image.load()
            keep = _kept_info(image)
            if isinstance(image, JpegImagePlugin.JpegImageFile):
                # Re-encode with the upload's own quantization and chroma subsampling: the
                # same quality and size, and much less generation loss than a fixed quality.
                keep["qtables"] = image.quantization
                keep["subsampling"] = JpegImagePlugin.get_sampling(image)
            upright = _upright(image)
        # A fresh info dict: nothing Pillow read from the file is written back unless listed.
        upright.info = {}
        original = _encode(upright, kind, keep)
        thumbnail = _thumbnail(upright, keep)
    except UnsupportedImage:
        raise
    except Image.DecompressionBombError as exc:
        raise UnsupportedImage("The image's pixel dimensions are too large") from exc
    except Exception as exc:
        # Decoders report malformed input with every kind of exception (OSError, ValueError,
        # SyntaxError, struct.error, EOFError, ...): whatever it is, this is not a usable image.
        raise UnsupportedImage("The file is not a valid image") from exc
    return ProcessedPhoto(kind=kind, data=original, width=upright.width, height=upright.height,
                          thumbnail=thumbnail[0], thumbnail_width=thumbnail[1],
                          thumbnail_height=thumbnail[2])


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise UnsupportedImage("The image is empty")
    if width * height > max_pixels:
        raise UnsupportedImage(
            f"The image has {width}x{height} pixels; at most {max_pixels / 1_000_000:g} "
            "megapixels are accepted")


def _kept_info(image: Image.Image) -> dict[str, Any]:
    keep: dict[str, Any] = {}
    if isinstance(image.info.get("icc_profile"), bytes):
        keep["icc_profile"] = image.info["icc_profile"]
    if image.mode in ("P", "L", "RGB") and "transparency" in image.info:
        keep["transparency"] = image.info["transparency"]
    return keep


def _upright(image: Image.Image) -> Image.Image:
    """The pixels as they are meant to be seen. HEIC transforms are applied by libheif when
    decoding (and the EXIF orientation reset to 1), so nothing is rotated twice."""
    try:
        upright = ImageOps.exif_transpose(image)
    except (ValueError, TypeError, KeyError, SyntaxError, OSError):
        # An unreadable EXIF block does not make the pixels unusable; it is dropped anyway.
        upright = image.copy()
    return upright


def _encode(image: Image.Image, kind: ImageKind, keep: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    options: dict[str, Any] = {}
    if "icc_profile" in keep:
        options["icc_profile"] = keep["icc_profile"]
    if kind is JPEG:
        if keep.get("qtables"):
            options["qtables"] = keep["qtables"]
        else:
            options["quality"] = 95
        if keep.get("subsampling", -1) >= 0:
            options["subsampling"] = keep["subsampling"]
    elif kind is PNG:
        if "transparency" in keep:
            options["transparency"] = keep["transparency"]
    elif kind is TIFF:
        options.update(compression="tiff_adobe_deflate")
    else:
        options.update(quality=90)
    # Only what is passed here is written: the image carries no info from the upload.
    image.save(out, format=kind.pil_format, **options)
    return out.getvalue()


def _thumbnail(image: Image.Image, keep: dict[str, Any]) -> tuple[bytes, int, int]:
    source = image
    if image.mode in ("1", "P") or "transparency" in keep:
        # Palette and bilevel images only resize with NEAREST; transparency needs alpha.
        source = image.copy()
        if "transparency" in keep:
            source.info["transparency"] = keep["transparency"]
        source = source.convert("RGBA" if image.mode == "P" or "transparency" in keep
                                else "L")
    scale = min(1.0, THUMBNAIL_SIZE / max(source.width, source.height))
    size = (max(1, round(source.width * scale)), max(1, round(source.height * scale)))
    if size != source.size:
        source = source.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    small = _to_rgb(source)
    out = io.BytesIO()
    options: dict[str, Any] = {"quality": 85}
    if image.mode == "RGB" and "icc_profile" in keep:
        options["icc_profile"] = keep["icc_profile"]
    small.save(out, format="JPEG", **options)
    return out.getvalue(), small.width, small.height


def _to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB for the JPEG thumbnail: alpha over white, deep grey scaled to 8 bits."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        wide = image.convert("I") if image.mode.startswith("I;16") else image
        low, high = cast(tuple[float, float], wide.getextrema())  # one band
        scale = 255.0 / ((float(high) - float(low)) or 1.0)
        offset = -float(low) * scale
        return wide.point(lambda v: v * scale + offset).convert("L").convert("RGB")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def human_size(size: int) -> str:
    """``2.5MB``, ``820KB``, ``512B`` (binary units, as the upload cap)."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}MB"
    if size >= 1024:
        return f"{round(size / 1024)}KB"
    return f"{size}B"
