"""Checking and cleaning uploads: real images made with Pillow, no database."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from dermifi.photos import images
from tests.photos import samples


def test_jpeg_loses_gps_and_identifying_metadata_and_keeps_its_orientation() -> None:
    original = samples.jpeg_with_gps(64, 32, orientation=6)
    assert samples.open_image(original).getexif().get_ifd(samples.GPS_IFD)  # the control

    result = images.process(original)

    assert result.kind is images.JPEG
    stored = samples.open_image(result.data)
    assert stored.format == "JPEG"
    exif = stored.getexif()
    assert not exif.get_ifd(samples.GPS_IFD)
    assert not exif.get_ifd(samples.EXIF_IFD)
    assert not set(exif) & set(samples.IDENTIFYING_TAGS)
    assert "exif" not in stored.info
    assert "comment" not in stored.info
    assert "xmp" not in stored.info
    assert b"Jane Smith" not in result.data
    assert b"iPhone" not in result.data
    # Orientation 6 (rotate 90 degrees clockwise to view) is applied to the pixels: the
    # image is stored upright, the red top-left corner is now at the top right.
    assert stored.size == (32, 64)
    assert (result.width, result.height) == (32, 64)
    assert samples.is_red(stored.getpixel((28, 3)))
    assert samples.is_white(stored.getpixel((3, 60)))
    assert exif.get(samples.ORIENTATION, 1) == 1


@pytest.mark.parametrize(("orientation", "size", "red_at"), [
    (1, (64, 32), (3, 3)), (3, (64, 32), (60, 28)), (6, (32, 64), (28, 3)),
    (8, (32, 64), (3, 60)),
])
def test_every_orientation_is_applied(orientation: int, size: tuple[int, int],
                                      red_at: tuple[int, int]) -> None:
    result = images.process(samples.jpeg_with_gps(64, 32, orientation=orientation))
    stored = samples.open_image(result.data)
    assert stored.size == size
    assert samples.is_red(stored.getpixel(red_at))


def test_thumbnail_is_a_real_smaller_upright_jpeg_without_metadata() -> None:
    result = images.process(samples.jpeg_with_gps(800, 600, orientation=6))
    thumbnail = samples.open_image(result.thumbnail)
    assert thumbnail.format == "JPEG"
    assert thumbnail.mode == "RGB"
    assert thumbnail.size == (192, 256)
    assert (result.thumbnail_width, result.thumbnail_height) == (192, 256)
    assert len(result.thumbnail) < len(result.data)
    assert not thumbnail.getexif()
    assert samples.is_red(thumbnail.getpixel((180, 10)))
    assert samples.is_white(thumbnail.getpixel((10, 245)))


def test_small_images_are_not_enlarged_for_the_thumbnail() -> None:
    result = images.process(samples.png(40, 20))
    assert (result.thumbnail_width, result.thumbnail_height) == (40, 20)


def test_png_loses_text_chunks_and_exif() -> None:
    original = samples.png()
    assert samples.open_image(original).info.get("Author") == "Jane Smith"  # the control

    result = images.process(original)

    assert result.kind is images.PNG
    stored = samples.open_image(result.data)
    assert stored.format == "PNG"
    assert set(stored.info) <= {"dpi"}
    assert not stored.getexif()
    assert b"Jane Smith" not in result.data
    assert b"Oak Ave" not in result.data


def test_png_transparency_survives_and_thumbnails_over_white() -> None:
    image = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (0, 0, 25, 25))
    out = io.BytesIO()
    image.save(out, "PNG")

    result = images.process(out.getvalue())

    stored = samples.open_image(result.data)
    assert stored.mode == "RGBA"
    assert stored.getpixel((40, 40)) == (0, 0, 0, 0)
    thumbnail = samples.open_image(result.thumbnail)
    assert samples.is_white(thumbnail.getpixel((40, 40)))
    assert samples.is_red(thumbnail.getpixel((5, 5)))


def test_tiff_loses_identifying_tags_and_keeps_its_orientation() -> None:
    original = samples.tiff(64, 32, orientation=6)
    tags = samples.open_image(original).tag_v2  # type: ignore[attr-defined]
    assert tags[315] == "Jane Smith"  # the control

    result = images.process(original)

    assert result.kind is images.TIFF
    stored = samples.open_image(result.data)
    assert stored.format == "TIFF"
    left = set(stored.tag_v2)  # type: ignore[attr-defined]
    assert not left & {315, 271, 272, 316, 700, 33723, 34377, 34853, 34665}
    assert stored.size == (32, 64)
    assert samples.is_red(stored.getpixel((28, 3)))
    assert b"Jane Smith" not in result.data


def test_deep_grey_tiff_is_kept_deep_and_thumbnailed_in_8_bits() -> None:
    image = Image.linear_gradient("L").resize((300, 200)).convert("I").point(lambda v: v * 257)
    out = io.BytesIO()
    image.convert("I;16").save(out, "TIFF")

    result = images.process(out.getvalue())

    assert samples.open_image(result.data).mode == "I;16"
    thumbnail = samples.open_image(result.thumbnail)
    assert thumbnail.mode == "RGB"
    assert thumbnail.size == (256, 171)


def test_heic_loses_exif_and_xmp_and_keeps_its_orientation() -> None:
    # pillow_heif writes orientation 6 as a rotation transform; libheif applies it on decode.
    original = samples.heic(64, 32, orientation=6)
    decoded = samples.open_image(original)
    assert decoded.getexif().get(0x010F) == "Apple"  # the control
    assert decoded.size == (32, 64)

    result = images.process(original)

    assert result.kind is images.HEIF
    assert result.kind.content_type == "image/heic"
    stored = samples.open_image(result.data)
    assert stored.format == "HEIF"
    assert not stored.info.get("exif")
    assert not stored.info.get("xmp")
    assert not stored.getexif().get_ifd(samples.GPS_IFD)
    assert stored.size == (32, 64)
    assert samples.is_red(stored.getpixel((28, 3)))
    assert samples.is_white(stored.getpixel((3, 60)))
    assert samples.open_image(result.thumbnail).size == (32, 64)


@pytest.mark.parametrize("content", [
    b"Patient: Jane Smith\nThis is a text file named mole.jpg\n",
    b"",
    b"GIF89a" + b"\x00" * 100,
    b"%PDF-1.7\n" + b"\x00" * 100,
    b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 20,  # JPEG magic, garbage after it
    b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00mif1avifmiaf" + b"\x00" * 40,  # AVIF
], ids=["text", "empty", "gif", "pdf", "jpeg-magic-garbage", "avif"])
def test_anything_but_a_real_image_of_an_accepted_type_is_refused(content: bytes) -> None:
    with pytest.raises(images.UnsupportedImage):
        images.process(content)


def test_a_truncated_jpeg_is_refused() -> None:
    whole = samples.jpeg_with_gps(400, 300)
    with pytest.raises(images.UnsupportedImage):
        images.process(whole[: len(whole) // 2])


def test_type_comes_from_the_bytes() -> None:
    assert images.sniff(samples.png()) is images.PNG
    assert images.sniff(samples.jpeg_with_gps()) is images.JPEG
    assert images.sniff(samples.tiff()) is images.TIFF
    assert images.sniff(samples.heic()) is images.HEIF
    assert images.sniff(b"<html><img src=x onerror=alert(1)>") is None


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = samples.png_declaring(100_000, 100_000)  # 10 gigapixels in 100 bytes
    assert len(bomb) < 200
    with pytest.raises(images.UnsupportedImage, match="too large"):
        images.process(bomb)


def test_the_pixel_cap_is_checked_before_decoding() -> None:
    over = samples.png_declaring(8_000, 5_001)
    with pytest.raises(images.UnsupportedImage, match="40 megapixels"):
        images.process(over)
    # Exactly at the cap passes the size check and fails later, on its missing pixels.
    at_cap = samples.png_declaring(8_000, 5_000)
    assert images.MAX_PIXELS == 8_000 * 5_000
    with pytest.raises(images.UnsupportedImage, match="not a valid image"):
        images.process(at_cap)


def test_the_pixel_cap_is_a_parameter() -> None:
    small_cap = 1_000_000
    with pytest.raises(images.UnsupportedImage, match="1 megapixels"):
        images.process(samples.png_declaring(1_000, 1_001), max_pixels=small_cap)
    with pytest.raises(images.UnsupportedImage, match="not a valid image"):
        images.process(samples.png_declaring(1_000, 1_000), max_pixels=small_cap)


@pytest.mark.parametrize(("size", "text"), [
    (0, "0B"), (512, "512B"), (1024, "1KB"), (839_680, "820KB"),
    (int(2.5 * 1024 * 1024), "2.5MB"), (25 * 1024 * 1024, "25.0MB"),
])
def test_human_size(size: int, text: str) -> None:
    assert images.human_size(size) == text
