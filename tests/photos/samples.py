"""Real images made with Pillow for the photo tests: JPEG with GPS and orientation EXIF,
PNG, TIFF, HEIC, and the hostile kinds (text named .jpg, a decompression bomb)."""

from __future__ import annotations

import io
import struct
import zlib

import pillow_heif
from PIL import Image, PngImagePlugin

pillow_heif.register_heif_opener()

ORIENTATION = 0x0112
GPS_IFD = 0x8825
EXIF_IFD = 0x8769
IDENTIFYING_TAGS = {0x010F: "Make", 0x0110: "Model", 0x013B: "Artist",
                    0x8298: "Copyright", 0x0131: "Software", 0x0132: "DateTime"}
RED = (255, 0, 0)


def marked(width: int = 64, height: int = 32, mode: str = "RGB") -> Image.Image:
    """White, with a red quarter-height block at the top-left corner (to see orientation)."""
    image = Image.new("RGB", (width, height), "white")
    block = max(1, min(width, height) // 2)
    image.paste(RED, (0, 0, block, block))
    return image.convert(mode) if mode != "RGB" else image


def identifying_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15 Pro"
    exif[0x013B] = "Jane Smith"
    exif[0x8298] = "Jane Smith"
    exif[0x0131] = "17.1"
    exif[0x0132] = "2024:01:20 11:00:00"
    exif.get_ifd(EXIF_IFD)[0xA431] = "SERIAL-0042"  # BodySerialNumber
    exif.get_ifd(EXIF_IFD)[0x9003] = "2024:01:20 11:00:00"  # DateTimeOriginal
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (37.0, 46.0, 30.0)
    gps[3] = "W"
    gps[4] = (122.0, 25.0, 10.0)
    return exif


XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
       b'02/22-rdf-syntax-ns#"><rdf:Description exif:GPSLatitude="37,46.5N" '
       b'xmlns:exif="http://ns.adobe.com/exif/1.0/"/></rdf:RDF></x:xmpmeta>')


def jpeg_with_gps(width: int = 64, height: int = 32, orientation: int = 6) -> bytes:
    out = io.BytesIO()
    marked(width, height).save(out, "JPEG", quality=92, exif=identifying_exif(orientation),
                               comment=b"Jane Smith, DOB 1990-03-21", xmp=XMP)
    return out.getvalue()


def png(width: int = 64, height: int = 32, mode: str = "RGB") -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Smith")
    info.add_itxt("Comment", "Taken at 456 Oak Ave")
    out = io.BytesIO()
    marked(width, height, mode).save(out, "PNG", pnginfo=info,
                                     exif=identifying_exif(orientation=1))
    return out.getvalue()


def tiff(width: int = 64, height: int = 32, orientation: int = 1) -> bytes:
    out = io.BytesIO()
    marked(width, height).save(out, "TIFF", tiffinfo={
        ORIENTATION: orientation, 0x013B: "Jane Smith", 0x010F: "Canon",
        0x0110: "EOS R5", 0x013C: "clinic-pc-7", 700: XMP})
    return out.getvalue()


def heic(width: int = 64, height: int = 32, orientation: int = 1) -> bytes:
    out = io.BytesIO()
    marked(width, height).save(out, "HEIF", quality=90,
                               exif=identifying_exif(orientation).tobytes(), xmp=XMP)
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


def open_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def is_red(pixel: object) -> bool:
    assert isinstance(pixel, tuple)
    r, g, b = pixel[:3]
    return bool(r > 200 and g < 80 and b < 80)


def is_white(pixel: object) -> bool:
    assert isinstance(pixel, tuple)
    return all(v > 200 for v in pixel[:3])
